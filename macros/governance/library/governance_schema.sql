{#- The schema of every domain database that holds its governance objects (tags, policies, entitlements). -#}
{% macro governance_schema() %}{{ return('governance') }}{% endmacro %}
