{#-
  The governance library of the project: the central library (central_library.sql) merged with the domain's
  extensions under `vars: {data_mesh: ...}`, validated strictly. A domain may add entries but not redefine
  central ones. Each policy also gets its `<name>_shared` variant (see `_shared_body`).
-#}
{% macro library() %}
  {%- set central = data_mesh.central_library() -%}
  {%- set extension = var('data_mesh', {}) -%}
  {%- set allowed = ['tags', 'masking_policies', 'row_access_policies', 'roles', 'entitlements'] -%}
  {%- for key in extension -%}
    {%- if key not in allowed -%}
      {{ exceptions.raise_compiler_error("dbt_project.yml of " ~ project_name ~ ": unknown key vars.data_mesh." ~ key ~ " (allowed: " ~ allowed | join(', ') ~ ")") }}
    {%- endif -%}
  {%- endfor -%}
  {%- set merged = {} -%}
  {%- for section in ['tags', 'masking_policies', 'row_access_policies', 'roles'] -%}
    {%- set entries = {} -%}
    {%- do entries.update(central.get(section) or {}) -%}
    {%- for name, entry in (extension.get(section) or {}).items() -%}
      {%- if name in entries or name ~ '_shared' in entries or (name.endswith('_shared') and name[:-7] in entries) -%}
        {{ exceptions.raise_compiler_error("dbt_project.yml of " ~ project_name ~ ": vars.data_mesh." ~ section ~ "." ~ name ~ " redefines a central " ~ section ~ " entry; a domain may add entries but not redefine or weaken central ones: choose another name") }}
      {%- endif -%}
      {%- do entries.update({name: entry}) -%}
    {%- endfor -%}
    {%- do merged.update({section: entries}) -%}
  {%- endfor -%}
  {%- for kind in ['masking_policies', 'row_access_policies'] -%}
    {%- set variants = {} -%}
    {%- for name, policy in merged[kind].items() -%}
      {%- do data_mesh._check_policy(kind, name, policy) -%}
      {%- set shared = {} -%}
      {%- do shared.update(policy) -%}
      {%- do shared.update({'body': data_mesh._shared_body(policy.body), 'shared': true}) -%}
      {%- if policy.get('body_duckdb') -%}
        {%- do shared.update({'body_duckdb': data_mesh._shared_body(policy.body_duckdb)}) -%}
      {%- endif -%}
      {%- do variants.update({name ~ '_shared': shared}) -%}
    {%- endfor -%}
    {%- do merged[kind].update(variants) -%}
  {%- endfor -%}
  {%- for name, tag in merged.tags.items() -%}
    {%- if not modules.re.match('^[a-z][a-z0-9_]*$', name) -%}
      {{ exceptions.raise_compiler_error("governance library: tag name '" ~ name ~ "' must be lower-case letters, digits and underscores") }}
    {%- endif -%}
    {%- for policy_name in (tag or {}).get('masking_policies') or [] -%}
      {%- if policy_name not in merged.masking_policies -%}
        {{ exceptions.raise_compiler_error("governance library: tag " ~ name ~ " names masking policy '" ~ policy_name ~ "', which is not in the library") }}
      {%- endif -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- for name, role in merged.roles.items() -%}
    {%- for role_name in [name] + ((role or {}).get('inherits') or []) -%}
      {%- if not modules.re.match('^[A-Za-z][A-Za-z0-9_]*$', role_name) -%}
        {{ exceptions.raise_compiler_error("governance library: role name '" ~ role_name ~ "' must be letters, digits and underscores") }}
      {%- endif -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- set entitlements = (central.get('entitlements') or []) + (extension.get('entitlements') or []) -%}
  {%- do merged.update({'entitlements': entitlements}) -%}
  {{ return(merged) }}
{% endmacro %}


{#-
  The body of a policy's `<name>_shared` variant, attached to objects shared to other accounts: every
  `is_role_in_session(R)` becomes `(is_role_in_session(R) or is_database_role_in_session(R))`.
  Inside a share IS_ROLE_IN_SESSION and CURRENT_ROLE are NULL
  (https://docs.snowflake.com/en/sql-reference/functions/current_role, usage notes), so the consumer is decided
  by the database role R, granted to the share, that its account granted to its roles; the relative name is
  resolved in the protected object's database (a qualified name evaluates to FALSE)
  (https://docs.snowflake.com/en/sql-reference/functions/is_database_role_in_session). On the provider side the
  account role R keeps deciding: holders of PII_READER keep clear values. NULL or FALSE is NULL: masked, no row.
-#}
{% macro _shared_body(body) %}
  {{- return(modules.re.sub('is_role_in_session\\(([^()]*)\\)', '(is_role_in_session(\\1) or is_database_role_in_session(\\1))', body)) -}}
{% endmacro %}


{% macro _check_policy(kind, name, policy) %}
  {%- if not modules.re.match('^[a-z][a-z0-9_]*$', name) -%}
    {{ exceptions.raise_compiler_error("governance library: " ~ kind ~ " name '" ~ name ~ "' must be lower-case letters, digits and underscores") }}
  {%- endif -%}
  {%- if not policy.get('args') or not policy.get('body') -%}
    {{ exceptions.raise_compiler_error("governance library: " ~ kind ~ "." ~ name ~ " needs `args` (a list of {name, type}) and a `body`") }}
  {%- endif -%}
  {%- if kind == 'masking_policies' and (policy.get('returns') or '') | lower != (policy.args[0].type or '') | lower -%}
    {{ exceptions.raise_compiler_error("governance library: masking policy " ~ name ~ " returns " ~ policy.get('returns') ~ " but its first argument is " ~ policy.args[0].type ~ "; Snowflake requires them to be equal") }}
  {%- endif -%}
{% endmacro %}
