{#-
  The governance registry: the central library merged with the domain's extensions, and each model's
  governance configuration, validated strictly. Errors name the model, the file and the fix.
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
      {%- do shared.update({'body': policy.body | replace('is_role_in_session(', 'is_database_role_in_session('), 'shared': true}) -%}
      {%- if policy.get('body_duckdb') -%}
        {%- do shared.update({'body_duckdb': policy.body_duckdb | replace('is_role_in_session(', 'is_database_role_in_session(')}) -%}
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


{#- The normalised type family of a contract data type, to match columns with policy arguments. -#}
{% macro type_family(data_type) %}
  {%- set t = (data_type or '') | lower | trim -%}
  {%- set base = t.split('(')[0] | trim -%}
  {%- if base in ['varchar', 'text', 'string', 'char', 'character', 'character varying'] -%}{{ return('varchar') }}
  {%- elif base in ['int', 'integer', 'bigint', 'smallint', 'tinyint', 'number', 'numeric', 'decimal'] -%}{{ return('number') }}
  {%- elif base in ['timestamp', 'timestamp_ntz', 'datetime'] -%}{{ return('timestamp') }}
  {%- else -%}{{ return(base) }}
  {%- endif -%}
{% endmacro %}


{% macro _fail(node, what, fix) %}
  {{ exceptions.raise_compiler_error(node.original_file_path ~ ": " ~ node.package_name ~ "." ~ node.name ~ (("_v" ~ node.version) if node.version is not none else "") ~ ": " ~ what ~ "; " ~ fix) }}
{% endmacro %}


{% macro _check_tags(node, where, tags, library) %}
  {%- if tags is not mapping -%}
    {%- do data_mesh._fail(node, where ~ " tags must be a mapping of tag: value", "write e.g. `tags: {pii: email}`") -%}
  {%- endif -%}
  {%- for tag, value in tags.items() -%}
    {%- if tag not in library.tags -%}
      {%- do data_mesh._fail(node, where ~ " tag '" ~ tag ~ "' is not in the governance library", "use one of: " ~ library.tags.keys() | sort | join(', ')) -%}
    {%- endif -%}
    {%- set allowed_values = library.tags[tag].get('allowed_values') -%}
    {%- if allowed_values and value not in allowed_values -%}
      {%- do data_mesh._fail(node, where ~ " tag " ~ tag ~ " = '" ~ value ~ "' is not an allowed value", "use one of: " ~ allowed_values | join(', ')) -%}
    {%- endif -%}
  {%- endfor -%}
{% endmacro %}


{#-
  The governance configuration of a model node, validated against the library:
  {tags: {tag: value}, row_access: {policy, columns: [columns]} or none,
   columns: {column: {masking: {policy, using: [columns]} or none, tags: {tag: value}}}, governed: bool}
-#}
{% macro model_governance(node, library=none) %}
  {%- set library = library or data_mesh.library() -%}
  {%- set meta = (node.config.get('meta') or {}).get('data_mesh') or (node.get('meta') or {}).get('data_mesh') or {} -%}
  {%- for key in meta -%}
    {%- if key not in ['tags', 'row_access'] -%}
      {%- do data_mesh._fail(node, "unknown key meta.data_mesh." ~ key, "a model takes `tags` and `row_access`") -%}
    {%- endif -%}
  {%- endfor -%}
  {%- set columns = {} -%}
  {%- for name, column in node.columns.items() -%}{%- do columns.update({name | lower: column}) -%}{%- endfor -%}
  {%- set result = {'tags': meta.get('tags') or {}, 'row_access': none, 'columns': {}, 'governed': false} -%}
  {%- do data_mesh._check_tags(node, "model", result.tags, library) -%}
  {%- set row_access = meta.get('row_access') -%}
  {%- if row_access -%}
    {%- for key in row_access if key not in ['policy', 'columns'] -%}
      {%- if key is sameas true -%}
        {%- do data_mesh._fail(node, "row_access has a key `on`, which YAML reads as the boolean true", "name the bound columns with `columns:`") -%}
      {%- endif -%}
      {%- do data_mesh._fail(node, "unknown key row_access." ~ key, "row_access takes `policy` and `columns`") -%}
    {%- endfor -%}
    {%- set policy_name = row_access.get('policy') -%}
    {%- set on = row_access.get('columns') or [] -%}
    {%- if policy_name not in library.row_access_policies -%}
      {%- do data_mesh._fail(node, "row access policy '" ~ policy_name ~ "' is not in the governance library", "use one of: " ~ library.row_access_policies.keys() | sort | join(', ')) -%}
    {%- endif -%}
    {%- set policy = library.row_access_policies[policy_name] -%}
    {%- if on is string -%}{%- set on = [on] -%}{%- endif -%}
    {%- if on | length != policy.args | length -%}
      {%- do data_mesh._fail(node, "row access policy " ~ policy_name ~ " takes " ~ policy.args | length ~ " column(s), `columns` names " ~ on | length, "list exactly " ~ policy.args | map(attribute='name') | join(', ')) -%}
    {%- endif -%}
    {%- for column in on -%}
      {%- if column | lower not in columns -%}
        {%- do data_mesh._fail(node, "row access column '" ~ column ~ "' is not a column of the model", "name a column declared in its YAML") -%}
      {%- endif -%}
      {%- set arg_type = policy.args[loop.index0].type -%}
      {%- if data_mesh.type_family(columns[column | lower].data_type) != data_mesh.type_family(arg_type) -%}
        {%- do data_mesh._fail(node, "row access policy " ~ policy_name ~ " expects " ~ arg_type ~ " for argument " ~ loop.index ~ ", column " ~ column ~ " is " ~ columns[column | lower].data_type, "bind a column of that type") -%}
      {%- endif -%}
    {%- endfor -%}
    {%- do result.update({'row_access': {'policy': policy_name, 'columns': on}, 'governed': true}) -%}
  {%- endif -%}
  {%- for name, column in node.columns.items() -%}
    {%- set column_meta = ((column.get('config') or {}).get('meta') or {}).get('data_mesh') or (column.get('meta') or {}).get('data_mesh') or {} -%}
    {%- for key in column_meta -%}
      {%- if key not in ['masking', 'tags'] -%}
        {%- do data_mesh._fail(node, "column " ~ name ~ ": unknown key meta.data_mesh." ~ key, "a column takes `masking` and `tags`") -%}
      {%- endif -%}
    {%- endfor -%}
    {%- set entry = {'masking': none, 'tags': column_meta.get('tags') or {}} -%}
    {%- do data_mesh._check_tags(node, "column " ~ name ~ ":", entry.tags, library) -%}
    {%- set masking = column_meta.get('masking') -%}
    {%- if masking -%}
      {%- if masking is string -%}{%- set masking = {'policy': masking} -%}{%- endif -%}
      {%- set policy_name = masking.get('policy') -%}
      {%- if policy_name not in library.masking_policies -%}
        {%- do data_mesh._fail(node, "column " ~ name ~ ": masking policy '" ~ policy_name ~ "' is not in the governance library", "use one of: " ~ library.masking_policies.keys() | sort | join(', ')) -%}
      {%- endif -%}
      {%- set policy = library.masking_policies[policy_name] -%}
      {%- set using = masking.get('using') or [] -%}
      {%- if using and using[0] | lower != name | lower -%}{%- set using = [name] + using -%}{%- endif -%}
      {%- if not using -%}{%- set using = [name] -%}{%- endif -%}
      {%- if using | length != policy.args | length -%}
        {%- do data_mesh._fail(node, "column " ~ name ~ ": masking policy " ~ policy_name ~ " takes " ~ policy.args | length ~ " argument(s), it is given " ~ using | length, "give `using:` the " ~ (policy.args | length - 1) ~ " extra column(s) it reads") -%}
      {%- endif -%}
      {%- for argument in using -%}
        {%- if argument | lower not in columns -%}
          {%- do data_mesh._fail(node, "column " ~ name ~ ": masking `using` column '" ~ argument ~ "' is not a column of the model", "name a column declared in its YAML") -%}
        {%- endif -%}
        {%- if data_mesh.type_family(columns[argument | lower].data_type) != data_mesh.type_family(policy.args[loop.index0].type) -%}
          {%- do data_mesh._fail(node, "column " ~ name ~ ": masking policy " ~ policy_name ~ " expects " ~ policy.args[loop.index0].type ~ " for argument " ~ loop.index ~ ", column " ~ argument ~ " is " ~ columns[argument | lower].data_type, "choose a policy for that type") -%}
        {%- endif -%}
      {%- endfor -%}
      {%- do entry.update({'masking': {'policy': policy_name, 'using': using}}) -%}
      {%- do result.update({'governed': true}) -%}
    {%- else -%}
      {#- tag-based masking: a tag whose library entry carries masking policies protects the column -#}
      {%- for tag in entry.tags -%}
        {%- for policy_name in library.tags[tag].get('masking_policies') or [] -%}
          {%- if entry.masking is none and data_mesh.type_family(library.masking_policies[policy_name].args[0].type) == data_mesh.type_family(column.data_type) -%}
            {%- do entry.update({'masking': {'policy': policy_name, 'using': [name], 'via_tag': tag}}) -%}
            {%- do result.update({'governed': true}) -%}
          {%- endif -%}
        {%- endfor -%}
      {%- endfor -%}
    {%- endif -%}
    {%- do result.columns.update({name: entry}) -%}
  {%- endfor -%}
  {{ return(result) }}
{% endmacro %}


{#- Validate every model of the project before anything builds (called from the on-run-start hook). -#}
{% macro validate_all(library) %}
  {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.package_name == project_name -%}
    {%- do data_mesh.model_governance(node, library) -%}
  {%- endfor -%}
{% endmacro %}
