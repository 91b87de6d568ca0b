{#-
  The statements that protect `relation`, freshly built by `node` (run by apply_governance, printed by
  `mesh governance plan`). `gov` is the result of model_governance().
  Snowflake: a table (governed_columns_ddl) and a view (create_view_as.sql) are created with their protection
  inline (https://docs.snowflake.com/en/sql-reference/sql/create-table, create-view). An incremental model is
  created once and then appended to: on every run its columns' masking policies are set again with FORCE (which
  replaces the one attached in one step) and its tags set again, so a policy or tag added to the YAML reaches the
  table at the next run, not at a full refresh (https://docs.snowflake.com/en/sql-reference/sql/alter-table,
  MODIFY COLUMN ... SET MASKING POLICY ... FORCE, SET TAG). Its row access policy is reconciled by
  snowflake__apply_governance, which reads the one attached. A policy or tag removed from the YAML stays until a
  full refresh: a run never widens access on its own.
  DuckDB: the clear rows live in the `mesh_protected` schema and the model's own name is a view that applies
  the masking macros and the row filter for the reading session's roles; tags and policy attachments are
  recorded in queryable tables shaped like Snowflake's TAG_REFERENCES and POLICY_REFERENCES. A governed table
  or incremental model was built straight into `mesh_protected` (create_table_as.sql), its view with it: the
  statement here re-states that view. A governed view's query moves to `mesh_protected` as a view.
-#}
{% macro protection_statements(node, relation, gov) %}
  {{ return(adapter.dispatch('protection_statements', 'data_mesh')(node, relation, gov)) }}
{% endmacro %}

{% macro default__protection_statements(node, relation, gov) %}
  {{ return(data_mesh.unsupported_adapter('protection_statements')) }}
{% endmacro %}

{% macro snowflake__protection_statements(node, relation, gov) %}
  {%- set statements = [] -%}
  {%- if node.config.materialized != 'incremental' -%}{{ return(statements) }}{%- endif -%}
  {%- if gov.tags -%}
    {%- do statements.append('alter table ' ~ relation ~ ' set tag ' ~ data_mesh.snowflake__tag_assignments(gov.tags)) -%}
  {%- endif -%}
  {%- for name, entry in gov.columns.items() -%}
    {%- if entry.masking and not entry.masking.get('via_tag') -%}
      {%- set using = (' using (' ~ entry.masking.using | join(', ') ~ ')') if entry.masking.using | length > 1 else '' -%}
      {%- do statements.append('alter table ' ~ relation ~ ' modify column ' ~ name ~ ' set masking policy ' ~ data_mesh.governance_object(entry.masking.policy) ~ using ~ ' force') -%}
    {%- endif -%}
    {%- if entry.tags -%}
      {%- do statements.append('alter table ' ~ relation ~ ' modify column ' ~ name ~ ' set tag ' ~ data_mesh.snowflake__tag_assignments(entry.tags)) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(statements) }}
{% endmacro %}

