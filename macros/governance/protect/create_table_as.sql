{#-
  dbt's own macro (namespace `dbt`), overridden for DuckDB: a governed SQL table or incremental model is built
  straight into protected storage, `mesh_protected.<schema>__<name>`, and the relation the materialization
  asked for (the model's own name, or dbt's `__dbt_tmp` relation it swaps in) becomes the governed view over it.
  The clear rows are written once: no copy after the build, no second copy on disk. Everything else (contract
  checks and constraints, temporary tables of incremental runs, ungoverned models, other engines) keeps
  dbt-duckdb's own macro; a Python model is a Snowpark model (macros/python/snowpark.sql). This is the package's
  only override of `duckdb__create_table_as`. Domains reach this through their dispatch config
  (`dispatch: [{macro_namespace: dbt, search_order: [<domain>, data_mesh, dbt]}]`).
-#}
{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none) -%}
  {%- if data_mesh.builds_protected(temporary, relation, language) -%}
    {%- set protected = data_mesh.protected_relation(this) -%}
    drop table if exists {{ protected }};
    {{ dbt.duckdb__create_table_as(false, protected, compiled_code, language, **data_mesh.table_layout(partitioned_by, sorted_by)) }};
    {{ data_mesh.governed_view_sql(model, relation, this, data_mesh.model_governance(model), 'create view') }}
  {%- elif language == 'python' -%}
    {{ data_mesh.snowpark_create_table_as(temporary, relation, compiled_code, **data_mesh.table_layout(partitioned_by, sorted_by)) }}
  {%- else -%}
    {{ dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, **data_mesh.table_layout(partitioned_by, sorted_by)) }}
  {%- endif -%}
{%- endmacro %}

{#- Whether this CREATE TABLE builds a governed model's own rows: the model's relation or dbt's swap-in for it. -#}
{% macro builds_protected(temporary, relation, language) %}
  {%- if temporary or language != 'sql' or not execute or model.resource_type != 'model'
        or model.config.materialized not in ['table', 'incremental'] -%}
    {{ return(false) }}
  {%- endif -%}
  {%- set intermediate = make_intermediate_relation(this) -%}
  {%- set ours = relation.schema == this.schema and relation.identifier in [this.identifier, intermediate.identifier] -%}
  {{ return(ours and data_mesh.model_governance(model).governed) }}
{% endmacro %}

{#- Where the clear rows of a governed model live: `mesh_protected.<schema>__<name>` in the model's database. -#}
{% macro protected_relation(relation) %}
  {{ return(api.Relation.create(database=relation.database, schema='mesh_protected',
                                identifier=relation.schema ~ '__' ~ relation.identifier, type='table')) }}
{% endmacro %}
