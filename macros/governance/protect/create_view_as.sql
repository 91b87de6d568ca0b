{#-
  dbt's own macro (namespace `dbt`), overridden for Snowflake: a governed view (masking, row access or tags) is
  created with its protection inline, so a rebuilt view never exists unprotected; CREATE OR REPLACE VIEW drops
  what ALTER VIEW attached, which left a window between the statements
  (https://docs.snowflake.com/en/sql-reference/sql/create-view: a column list entry takes
  `WITH MASKING POLICY ... [USING (...)] WITH TAG (...)`, the view `WITH ROW ACCESS POLICY ... ON (...)` and
  `WITH TAG (...)`). The column list is the query's own columns, in its order, as Snowflake describes them (a
  column list renames by position). Other views keep dbt-snowflake's statement; in recording mode (fakesnow,
  which cannot parse the inline clauses) the clauses are recorded and the view created plain. Domains reach this
  through their dispatch config (`dispatch: [{macro_namespace: dbt, search_order: [<domain>, data_mesh, dbt]}]`).
-#}
{% macro snowflake__create_view_as(relation, sql) -%}
  {%- set gov = data_mesh.model_governance(model) if execute and model.resource_type == 'model' else none -%}
  {%- if gov is none or not data_mesh.protects_view(gov) -%}
    {{- dbt.snowflake__create_view_as_with_temp_flag(relation, sql) -}}
  {%- elif data_mesh.recording() -%}
    {%- do data_mesh.run_governance('-- inline on ' ~ relation ~ ': ' ~ data_mesh.governed_view_clauses(model, gov, model.columns.keys() | map('upper') | list) | replace('\n', ' ')) -%}
    {{- dbt.snowflake__create_view_as_with_temp_flag(relation, sql) -}}
  {%- else -%}
    {%- set names = get_columns_in_query(sql) -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    {%- if config.get('contract').enforced %}
    {{ get_assert_columns_equivalent(sql) }}
    {%- endif %}
    {{ data_mesh.governed_view_ddl(model, relation, gov, names) }}
    as (
      {{ sql }}
    );
  {%- endif -%}
{%- endmacro %}

{#- Whether a view carries any protection or tag of its own. -#}
{% macro protects_view(gov) %}
  {%- set columns = gov.columns.values() | selectattr('masking') | list + gov.columns.values() | selectattr('tags') | list -%}
  {{ return(gov.row_access is not none or gov.tags | length > 0 or columns | length > 0) }}
{% endmacro %}

{#- `create or replace [secure] view <relation> (<columns with their policies and tags>) <view clauses>`, without
    the query: `names` are the view's columns in the query's order as Snowflake reports them (upper case unless the
    query quoted them: those stay quoted). -#}
{% macro governed_view_ddl(node, relation, gov, names) %}
  {{ return('create or replace ' ~ ('secure ' if node.config.get('secure') else '') ~ 'view ' ~ relation ~ ' ' ~ data_mesh.governed_view_clauses(node, gov, names)) }}
{% endmacro %}

{#- What follows the view's name: its column list with each column's policy, tags and comment, then the view's row
    access policy, tags and `copy grants` (recording mode logs it on one line). -#}
{% macro governed_view_clauses(node, gov, names) %}
  {%- set persist = (node.config.get('persist_docs') or {}).get('columns') -%}
  {%- set lines = [] -%}
  {%- for name in names -%}
    {%- set entry = gov.columns.get(name | lower) -%}
    {%- set clauses = data_mesh.snowflake__inline_column_protection(name, entry) if entry else '' -%}
    {%- set described = (node.columns.get(name | lower) or {}).get('description') if persist else none -%}
    {%- do lines.append((name if name == name | upper else adapter.quote(name)) ~ ((' ' ~ clauses) if clauses else '') ~ ((' comment ' ~ data_mesh.sql_string(described)) if described else '')) -%}
  {%- endfor -%}
  {%- set view_clauses = data_mesh.snowflake__inline_table_protection(gov) -%}
  {%- set copy_grants = '\ncopy grants' if node.config.get('copy_grants') else '' -%}
  {{ return('(\n    ' ~ lines | join(',\n    ') ~ '\n)' ~ (('\n' ~ view_clauses) if view_clauses else '') ~ copy_grants) }}
{% endmacro %}