{#- The statement that makes `relation`'s row access policy the one `gov` declares, given the one attached
    (`attached`: {policy: qualified upper-case name, columns: [upper-case names]} or none): none when it is already,
    ADD when none is, else DROP and ADD in one statement, so the table is never without a policy
    (https://docs.snowflake.com/en/sql-reference/sql/alter-table, row access policy actions). -#}
{% macro snowflake__row_access_statement(relation, gov, attached) %}
  {%- if not gov.row_access -%}{{ return(none) }}{%- endif -%}
  {%- set policy = data_mesh.governance_object(gov.row_access.policy) -%}
  {%- set add = 'add row access policy ' ~ policy ~ ' on (' ~ gov.row_access.columns | join(', ') ~ ')' -%}
  {%- if attached is none -%}{{ return('alter table ' ~ relation ~ ' ' ~ add) }}{%- endif -%}
  {%- if attached.policy == policy | upper and attached.columns == gov.row_access.columns | map('upper') | list -%}
    {{ return(none) }}
  {%- endif -%}
  {{ return('alter table ' ~ relation ~ ' drop row access policy ' ~ attached.policy ~ ', ' ~ add) }}
{% endmacro %}

{% macro duckdb__protection_statements(node, relation, gov) %}
  {%- set schema = data_mesh.governance_schema() -%}
  {%- set domain = 'VIEW' if node.config.materialized == 'view' else 'TABLE' -%}
  {%- set statements = [
    'delete from ' ~ schema ~ '.tag_references where object_schema = ' ~ data_mesh.sql_string(relation.schema) ~ ' and object_name = ' ~ data_mesh.sql_string(relation.identifier),
    'delete from ' ~ schema ~ '.policy_references where ref_schema_name = ' ~ data_mesh.sql_string(relation.schema) ~ ' and ref_entity_name = ' ~ data_mesh.sql_string(relation.identifier),
  ] -%}
  {%- for tag, value in gov.tags.items() -%}
    {%- do statements.append(data_mesh._tag_reference(relation, tag, value, domain, none)) -%}
  {%- endfor -%}
  {%- for name, entry in gov.columns.items() -%}
    {%- for tag, value in entry.tags.items() -%}
      {%- do statements.append(data_mesh._tag_reference(relation, tag, value, 'COLUMN', name)) -%}
    {%- endfor -%}
    {%- if entry.masking -%}
      {%- do statements.append(data_mesh._policy_reference(relation, entry.masking.policy, 'MASKING_POLICY', domain, name, entry.masking.using[1:], entry.masking.get('via_tag'))) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if gov.row_access -%}
    {%- do statements.append(data_mesh._policy_reference(relation, gov.row_access.policy, 'ROW_ACCESS_POLICY', domain, none, gov.row_access.columns, none)) -%}
  {%- endif -%}
  {%- if gov.governed -%}
    {%- set protected = data_mesh.protected_name(relation) -%}
    {%- if domain == 'VIEW' -%}
      {%- do statements.append('create or replace view ' ~ protected ~ ' as ' ~ node.compiled_code) -%}
      {%- do statements.append('drop view ' ~ relation) -%}
      {%- do statements.append(data_mesh.governed_view_sql(node, relation, relation, gov, 'create view')) -%}
    {%- else -%}
      {%- do statements.append(data_mesh.governed_view_sql(node, relation, relation, gov, 'create or replace view')) -%}
    {%- endif -%}
  {%- endif -%}
  {{ return(statements) }}
{% endmacro %}

{% macro _tag_reference(relation, tag, value, domain, column_name) %}
  {%- set values = [relation.database, data_mesh.governance_schema(), tag, value, relation.database, relation.schema, relation.identifier, domain, column_name] -%}
  {{ return('insert into ' ~ data_mesh.governance_schema() ~ '.tag_references values (' ~ data_mesh.sql_values(values) ~ ')') }}
{% endmacro %}

{% macro _policy_reference(relation, policy, kind, domain, column_name, arguments, tag_name) %}
  {%- set values = [relation.database, data_mesh.governance_schema(), policy, kind, relation.database, relation.schema, relation.identifier, domain, column_name, (arguments | join(',')) or none, tag_name, 'ACTIVE'] -%}
  {{ return('insert into ' ~ data_mesh.governance_schema() ~ '.policy_references values (' ~ data_mesh.sql_values(values) ~ ')') }}
{% endmacro %}

{#- The clear relation of a governed model, as its governed view names it: `mesh_protected."<schema>__<name>"`. -#}
{% macro protected_name(relation) %}
  {{ return('mesh_protected.' ~ adapter.quote(relation.schema ~ '__' ~ relation.identifier)) }}
{% endmacro %}

{#- `<verb> <view> as select ...`: the governed view of `node` at `view`, masking its columns and filtering the rows
    of the protected relation of `model_relation` (the model's own relation; `view` may be dbt's swap-in for it). -#}
{% macro governed_view_sql(node, view, model_relation, gov, verb) %}
  {%- set schema = data_mesh.governance_schema() -%}
  {%- set columns = [] -%}
  {%- for name in node.columns -%}
    {%- set entry = gov.columns[name] -%}
    {%- if entry.masking -%}
      {%- do columns.append(schema ~ '.' ~ entry.masking.policy ~ '(' ~ entry.masking.using | join(', ') ~ ') as ' ~ adapter.quote(name)) -%}
    {%- else -%}
      {%- do columns.append(adapter.quote(name)) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- set filter = (' where ' ~ schema ~ '.' ~ gov.row_access.policy ~ '(' ~ gov.row_access.columns | join(', ') ~ ')') if gov.row_access else '' -%}
  {{ return(verb ~ ' ' ~ view ~ ' as select ' ~ columns | join(', ') ~ ' from ' ~ data_mesh.protected_name(model_relation) ~ filter) }}
{% endmacro %}
