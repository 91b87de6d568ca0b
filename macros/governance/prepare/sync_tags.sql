{#-
  Snowflake: CREATE TAG IF NOT EXISTS leaves an existing tag as it was, so a changed `allowed_values` or
  `description` in the governance library is altered in place (ALTER TAG ... SET / UNSET ALLOWED_VALUES, SET / UNSET
  COMMENT: https://docs.snowflake.com/en/sql-reference/sql/alter-tag). A tag that does not exist yet is created by
  governance_statements. DuckDB rebuilds its `governance.tags` table on every run: nothing to alter.
-#}
{% macro sync_tags(library) %}
  {{ return(adapter.dispatch('sync_tags', 'data_mesh')(library)) }}
{% endmacro %}

{% macro default__sync_tags(library) %}{% endmacro %}

{% macro snowflake__sync_tags(library) %}
  {%- if data_mesh.recording() -%}{{ return('') }}{%- endif -%}
  {%- set shown = run_query('show tags in schema ' ~ target.database ~ '.' ~ data_mesh.governance_schema()) -%}
  {%- set current = {} -%}
  {%- for row in shown.rows -%}
    {%- set values = fromjson(row['allowed_values']) if row['allowed_values'] else [] -%}
    {%- do current.update({row['name'] | lower: {'allowed_values': values, 'comment': row['comment'] or ''}}) -%}
  {%- endfor -%}
  {%- for statement in data_mesh._tag_changes(library, current) -%}
    {%- do run_query(statement) -%}
  {%- endfor -%}
{% endmacro %}

{#- The ALTER TAG statements that make existing tags (`current`: name -> {allowed_values, comment}, as SHOW TAGS
    reads) match the library. -#}
{% macro _tag_changes(library, current) %}
  {%- set statements = [] -%}
  {%- for name, tag in library.tags.items() if name in current -%}
    {%- set tag = tag or {} -%}
    {%- set object = data_mesh.governance_object(name) -%}
    {%- set wanted = tag.get('allowed_values') or [] -%}
    {%- if wanted | sort != (current[name].allowed_values or []) | sort -%}
      {%- if wanted -%}
        {%- set quoted = [] -%}
        {%- for value in wanted -%}{%- do quoted.append(data_mesh.sql_string(value)) -%}{%- endfor -%}
        {%- do statements.append('alter tag ' ~ object ~ ' set allowed_values ' ~ quoted | join(', ')) -%}
      {%- else -%}
        {%- do statements.append('alter tag ' ~ object ~ ' unset allowed_values') -%}
      {%- endif -%}
    {%- endif -%}
    {%- set comment = tag.get('description') or '' -%}
    {%- if comment != (current[name].comment or '') -%}
      {%- do statements.append('alter tag ' ~ object ~ (' set comment = ' ~ data_mesh.sql_string(comment) if comment else ' unset comment')) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(statements) }}
{% endmacro %}
