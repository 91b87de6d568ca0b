{#- What `mesh governance plan` shows for one governed model: how it is created and protected on the target. -#}
{% macro model_plan(node, relation, gov) %}
  {{ return(adapter.dispatch('model_plan', 'data_mesh')(node, relation, gov)) }}
{% endmacro %}

{% macro default__model_plan(node, relation, gov) %}{{ return([]) }}{% endmacro %}

{% macro duckdb__model_plan(node, relation, gov) %}
  {{ return(data_mesh.protection_statements(node, relation, gov)) }}
{% endmacro %}

{#- Snowflake: the CREATE of each run, with `copy grants` for `copy_grants: true` where the statement that runs
    puts it (snowflake__create_table_as, snowflake__create_view_as); an
    incremental model's statements of every later run follow (its row access policy as ADD: the run reads the one
    attached and adds, swaps or leaves it, snowflake__row_access_statement). -#}
{% macro snowflake__model_plan(node, relation, gov) %}
  {%- set copy_grants = ' copy grants' if node.config.get('copy_grants') else '' -%}
  {%- if node.config.materialized == 'view' -%}
    {%- if data_mesh.protects_view(gov) -%}   {#- the declared columns stand for the query's (upper case, as unquoted) -#}
      {{ return([data_mesh.governed_view_ddl(node, relation, gov, node.columns.keys() | map('upper') | list) ~ '\nas (...)']) }}
    {%- endif -%}
    {{ return(['create or replace ' ~ ('secure ' if node.config.get('secure') else '') ~ 'view ' ~ relation ~ copy_grants ~ ' as (...)']) }}
  {%- elif node.config.materialized in ['table', 'incremental'] and node.config.contract.enforced -%}
    {%- set transient = '' if node.config.get('transient') == false else 'transient ' -%}
    {%- set row_access = data_mesh.snowflake__row_access_statement(relation, gov, none) if node.config.materialized == 'incremental' else none -%}
    {{ return(['create or replace ' ~ transient ~ 'table ' ~ relation ~ ' ' ~ data_mesh.snowflake__governed_columns_ddl(node, relation, gov, copy_grants=node.config.get('copy_grants')) ~ '\nas (...)']
              + data_mesh.snowflake__protection_statements(node, relation, gov) + ([row_access] if row_access else [])) }}
  {%- else -%}
    {{ exceptions.raise_compiler_error(node.original_file_path ~ ": " ~ node.name ~ " is governed but is a " ~ node.config.materialized ~ " without an enforced contract; governed tables need `contract: {enforced: true}` so their protection is created inline") }}
  {%- endif -%}
{% endmacro %}
