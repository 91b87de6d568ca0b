{#- A SELECT of (case_name, actual) rows, one per (name, text) case; an empty text reads `(empty)`. -#}
{% macro cases_select(cases) %}
  {%- set rows = [] -%}
  {%- for name, text in cases -%}
    {%- do rows.append('(' ~ data_mesh.sql_string(name) ~ ', ' ~ data_mesh.sql_string(text if text | string else '(empty)') ~ ')') -%}
  {%- endfor -%}
  select cast(case_name as varchar) as case_name, cast(actual as varchar) as actual
  from (values {{ rows | join(',\n    ') }}) as cases (case_name, actual)
{% endmacro %}
