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
  {{ return('') }}
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
