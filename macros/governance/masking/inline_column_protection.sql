{#-
  The inline protection of one contracted column in CREATE TABLE: its masking policy (`using` the extra columns
  a conditional policy reads) and its tags, or '' when it has none. `entry` is a column of model_governance().
  Snowflake: https://docs.snowflake.com/en/sql-reference/sql/create-table (WITH MASKING POLICY, WITH TAG).
  A tag-based masking (`via_tag`) is attached through the tag, not here.
-#}
{% macro inline_column_protection(name, entry) %}
  {{- return(adapter.dispatch('inline_column_protection', 'data_mesh')(name, entry)) -}}
{% endmacro %}

{% macro default__inline_column_protection(name, entry) %}
  {{- return(data_mesh.unsupported_adapter('inline_column_protection')) -}}
{% endmacro %}

{% macro snowflake__inline_column_protection(name, entry) %}
  {%- set clauses = [] -%}
  {%- if entry.masking and not entry.masking.get('via_tag') -%}
    {%- set clause = 'with masking policy ' ~ data_mesh.governance_object(entry.masking.policy) -%}
    {%- if entry.masking.using | length > 1 -%}
      {%- set clause = clause ~ ' using (' ~ entry.masking.using | join(', ') ~ ')' -%}
    {%- endif -%}
    {%- do clauses.append(clause) -%}
  {%- endif -%}
  {%- if entry.tags -%}
    {%- do clauses.append('with tag (' ~ data_mesh.snowflake__tag_assignments(entry.tags) ~ ')') -%}
  {%- endif -%}
  {{- return(clauses | join(' ')) -}}
{% endmacro %}
