{#-
  The column list (and table clauses) of a contracted CREATE TABLE for `node`, with each column's masking policy
  and tags after its type, then `copy grants` when asked, then the row access policy and table tags: CREATE TABLE
  takes COPY GRANTS before COMMENT, ROW ACCESS POLICY and TAG (https://docs.snowflake.com/en/sql-reference/sql/
  create-table; WITH TAG before COPY GRANTS is a syntax error, dbt-labs/dbt-adapters#1960).
  In recording mode (fakesnow, which cannot parse the inline clauses) the clauses are recorded instead.
-#}
{% macro governed_columns_ddl(node, relation, gov, recording=false, copy_grants=false) %}
  {{- return(adapter.dispatch('governed_columns_ddl', 'data_mesh')(node, relation, gov, recording, copy_grants)) -}}
{% endmacro %}

{% macro default__governed_columns_ddl(node, relation, gov, recording=false, copy_grants=false) %}
  {{- return(data_mesh.unsupported_adapter('governed_columns_ddl')) -}}
{% endmacro %}

{% macro snowflake__governed_columns_ddl(node, relation, gov, recording=false, copy_grants=false) %}
  {%- set raw_columns = adapter.render_raw_columns_constraints(raw_columns=node['columns']) -%}
  {%- set raw_model_constraints = adapter.render_raw_model_constraints(raw_constraints=node['constraints']) -%}
  {%- set names = node['columns'].keys() | list -%}
  {%- set lines = [] -%}
  {%- for c in raw_columns -%}
    {%- set clauses = data_mesh.snowflake__inline_column_protection(names[loop.index0], gov.columns[names[loop.index0]]) -%}
    {%- if recording and clauses -%}
      {%- do data_mesh.run_governance('-- inline on ' ~ relation ~ '.' ~ names[loop.index0] ~ ': ' ~ clauses) -%}
    {%- endif -%}
    {%- do lines.append(c ~ ((' ' ~ clauses) if clauses and not recording else '')) -%}
  {%- endfor -%}
  {%- do lines.extend(raw_model_constraints) -%}
  {%- set ddl = '(\n    ' ~ lines | join(',\n    ') ~ '\n)' ~ ('\ncopy grants' if copy_grants else '') -%}
  {%- set table_clauses = data_mesh.snowflake__inline_table_protection(gov) -%}
  {%- if table_clauses and recording -%}
    {%- do data_mesh.run_governance('-- inline on ' ~ relation ~ ': ' ~ table_clauses) -%}
  {%- elif table_clauses -%}
    {%- set ddl = ddl ~ '\n' ~ table_clauses -%}
  {%- endif -%}
  {{- return(ddl) -}}
{% endmacro %}
