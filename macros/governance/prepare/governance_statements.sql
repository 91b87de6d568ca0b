{#- The idempotent statements that create the governance objects, for the target's engine. -#}
{% macro governance_statements(library) %}
  {{ return(adapter.dispatch('governance_statements', 'data_mesh')(library)) }}
{% endmacro %}

{#- Governance objects need tags and policies (Snowflake) or their emulation (DuckDB): no generic SQL exists. -#}
{% macro default__governance_statements(library) %}
  {{ return(data_mesh.unsupported_adapter('governance_statements')) }}
{% endmacro %}

{% macro snowflake__governance_statements(library) %}
  {%- set statements = ['create schema if not exists ' ~ target.database ~ '.' ~ data_mesh.governance_schema()] -%}
  {%- for name, tag in library.tags.items() -%}
    {%- set allowed_values = (tag or {}).get('allowed_values') or [] -%}
    {%- set sql = 'create tag if not exists ' ~ data_mesh.governance_object(name) -%}
    {%- if allowed_values -%}
      {%- set quoted = [] -%}
      {%- for value in allowed_values -%}{%- do quoted.append(data_mesh.sql_string(value)) -%}{%- endfor -%}
      {%- set sql = sql ~ ' allowed_values ' ~ quoted | join(', ') -%}
    {%- endif -%}
    {%- if (tag or {}).get('description') -%}
      {%- set sql = sql ~ ' comment = ' ~ data_mesh.sql_string(tag.description) -%}
    {%- endif -%}
    {%- do statements.append(sql) -%}
  {%- endfor -%}
  {%- for name, policy in library.masking_policies.items() -%}
    {%- do statements.append('create masking policy if not exists ' ~ data_mesh.governance_object(name) ~ ' as (' ~ data_mesh.policy_signature(policy) ~ ') returns ' ~ policy.returns ~ ' -> ' ~ data_mesh.snowflake__policy_body(policy) ~ (' comment = ' ~ data_mesh.sql_string(policy.description) if policy.get('description') else '')) -%}
  {%- endfor -%}
  {%- for name, policy in library.row_access_policies.items() -%}
    {%- do statements.append('create row access policy if not exists ' ~ data_mesh.governance_object(name) ~ ' as (' ~ data_mesh.policy_signature(policy) ~ ') returns boolean -> ' ~ data_mesh.snowflake__policy_body(policy) ~ (' comment = ' ~ data_mesh.sql_string(policy.description) if policy.get('description') else '')) -%}
  {%- endfor -%}
  {%- for name, tag in library.tags.items() -%}
    {%- for policy_name in (tag or {}).get('masking_policies') or [] -%}
      {%- do statements.append('alter tag ' ~ data_mesh.governance_object(name) ~ ' set masking policy ' ~ data_mesh.governance_object(policy_name) ~ ' force') -%}
    {%- endfor -%}
  {%- endfor -%}
  {{ return(statements) }}
{% endmacro %}

{#- The emulated context functions (https://docs.snowflake.com/en/sql-reference/functions/is_role_in_session,
    https://docs.snowflake.com/en/sql-reference/functions/is_database_role_in_session): account roles come from
    `mesh_roles` and the role closure; inside an emulated share session (`mesh_share` set) they are NULL, as
    CURRENT_ROLE is in a policy on a shared object; database roles come only from `mesh_database_roles`, the
    database roles of the share the session's roles were granted (none in a provider session: the tool grants its
    product database roles to shares, never to account roles). `mesh query` sets both to read an upstream's
    product across accounts (Engine.read_through_share); tests/test_governance_shared.py checks the rules. -#}
{% macro duckdb__governance_statements(library) %}
  {%- set schema = data_mesh.governance_schema() -%}
  {%- set statements = [
    'create schema if not exists ' ~ schema,
    'create schema if not exists mesh_protected',
    'create table if not exists ' ~ schema ~ '.mesh_provisioned_grants (role_name varchar, granted_to varchar)',
    'create or replace table ' ~ schema ~ '.mesh_role_grants as ' ~ data_mesh.role_grants_select(library)
      ~ ' union select role_name, granted_to from ' ~ schema ~ '.mesh_provisioned_grants',
    'create or replace view ' ~ schema ~ '.mesh_role_closure as with recursive closure (role_name, holder) as ('
      ~ ' select role_name, granted_to from ' ~ schema ~ '.mesh_role_grants'
      ~ ' union select c.role_name, g.granted_to from closure c join ' ~ schema ~ '.mesh_role_grants g on g.role_name = c.holder'
      ~ ') select role_name, holder from closure',
    'create table if not exists ' ~ schema ~ '.mesh_entitlements as ' ~ data_mesh.entitlements_select(library),
    'create or replace macro ' ~ schema ~ '.is_role_in_session(r) as (case when getvariable(\'mesh_share\') is not null then null else list_contains(coalesce(getvariable(\'mesh_roles\'), []::varchar[]), upper(r)) or exists (select 1 from ' ~ schema ~ '.mesh_role_closure c where c.role_name = upper(r) and list_contains(coalesce(getvariable(\'mesh_roles\'), []::varchar[]), c.holder)) end)',
    'create or replace macro ' ~ schema ~ '.is_database_role_in_session(r) as (list_contains(coalesce(getvariable(\'mesh_database_roles\'), []::varchar[]), upper(r)))',
    'create table if not exists ' ~ schema ~ '.tag_references (tag_database varchar, tag_schema varchar, tag_name varchar, tag_value varchar, object_database varchar, object_schema varchar, object_name varchar, domain varchar, column_name varchar)',
    'create table if not exists ' ~ schema ~ '.policy_references (policy_db varchar, policy_schema varchar, policy_name varchar, policy_kind varchar, ref_database_name varchar, ref_schema_name varchar, ref_entity_name varchar, ref_entity_domain varchar, ref_column_name varchar, ref_arg_column_names varchar, tag_name varchar, policy_status varchar)',
    'create or replace table ' ~ schema ~ '.tags as select * from (values ' ~ data_mesh._tag_rows(library) ~ ') as tags (tag_name, allowed_values, description)',
  ] -%}
  {%- for kind in ['masking_policies', 'row_access_policies'] -%}
    {%- for name, policy in library[kind].items() -%}
      {%- set arguments = policy.args | map(attribute='name') | join(', ') -%}
      {%- do statements.append('create or replace macro ' ~ schema ~ '.' ~ name ~ '(' ~ arguments ~ ') as (' ~ data_mesh.duckdb__policy_body(policy) ~ ')') -%}
    {%- endfor -%}
  {%- endfor -%}
  {{ return(statements) }}
{% endmacro %}

{% macro _tag_rows(library) %}
  {%- set rows = [] -%}
  {%- for name, tag in library.tags.items() -%}
    {%- do rows.append('(' ~ data_mesh.sql_string(name) ~ ', ' ~ data_mesh.sql_string(((tag or {}).get('allowed_values') or []) | join(',')) ~ ', ' ~ data_mesh.sql_string((tag or {}).get('description') or '') ~ ')') -%}
  {%- endfor -%}
  {{ return(rows | join(', ')) }}
{% endmacro %}
