{#-
  The governance configuration of a model node, validated against the library. A public model another account
  reads through a share carries the `<policy>_shared` variants (see `library._shared_body`); `shared` says so:
  every public model under `snowflake.topology: account_per_domain` (mesh.yml, MESH_SHARE_TOPOLOGY), and in one
  account the models of products with `consumers.accounts` (domain.yml, MESH_CROSS_ACCOUNT_MODELS). Such a
  column's tag-based masking is attached to the column as the `_shared` variant: the tag carries the plain
  policy, and a policy assigned to the column takes precedence over the tag's
  (https://docs.snowflake.com/en/user-guide/tag-based-masking-policies).
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
  {%- set cross_account = env_var('MESH_SHARE_TOPOLOGY', 'one_account') == 'account_per_domain' or node.name in env_var('MESH_CROSS_ACCOUNT_MODELS', '').split(',') -%}
  {%- set shared = cross_account and (node.get('access') or node.config.get('access')) == 'public' -%}
  {%- set suffix = '_shared' if shared else '' -%}
  {%- set result = {'tags': meta.get('tags') or {}, 'row_access': none, 'columns': {}, 'governed': false, 'shared': shared} -%}
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
        {%- do data_mesh._fail(node, "row access policy " ~ policy_name ~ " expects " ~ arg_type ~ " for argument " ~ loop.index ~ ", column " ~ column ~ data_mesh._declared(columns[column | lower].data_type), "bind a column of that type") -%}
      {%- endif -%}
    {%- endfor -%}
    {%- do result.update({'row_access': {'policy': data_mesh._variant(policy_name, suffix), 'columns': on}, 'governed': true}) -%}
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
          {%- do data_mesh._fail(node, "column " ~ name ~ ": masking policy " ~ policy_name ~ " expects " ~ policy.args[loop.index0].type ~ " for argument " ~ loop.index ~ ", column " ~ argument ~ data_mesh._declared(columns[argument | lower].data_type), "choose a policy for that type") -%}
        {%- endif -%}
      {%- endfor -%}
      {%- do entry.update({'masking': {'policy': data_mesh._variant(policy_name, suffix), 'using': using}}) -%}
      {%- do result.update({'governed': true}) -%}
    {%- else -%}
      {#- tag-based masking: a tag whose library entry carries masking policies protects the column -#}
      {%- for tag in entry.tags -%}
        {%- for policy_name in library.tags[tag].get('masking_policies') or [] -%}
          {%- if entry.masking is none and data_mesh.type_family(library.masking_policies[policy_name].args[0].type) == data_mesh.type_family(column.data_type) -%}
            {%- set attached = {'policy': data_mesh._variant(policy_name, suffix), 'using': [name]} -%}
            {%- if not shared -%}{%- do attached.update({'via_tag': tag}) -%}{%- endif -%}
            {%- do entry.update({'masking': attached}) -%}
            {%- do result.update({'governed': true}) -%}
          {%- endif -%}
        {%- endfor -%}
      {%- endfor -%}
    {%- endif -%}
    {%- do result.columns.update({name: entry}) -%}
  {%- endfor -%}
  {{ return(result) }}
{% endmacro %}


{% macro _variant(policy_name, suffix) %}
  {{- return(policy_name if policy_name.endswith('_shared') else policy_name ~ suffix) -}}
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

{#- ` is <type>`, or that the column declares none (then no type can be compared). -#}
{% macro _declared(data_type) %}
  {{- return((' is ' ~ data_type) if data_type else ' has no data_type (declare it in the YAML)') -}}
{% endmacro %}
