{#- How library entries become SQL on each engine. -#}

{% macro governance_schema() %}{{ return('governance') }}{% endmacro %}

{#- The fully qualified name of a governance object on Snowflake: <database>.governance.<name>. -#}
{% macro governance_object(name) %}
  {{- return(target.database ~ '.' ~ data_mesh.governance_schema() ~ '.' ~ name) -}}
{% endmacro %}

{% macro sql_string(value) %}{{ return("'" ~ (value | string | replace("'", "''")) ~ "'") }}{% endmacro %}

{#- A policy body for `engine` ('snowflake' or 'duckdb'). -#}
{% macro policy_body(policy, engine) %}
  {%- if engine == 'duckdb' -%}
    {%- set body = policy.get('body_duckdb') or policy.body -%}
    {%- set body = body | replace('is_database_role_in_session(', '@role_check(') | replace('is_role_in_session(', '@role_check(') -%}
    {%- set body = body | replace('@role_check(', data_mesh.governance_schema() ~ '.is_role_in_session(') -%}
    {{- return(body | replace('@entitlements', data_mesh.governance_schema() ~ '.mesh_entitlements')) -}}
  {%- else -%}
    {{- return(policy.body | replace('@entitlements', data_mesh.governance_object('mesh_entitlements'))) -}}
  {%- endif -%}
{% endmacro %}

{% macro policy_signature(policy) %}
  {%- set parts = [] -%}
  {%- for arg in policy.args -%}{%- do parts.append(arg.name ~ ' ' ~ arg.type) -%}{%- endfor -%}
  {{- return(parts | join(', ')) -}}
{% endmacro %}

{#- The entitlements mapping as a SELECT (role_name, dimension, value), from the library. -#}
{% macro entitlements_select(library=none) %}
  {%- set library = library or data_mesh.library() -%}
  {%- set rows = [] -%}
  {%- for entry in library.entitlements -%}
    {%- for value in entry['values'] -%}
      {%- do rows.append('(' ~ data_mesh.sql_string(entry.role | upper) ~ ', ' ~ data_mesh.sql_string(entry.dimension) ~ ', ' ~ data_mesh.sql_string(value) ~ ')') -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- if rows -%}
    {{- return('select cast(role_name as varchar) as role_name, cast(dimension as varchar) as dimension, cast(value as varchar) as value from (values ' ~ rows | join(', ') ~ ') as entitlements (role_name, dimension, value)') -}}
  {%- else -%}
    {{- return('select cast(null as varchar) as role_name, cast(null as varchar) as dimension, cast(null as varchar) as value where 1 = 0') -}}
  {%- endif -%}
{% endmacro %}

{#- The role hierarchy as a SELECT (role_name, granted_to): role_name is granted to granted_to. -#}
{% macro role_grants_select(library) %}
  {%- set rows = [] -%}
  {%- for name, role in library.roles.items() -%}
    {%- for parent in (role or {}).get('inherits') or [] -%}
      {%- do rows.append('(' ~ data_mesh.sql_string(parent | upper) ~ ', ' ~ data_mesh.sql_string(name | upper) ~ ')') -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- if rows -%}
    {{- return('select cast(role_name as varchar) as role_name, cast(granted_to as varchar) as granted_to from (values ' ~ rows | join(', ') ~ ') as grants (role_name, granted_to)') -}}
  {%- else -%}
    {{- return('select cast(null as varchar) as role_name, cast(null as varchar) as granted_to where 1 = 0') -}}
  {%- endif -%}
{% endmacro %}

{#- Inline protection of one contracted column on Snowflake: masking policy and tags. -#}
{% macro snowflake_column_clauses(name, entry) %}
  {%- set clauses = [] -%}
  {%- if entry.masking and not entry.masking.get('via_tag') -%}
    {%- set clause = 'with masking policy ' ~ data_mesh.governance_object(entry.masking.policy) -%}
    {%- if entry.masking.using | length > 1 -%}
      {%- set clause = clause ~ ' using (' ~ entry.masking.using | join(', ') ~ ')' -%}
    {%- endif -%}
    {%- do clauses.append(clause) -%}
  {%- endif -%}
  {%- if entry.tags -%}
    {%- do clauses.append('with tag (' ~ data_mesh.tag_assignments(entry.tags) ~ ')') -%}
  {%- endif -%}
  {{- return(clauses | join(' ')) -}}
{% endmacro %}

{% macro tag_assignments(tags) %}
  {%- set parts = [] -%}
  {%- for tag, value in tags.items() -%}
    {%- do parts.append(data_mesh.governance_object(tag) ~ ' = ' ~ data_mesh.sql_string(value)) -%}
  {%- endfor -%}
  {{- return(parts | join(', ')) -}}
{% endmacro %}

{#- Table-level protection on Snowflake, rendered after the column list of CREATE TABLE. -#}
{% macro snowflake_table_clauses(gov) %}
  {%- set clauses = [] -%}
  {%- if gov.row_access -%}
    {%- do clauses.append('with row access policy ' ~ data_mesh.governance_object(gov.row_access.policy) ~ ' on (' ~ gov.row_access.columns | join(', ') ~ ')') -%}
  {%- endif -%}
  {%- if gov.tags -%}
    {%- do clauses.append('with tag (' ~ data_mesh.tag_assignments(gov.tags) ~ ')') -%}
  {%- endif -%}
  {{- return(clauses | join('\n    ')) -}}
{% endmacro %}

{#- Whether governance statements fakesnow cannot run are recorded (logged) instead of executed. -#}
{% macro recording() %}
  {{- return(var('data_mesh_record_governance', env_var('MESH_GOVERNANCE_RECORD', 'false')) | string | lower in ['true', '1', 'yes']) -}}
{% endmacro %}

{#- Run a governance statement, or record it (log line prefixed `data_mesh:governance`) in recording mode. -#}
{% macro run_governance(sql) %}
  {%- if data_mesh.recording() -%}
    {%- do log('data_mesh:governance ' ~ sql | replace('\n', ' '), info=true) -%}
  {%- else -%}
    {%- do run_query(sql) -%}
  {%- endif -%}
{% endmacro %}
