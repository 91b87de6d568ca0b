{#- The layout arguments to forward to dbt-duckdb's macro: only those given, as dbt-duckdb 1.11 added them and
    1.10's macro takes no `partitioned_by` nor `sorted_by` (dbt-duckdb 1.10 never passes them either). -#}
{% macro table_layout(partitioned_by, sorted_by) %}
  {%- set layout = {} -%}
  {%- if partitioned_by is not none -%}{%- do layout.update({'partitioned_by': partitioned_by}) -%}{%- endif -%}
  {%- if sorted_by is not none -%}{%- do layout.update({'sorted_by': sorted_by}) -%}{%- endif -%}
  {{ return(layout) }}
{% endmacro %}
