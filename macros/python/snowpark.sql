{#-
  Python models on DuckDB are dbt-snowflake's Snowpark models: `def model(dbt, session)` returning a Snowpark
  DataFrame. dbt-duckdb would call them with a DuckDB connection; `snowpark_create_table_as`, called by the
  package's one override of dbt-duckdb's `duckdb__create_table_as` (macros/governance/protect/create_table_as.sql)
  for every Python model, keeps dbt-duckdb's module (and its `materialize`), prepends one line that imports Snowpark
  safely across dbt's threads and appends one that wraps `model` with
  `mesh_cli.engines.snowpark_local.snowpark_model`, which runs it on Snowpark's local testing session and
  returns the result as a DuckDB relation. The table materialization, its post-hooks (governance) and grants
  then run as for any model. SQL models go to dbt-duckdb's macro unchanged. Domains reach this through their
  dispatch config (`dispatch: [{macro_namespace: dbt, search_order: [<domain>, data_mesh, dbt]}]`).
  See docs/snowpark.md.
-#}
{% macro snowpark_create_table_as(temporary, relation, compiled_code, partitioned_by=none, sorted_by=none) -%}
  {%- set code = dbt.duckdb__create_table_as(temporary, relation, compiled_code, 'python', **data_mesh.table_layout(partitioned_by, sorted_by)) -%}
  {%- set module = data_mesh.snowpark_guard_line() ~ '\n' ~ code -%}
  {%- set line_offset = -(module[:module.find(compiled_code)].count('\n')) -%}
  {{- return(module ~ '\n\n' ~ data_mesh.snowpark_local_wrapper(model, line_offset)) -}}
{%- endmacro %}

{#- The module's first line: Snowpark imported by one model thread at a time, before the model's own imports
    (so a model whose first statement is `from __future__ import ...` cannot build on DuckDB: remove it). -#}
{% macro snowpark_guard_line() -%}
__import__('mesh_cli.engines.snowpark_guard', fromlist=['load']).load()  # data_mesh: docs/snowpark.md
{%- endmacro %}

{#- The line that turns the compiled module's `model` into a Snowpark model on the local session. -#}
{% macro snowpark_local_wrapper(node, line_offset) -%}
  {%- set columns = [] -%}
  {%- for name, column in node.columns.items() -%}
    {%- do columns.append([name, column.data_type]) -%}
  {%- endfor -%}
  {%- set info = {'name': node.package_name ~ '.' ~ node.name, 'path': node.original_file_path,
                  'line_offset': line_offset, 'columns': columns} -%}
# data_mesh: run the dbt-snowflake model on Snowpark's local testing session (docs/snowpark.md)
model = __import__('mesh_cli.engines.snowpark_guard', fromlist=['load']).load().snowpark_model(model, dbtObj, {{ info }})
{%- endmacro %}
