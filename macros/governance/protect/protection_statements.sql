{#-
  The statements that protect `relation`, freshly built by `node` (run by apply_governance, printed by
  `mesh governance plan`). `gov` is the result of model_governance().
  Snowflake: a table was created with its protection inline (governed_columns_ddl), so nothing; a view gets its
  own here, with FORCE, since CREATE OR REPLACE VIEW drops what was attached
  (https://docs.snowflake.com/en/sql-reference/sql/alter-view).
  DuckDB: the clear rows move to the `mesh_protected` schema and the model's own name becomes a view that
  applies the masking macros and the row filter for the reading session's roles; tags and policy attachments
  are recorded in queryable tables shaped like Snowflake's TAG_REFERENCES and POLICY_REFERENCES.
-#}
{% macro protection_statements(node, relation, gov) %}
  {{ return(adapter.dispatch('protection_statements', 'data_mesh')(node, relation, gov)) }}
{% endmacro %}

{% macro default__protection_statements(node, relation, gov) %}
  {{ return(data_mesh.unsupported_adapter('protection_statements')) }}
{% endmacro %}

{% macro snowflake__protection_statements(node, relation, gov) %}
  {%- set statements = [] -%}
  {%- if node.config.materialized != 'view' -%}{{ return(statements) }}{%- endif -%}
  {%- if gov.row_access -%}
    {%- do statements.append('alter view ' ~ relation ~ ' drop all row access policies') -%}
    {%- do statements.append('alter view ' ~ relation ~ ' add row access policy ' ~ data_mesh.governance_object(gov.row_access.policy) ~ ' on (' ~ gov.row_access.columns | join(', ') ~ ')') -%}
  {%- endif -%}
  {%- for tag, value in gov.tags.items() -%}
    {%- do statements.append('alter view ' ~ relation ~ ' set tag ' ~ data_mesh.governance_object(tag) ~ ' = ' ~ data_mesh.sql_string(value)) -%}
  {%- endfor -%}
  {%- for name, entry in gov.columns.items() -%}
    {%- if entry.masking and not entry.masking.get('via_tag') -%}
      {%- set using = (' using (' ~ entry.masking.using | join(', ') ~ ')') if entry.masking.using | length > 1 else '' -%}
      {%- do statements.append('alter view ' ~ relation ~ ' modify column ' ~ name ~ ' set masking policy ' ~ data_mesh.governance_object(entry.masking.policy) ~ using ~ ' force') -%}
    {%- endif -%}
    {%- for tag, value in entry.tags.items() -%}
      {%- do statements.append('alter view ' ~ relation ~ ' modify column ' ~ name ~ ' set tag ' ~ data_mesh.governance_object(tag) ~ ' = ' ~ data_mesh.sql_string(value)) -%}
    {%- endfor -%}
  {%- endfor -%}
  {{ return(statements) }}
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
    {%- set protected = 'mesh_protected.' ~ adapter.quote(relation.schema ~ '__' ~ relation.identifier) -%}
    {%- if domain == 'TABLE' -%}
      {%- do statements.append('create or replace table ' ~ protected ~ ' as select * from ' ~ relation) -%}
      {%- do statements.append('drop table ' ~ relation) -%}
    {%- else -%}
      {%- do statements.append('create or replace view ' ~ protected ~ ' as ' ~ node.compiled_code) -%}
      {%- do statements.append('drop view ' ~ relation) -%}
    {%- endif -%}
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
    {%- do statements.append('create view ' ~ relation ~ ' as select ' ~ columns | join(', ') ~ ' from ' ~ protected ~ filter) -%}
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
