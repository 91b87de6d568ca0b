{#-
  Seeds typed for Snowflake (`+column_types: {order_id: "number(38,0)", ordered_at: timestamp_ntz}`) on DuckDB:
  each declared type is spelled the way a contracted table spells it (data_mesh.duckdb_contract_type: NUMBER(p,0)
  is BIGINT, TIMESTAMP_NTZ is TIMESTAMP, VARIANT is JSON; Snowflake's types and synonyms:
  https://docs.snowflake.com/en/sql-reference/intro-summary-data-types). A type DuckDB spells itself is left as
  written. Otherwise dbt's own default__create_csv_table (dbt/include/global_project/macros/materializations/seeds/
  helpers.sql), which dbt-duckdb uses; reached by dispatch like the contract macros beside it.
-#}

{% macro duckdb__create_csv_table(model, agate_table) %}
  {%- set column_override = model['config'].get('column_types', {}) or {} -%}
  {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}

  {% set sql %}
    create table {{ this.render() }} (
        {%- for col_name in agate_table.column_names -%}
            {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
            {%- set declared = column_override.get(col_name) -%}
            {%- set type = data_mesh.duckdb_contract_type(declared | string) if declared else inferred_type -%}
            {%- set column_name = (col_name | string) -%}
            {{ adapter.quote_seed_column(column_name, quote_seed_column) }} {{ type }} {%- if not loop.last -%}, {%- endif -%}
        {%- endfor -%}
    )
  {% endset %}

  {% call statement('_') -%}
    {{ sql }}
  {%- endcall %}

  {{ return(sql) }}
{% endmacro %}
