{#-
  dbt's own macro (namespace `dbt`), overridden for Snowflake: a governed table whose row access policy or tags are
  created inline says `copy grants` before them. CREATE TABLE takes COPY GRANTS before COMMENT, ROW ACCESS POLICY
  and TAG (https://docs.snowflake.com/en/sql-reference/sql/create-table), and WITH TAG before COPY GRANTS is a
  syntax error (dbt-labs/dbt-adapters#1960), while dbt-snowflake writes `copy grants` after the column list our
  contract DDL (get_table_columns_and_constraints) ends with those clauses. Every other CREATE TABLE (temporary,
  Python, ungoverned, Iceberg, recording mode, or a model with dbt-snowflake's own `row_access_policy` /
  `table_tag` configs) keeps dbt-snowflake's statement. Domains reach this through their dispatch config
  (`dispatch: [{macro_namespace: dbt, search_order: [<domain>, data_mesh, dbt]}]`).
-#}
{% macro snowflake__create_table_as(temporary, relation, compiled_code, language='sql') -%}
  {%- set contracted = execute and not temporary and language == 'sql' and model.resource_type == 'model' and config.get('contract').enforced -%}
  {%- set gov = data_mesh.model_governance(model) if contracted else none -%}
  {%- set table_clauses = data_mesh.snowflake__inline_table_protection(gov) if gov is not none else '' -%}
  {%- set catalog_relation = adapter.build_catalog_relation(config.model) if table_clauses else none -%}
  {%- if not table_clauses or data_mesh.recording() or catalog_relation.catalog_type != 'INFO_SCHEMA'
        or config.get('row_access_policy') or config.get('table_tag') -%}
    {{- dbt.snowflake__create_table_as(temporary, relation, compiled_code, language) -}}
  {%- else -%}
    {{- get_assert_columns_equivalent(compiled_code) -}}
    {%- set query = get_select_subquery(compiled_code) -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    create or replace {{ 'transient ' if catalog_relation.is_transient }}table {{ relation }}
    {{ data_mesh.governed_columns_ddl(model, relation, gov, copy_grants=config.get('copy_grants', default=false)) }}
    as (
      {%- if catalog_relation.cluster_by is not none %}
      select * from (
        {{ query }}
      )
      order by ({{ catalog_relation.cluster_by }})
      {%- else %}
      {{ query }}
      {%- endif %}
    );
    {% if catalog_relation.cluster_by is not none -%}
    alter table {{ relation }} cluster by ({{ catalog_relation.cluster_by }});
    {%- endif -%}
    {% if catalog_relation.automatic_clustering and catalog_relation.cluster_by is not none %}
    alter table {{ relation }} resume recluster;
    {%- endif -%}
  {%- endif -%}
{%- endmacro %}
