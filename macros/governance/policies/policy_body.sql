{#-
  The body of a library policy on the target's engine. Library bodies are Snowflake SQL over the policy's
  arguments; `@entitlements` stands for the entitlements table of the policy's database.
-#}
{% macro policy_body(policy) %}
  {{- return(adapter.dispatch('policy_body', 'data_mesh')(policy)) -}}
{% endmacro %}

{% macro default__policy_body(policy) %}
  {{- return(data_mesh.unsupported_adapter('policy_body')) -}}
{% endmacro %}

{% macro snowflake__policy_body(policy) %}
  {{- return(policy.body | replace('@entitlements', data_mesh.governance_object('mesh_entitlements'))) -}}
{% endmacro %}

{#- DuckDB runs the body as a DuckDB macro (or `body_duckdb` where it needs another function). The two role
    checks stay two functions, as on Snowflake: `governance.is_role_in_session` (account roles, NULL in a share
    session) and `governance.is_database_role_in_session` (the database roles of the session). -#}
{% macro duckdb__policy_body(policy) %}
  {%- set body = policy.get('body_duckdb') or policy.body -%}
  {%- set body = body | replace('is_database_role_in_session(', '@database_role_check(') | replace('is_role_in_session(', '@role_check(') -%}
  {%- set body = body | replace('@role_check(', data_mesh.governance_schema() ~ '.is_role_in_session(') -%}
  {%- set body = body | replace('@database_role_check(', data_mesh.governance_schema() ~ '.is_database_role_in_session(') -%}
  {{- return(body | replace('@entitlements', data_mesh.governance_schema() ~ '.mesh_entitlements')) -}}
{% endmacro %}
