{#-
  on-run-start: validate every model's governance configuration, then create the governance objects the
  models need, before any model builds. Each domain database carries its own `governance` schema, so that a
  shared database is self-contained (a policy on a shared object must not read another database).
-#}
{% macro prepare_governance() %}
  {%- if not execute -%}{{ return('') }}{%- endif -%}
  {%- set library = data_mesh.library() -%}
  {%- do data_mesh.validate_all(library) -%}
  {%- for statement in data_mesh.governance_statements(library) -%}
    {%- do data_mesh.run_prepare_statement(statement) -%}
  {%- endfor -%}
  {%- do data_mesh.sync_policy_bodies(library) -%}
  {%- do data_mesh.sync_tags(library) -%}
  {%- do data_mesh.cache_governance_relations() -%}
  {{ return('') }}
{% endmacro %}
