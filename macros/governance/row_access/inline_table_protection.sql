{#-
  The table-level protection rendered after the column list of CREATE TABLE: the row access policy and the
  table's tags, or '' when it has none. `gov` is the result of model_governance().
  Snowflake: https://docs.snowflake.com/en/sql-reference/sql/create-table (WITH ROW ACCESS POLICY, WITH TAG).
-#}
{% macro inline_table_protection(gov) %}
  {{- return(adapter.dispatch('inline_table_protection', 'data_mesh')(gov)) -}}
{% endmacro %}

{% macro default__inline_table_protection(gov) %}
  {{- return(data_mesh.unsupported_adapter('inline_table_protection')) -}}
{% endmacro %}

{% macro snowflake__inline_table_protection(gov) %}
  {%- set clauses = [] -%}
  {%- if gov.row_access -%}
    {%- do clauses.append('with row access policy ' ~ data_mesh.governance_object(gov.row_access.policy) ~ ' on (' ~ gov.row_access.columns | join(', ') ~ ')') -%}
  {%- endif -%}
  {%- if gov.tags -%}
    {%- do clauses.append('with tag (' ~ data_mesh.snowflake__tag_assignments(gov.tags) ~ ')') -%}
  {%- endif -%}
  {{- return(clauses | join('\n    ')) -}}
{% endmacro %}
