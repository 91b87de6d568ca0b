{#-
  post-hook of every domain model: protect the relation the model just built, with the statements of
  protection_statements(). Snowflake runs them through run_governance (recorded instead on fakesnow); DuckDB
  runs them as they are.
-#}
{% macro apply_governance() %}
  {%- if not execute or model.resource_type != 'model' -%}{{ return('') }}{%- endif -%}
  {%- set gov = data_mesh.model_governance(model) -%}
  {{ return(adapter.dispatch('apply_governance', 'data_mesh')(model, gov)) }}
{% endmacro %}

{% macro default__apply_governance(node, gov) %}{{ return('') }}{% endmacro %}

{% macro snowflake__apply_governance(node, gov) %}
  {%- for statement in data_mesh.protection_statements(node, this, gov) -%}
    {%- do data_mesh.run_governance(statement) -%}
  {%- endfor -%}
  {%- if node.config.materialized == 'incremental' and gov.row_access -%}
    {%- set attached = none if data_mesh.recording() else data_mesh.attached_row_access(this) -%}
    {%- set statement = data_mesh.snowflake__row_access_statement(this, gov, attached) -%}
    {%- if statement -%}{%- do data_mesh.run_governance(statement) -%}{%- endif -%}
  {%- endif -%}
  {{ return('') }}
{% endmacro %}

{#- The row access policy attached to `relation` on Snowflake, from INFORMATION_SCHEMA.POLICY_REFERENCES
    (https://docs.snowflake.com/en/sql-reference/functions/policy_references): {policy, columns} or none. -#}
{% macro attached_row_access(relation) %}
  {%- set found = run_query('select policy_db || ' ~ data_mesh.sql_string('.') ~ ' || policy_schema || '
      ~ data_mesh.sql_string('.') ~ ' || policy_name as "policy", ref_arg_column_names as "columns" from table('
      ~ relation.database ~ '.information_schema.policy_references(ref_entity_name => '
      ~ data_mesh.sql_string(relation | string) ~ ', ref_entity_domain => ' ~ data_mesh.sql_string('table')
      ~ ')) where policy_kind = ' ~ data_mesh.sql_string('ROW_ACCESS_POLICY')) -%}
  {%- set row = found.rows[0] if found and found.rows | length > 0 else {} -%}
  {%- if not row.get('policy') -%}{{ return(none) }}{%- endif -%}
  {{ return({'policy': row.get('policy') | upper,
             'columns': (fromjson(row.get('columns')) if row.get('columns') else []) | map('upper') | list}) }}
{% endmacro %}

{#- A governed table normally arrives built into mesh_protected with its view (create_table_as.sql); one whose
    clear rows are still at the model's name (a Python model; an incremental model governed after its first
    build, appended to in place) has them moved there first, once. -#}
{% macro duckdb__apply_governance(node, gov) %}
  {%- if gov.governed and node.config.materialized != 'view' and data_mesh._is_base_table(this) -%}
    {%- do run_query('create or replace table ' ~ data_mesh.protected_name(this) ~ ' as select * from ' ~ this) -%}
    {%- do run_query('drop table ' ~ this) -%}
  {%- endif -%}
  {%- for statement in data_mesh.protection_statements(node, this, gov) -%}
    {%- do run_query(statement) -%}
  {%- endfor -%}
  {{ return('') }}
{% endmacro %}

{% macro _is_base_table(relation) %}
  {%- set found = run_query('select 1 from information_schema.tables where table_type = ' ~ data_mesh.sql_string('BASE TABLE') ~ ' and table_catalog = '
      ~ data_mesh.sql_string(relation.database) ~ ' and table_schema = ' ~ data_mesh.sql_string(relation.schema)
      ~ ' and table_name = ' ~ data_mesh.sql_string(relation.identifier)) -%}
  {{ return(found.rows | length > 0) }}
{% endmacro %}
