{#- A comma-separated list of SQL literals for `values`: strings quoted, none as null. -#}
{% macro sql_values(values) %}
  {%- set parts = [] -%}
  {%- for value in values -%}
    {%- do parts.append('null' if value is none else data_mesh.sql_string(value)) -%}
  {%- endfor -%}
  {{ return(parts | join(', ')) }}
{% endmacro %}
