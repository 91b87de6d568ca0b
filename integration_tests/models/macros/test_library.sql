-- library (central entries merged with the project's vars), central_library, type_family, policy_signature,
-- governance_schema, governance_object, generate_schema_name.
{%- set library = data_mesh.library() -%}
{%- set central = data_mesh.central_library() -%}
{{ cases_select([
  ('library tags', library.tags.keys() | sort | join(',')),
  ('library masking policies', library.masking_policies.keys() | sort | join(',')),
  ('library row access policies', library.row_access_policies.keys() | sort | join(',')),
  ('library roles', library.roles.keys() | sort | join(',')),
  ('library entitlements', library.entitlements | length),
  ('shared variant decides by database role', library.masking_policies.mask_initial_shared.body),
  ('central library tags', central.tags.keys() | sort | join(',')),
  ('central library roles', central.roles | length),
  ('type_family varchar(20)', data_mesh.type_family('VARCHAR(20)')),
  ('type_family text', data_mesh.type_family('text')),
  ('type_family number(38,0)', data_mesh.type_family('NUMBER(38,0)')),
  ('type_family timestamp_ntz', data_mesh.type_family('timestamp_ntz')),
  ('type_family date', data_mesh.type_family('date')),
  ('policy_signature', data_mesh.policy_signature({'args': [{'name': 'val', 'type': 'varchar'}, {'name': 'region', 'type': 'varchar'}]})),
  ('governance_schema', data_mesh.governance_schema()),
  ('governance_object', data_mesh.governance_object('pii')),
  ('generate_schema_name with a custom schema', generate_schema_name('marts', model) | trim),
  ('generate_schema_name without one', generate_schema_name(none, model) | trim),
]) }}
