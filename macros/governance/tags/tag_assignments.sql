{#- The `tag = 'value', ...` list of a WITH TAG clause for `tags` ({tag: value}). Only Snowflake has tag objects. -#}
{% macro tag_assignments(tags) %}
  {{- return(adapter.dispatch('tag_assignments', 'data_mesh')(tags)) -}}
{% endmacro %}

{% macro default__tag_assignments(tags) %}
  {{- return(data_mesh.unsupported_adapter('tag_assignments')) -}}
{% endmacro %}

{% macro snowflake__tag_assignments(tags) %}
  {%- set parts = [] -%}
  {%- for tag, value in tags.items() -%}
    {%- do parts.append(data_mesh.governance_object(tag) ~ ' = ' ~ data_mesh.sql_string(value)) -%}
  {%- endfor -%}
  {{- return(parts | join(', ')) -}}
{% endmacro %}
