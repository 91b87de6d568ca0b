-- Snowflake's inline protection clauses (tag_assignments, inline_column_protection, inline_table_protection).
{{ cases_select([
  ('tag_assignments', data_mesh.snowflake__tag_assignments({'pii': 'email', 'confidentiality': 'internal'})),
  ('column masked', data_mesh.snowflake__inline_column_protection('email', {'masking': {'policy': 'mask_email', 'using': ['email']}, 'tags': {}})),
  ('column masked using another column', data_mesh.snowflake__inline_column_protection('email', {'masking': {'policy': 'mask_by_region', 'using': ['email', 'region']}, 'tags': {'pii': 'email'}})),
  ('column masked through its tag', data_mesh.snowflake__inline_column_protection('email', {'masking': {'policy': 'mask_full', 'using': ['email'], 'via_tag': 'pii'}, 'tags': {'pii': 'email'}})),
  ('column unprotected', data_mesh.snowflake__inline_column_protection('id', {'masking': none, 'tags': {}})),
  ('table with row access and tags', data_mesh.snowflake__inline_table_protection({'row_access': {'policy': 'region_entitlement', 'columns': ['region']}, 'tags': {'confidentiality': 'internal'}})),
  ('table unprotected', data_mesh.snowflake__inline_table_protection({'row_access': none, 'tags': {}})),
]) }}
