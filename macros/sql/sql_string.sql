{#- A SQL string literal of `value` (single quotes doubled); the same on every engine. -#}
{% macro sql_string(value) %}{{ return("'" ~ (value | string | replace("'", "''")) ~ "'") }}{% endmacro %}
