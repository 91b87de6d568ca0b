{#- `dbt run-operation call_unsupported`: a macro without a generic implementation, as another engine would reach it. -#}
{% macro call_unsupported() %}
  {%- do data_mesh.default__governance_statements(data_mesh.library()) -%}
{% endmacro %}
