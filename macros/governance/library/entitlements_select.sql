{#- The entitlements mapping as a SELECT (role_name, dimension, value), from the library. -#}
{% macro entitlements_select(library=none) %}
  {%- set library = library or data_mesh.library() -%}
  {%- set rows = [] -%}
  {%- for entry in library.entitlements -%}
    {%- for value in entry['values'] -%}
      {%- do rows.append('(' ~ data_mesh.sql_string(entry.role | upper) ~ ', ' ~ data_mesh.sql_string(entry.dimension) ~ ', ' ~ data_mesh.sql_string(value) ~ ')') -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- if rows -%}
    {{- return('select cast(role_name as varchar) as role_name, cast(dimension as varchar) as dimension, cast(value as varchar) as value from (values ' ~ rows | join(', ') ~ ') as entitlements (role_name, dimension, value)') -}}
  {%- else -%}
    {{- return('select cast(null as varchar) as role_name, cast(null as varchar) as dimension, cast(null as varchar) as value where 1 = 0') -}}
  {%- endif -%}
{% endmacro %}
