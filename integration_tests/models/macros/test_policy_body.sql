-- policy_body on DuckDB (dispatched) and Snowflake's implementation, rendered on the same library.
{%- set library = data_mesh.library() -%}
{{ cases_select([
  ('duckdb mask_email', data_mesh.policy_body(library.masking_policies.mask_email)),
  ('duckdb mask_email_shared', data_mesh.policy_body(library.masking_policies.mask_email_shared)),
  ('duckdb mask_hash takes body_duckdb', data_mesh.policy_body(library.masking_policies.mask_hash)),
  ('duckdb region_entitlement', data_mesh.policy_body(library.row_access_policies.region_entitlement)),
  ('snowflake mask_hash', data_mesh.snowflake__policy_body(library.masking_policies.mask_hash)),
  ('snowflake region_entitlement_shared', data_mesh.snowflake__policy_body(library.row_access_policies.region_entitlement_shared)),
]) }}
