{#- A SQL string literal holding exactly `value`, by the engine's rule (mesh_cli/core/sql_literals.py writes the
    same in Python). Snowflake reads a backslash in a single-quoted string constant as the start of an escape
    sequence (https://docs.snowflake.com/en/sql-reference/data-types-text#escape-sequences-in-single-quoted-string-constants):
    it is doubled there, so `C:\masks\` stays itself and a trailing backslash cannot swallow the closing quote.
    DuckDB reads standard SQL strings, where only the quote is doubled. -#}
{% macro sql_string(value) %}{{ return(adapter.dispatch('sql_string', 'data_mesh')(value)) }}{% endmacro %}

{% macro default__sql_string(value) %}{{ return("'" ~ (value | string | replace("'", "''")) ~ "'") }}{% endmacro %}

{% macro snowflake__sql_string(value) -%}
  {{ return("'" ~ (value | string | replace('\\', '\\\\') | replace("'", "''")) ~ "'") }}
{%- endmacro %}
