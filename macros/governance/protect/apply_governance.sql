{#-
  post-hook of every domain model: protect the relation the model just built, with the statements of
  protection_statements(). Snowflake runs them through run_governance (recorded instead on fakesnow); DuckDB
  runs them as they are.
-#}
{% macro apply_governance() %}
  {%- if not execute or model.resource_type != 'model' -%}{{ return('') }}{%- endif -%}
  {%- set gov = data_mesh.model_governance(model) -%}
  {{ return(adapter.dispatch('apply_governance', 'data_mesh')(model, gov)) }}
{% endmacro %}

{% macro default__apply_governance(node, gov) %}{{ return('') }}{% endmacro %}

{% macro snowflake__apply_governance(node, gov) %}
  {%- for statement in data_mesh.protection_statements(node, this, gov) -%}
    {%- do data_mesh.run_governance(statement) -%}
  {%- endfor -%}
  {{ return('') }}
{% endmacro %}

{% macro duckdb__apply_governance(node, gov) %}
  {%- for statement in data_mesh.protection_statements(node, this, gov) -%}
    {%- do run_query(statement) -%}
  {%- endfor -%}
  {{ return('') }}
{% endmacro %}
