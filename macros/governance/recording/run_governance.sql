{#- Run a governance statement, or record it (log line prefixed `data_mesh:governance`) in recording mode. -#}
{% macro run_governance(sql) %}
  {%- if data_mesh.recording() -%}
    {%- do log('data_mesh:governance ' ~ sql | replace('\n', ' '), info=true) -%}
  {%- else -%}
    {%- do run_query(sql) -%}
  {%- endif -%}
{% endmacro %}
