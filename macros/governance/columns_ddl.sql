{#-
  Contracted CREATE TABLE on Snowflake with its protection inline: each column's masking policy and tags
  after its type, then the row access policy and table tags after the column list, so a rebuilt table never
  exists unprotected. Domains reach this through their dispatch config
  (`dispatch: [{macro_namespace: dbt, search_order: [<domain>, data_mesh, dbt]}]`).
  In recording mode (fakesnow) the inline clauses are recorded instead, since fakesnow cannot parse them.
-#}
{% macro snowflake__get_table_columns_and_constraints() %}
  {{- data_mesh.snowflake_columns_ddl(model, this, data_mesh.model_governance(model), data_mesh.recording()) -}}
{% endmacro %}

{#- The column list (and table clauses) of a contracted CREATE TABLE for `node`. -#}
{% macro snowflake_columns_ddl(node, relation, gov, recording=false) %}
  {%- set raw_columns = adapter.render_raw_columns_constraints(raw_columns=node['columns']) -%}
  {%- set raw_model_constraints = adapter.render_raw_model_constraints(raw_constraints=node['constraints']) -%}
  {%- set names = node['columns'].keys() | list -%}
  {%- set lines = [] -%}
  {%- for c in raw_columns -%}
    {%- set clauses = data_mesh.snowflake_column_clauses(names[loop.index0], gov.columns[names[loop.index0]]) -%}
    {%- if recording and clauses -%}
      {%- do data_mesh.run_governance('-- inline on ' ~ relation ~ '.' ~ names[loop.index0] ~ ': ' ~ clauses) -%}
    {%- endif -%}
    {%- do lines.append(c ~ ((' ' ~ clauses) if clauses and not recording else '')) -%}
  {%- endfor -%}
  {%- do lines.extend(raw_model_constraints) -%}
  {%- set ddl = '(\n    ' ~ lines | join(',\n    ') ~ '\n)' -%}
  {%- set table_clauses = data_mesh.snowflake_table_clauses(gov) -%}
  {%- if table_clauses and recording -%}
    {%- do data_mesh.run_governance('-- inline on ' ~ relation ~ ': ' ~ table_clauses) -%}
  {%- elif table_clauses -%}
    {%- set ddl = ddl ~ '\n' ~ table_clauses -%}
  {%- endif -%}
  {{- return(ddl) -}}
{% endmacro %}
