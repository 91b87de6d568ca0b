{#- Run one statement of governance_statements(): Snowflake records its tags and policies on fakesnow. -#}
{% macro run_prepare_statement(statement) %}
  {{ return(adapter.dispatch('run_prepare_statement', 'data_mesh')(statement)) }}
{% endmacro %}

{% macro default__run_prepare_statement(statement) %}
  {%- do run_query(statement) -%}
{% endmacro %}

{% macro snowflake__run_prepare_statement(statement) %}
  {#- schemas are created for real; tags and policies go through run_governance (recordable) -#}
  {%- if statement.startswith('create schema') -%}
    {%- do run_query(statement) -%}
  {%- else -%}
    {%- do data_mesh.run_governance(statement) -%}
  {%- endif -%}
{% endmacro %}
