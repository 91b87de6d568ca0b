{#- Snowflake cannot replace a policy that is attached: change a changed body in place. -#}
{% macro sync_policy_bodies(library) %}
  {{ return(adapter.dispatch('sync_policy_bodies', 'data_mesh')(library)) }}
{% endmacro %}

{% macro default__sync_policy_bodies(library) %}{% endmacro %}

{% macro snowflake__sync_policy_bodies(library) %}
  {%- if data_mesh.recording() -%}{{ return('') }}{%- endif -%}
  {%- for kind, keyword in [('masking_policies', 'masking policy'), ('row_access_policies', 'row access policy')] -%}
    {%- for name, policy in library[kind].items() -%}
      {%- set wanted = data_mesh.snowflake__policy_body(policy) | trim -%}
      {%- set described = run_query('describe ' ~ keyword ~ ' ' ~ data_mesh.governance_object(name)) -%}
      {%- set current = (described.rows[0]['body'] if described and described.rows else '') | trim -%}
      {%- if current != wanted -%}
        {%- do run_query('alter ' ~ keyword ~ ' ' ~ data_mesh.governance_object(name) ~ ' set body -> ' ~ wanted) -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endfor -%}
{% endmacro %}
