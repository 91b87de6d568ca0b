{#- The role hierarchy as a SELECT (role_name, granted_to): role_name is granted to granted_to. -#}
{% macro role_grants_select(library) %}
  {%- set rows = [] -%}
  {%- for name, role in library.roles.items() -%}
    {%- for parent in (role or {}).get('inherits') or [] -%}
      {%- do rows.append('(' ~ data_mesh.sql_string(parent | upper) ~ ', ' ~ data_mesh.sql_string(name | upper) ~ ')') -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- if rows -%}
    {{- return('select cast(role_name as varchar) as role_name, cast(granted_to as varchar) as granted_to from (values ' ~ rows | join(', ') ~ ') as grants (role_name, granted_to)') -}}
  {%- else -%}
    {{- return('select cast(null as varchar) as role_name, cast(null as varchar) as granted_to where 1 = 0') -}}
  {%- endif -%}
{% endmacro %}
