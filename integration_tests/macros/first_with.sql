{#- The first of `statements` that contains `text`, or '' when none does. -#}
{% macro first_with(statements, text) %}
  {%- for statement in statements if text in statement -%}{{ return(statement) }}{%- endfor -%}
  {{ return('') }}
{% endmacro %}
