{#- Tell dbt's relation cache about the governance relations prepare_governance created (where it needs to). -#}
{% macro cache_governance_relations() %}
  {{ return(adapter.dispatch('cache_governance_relations', 'data_mesh')()) }}
{% endmacro %}

{% macro default__cache_governance_relations() %}{% endmacro %}

{#- The entitlements table exists from here on (the row access macros read it): tell dbt's relation cache,
    which was filled before this hook, so the mesh_entitlements model replaces it instead of colliding. -#}
{% macro duckdb__cache_governance_relations() %}
  {%- do adapter.cache_added(api.Relation.create(database=target.database, schema=data_mesh.governance_schema(),
                                                 identifier='mesh_entitlements', type='table')) -%}
{% endmacro %}
