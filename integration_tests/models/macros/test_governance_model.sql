-- model_governance, validate_all, protection_statements, model_plan, governed_columns_ddl, governance_statements,
-- recording: what the package makes of the governed models of this project.
{%- set cases = [] -%}
{%- if execute -%}
  {%- set library = data_mesh.library() -%}
  {%- do data_mesh.validate_all(library) -%}
  {%- set node = graph.nodes['model.data_mesh_integration_tests.customers'] -%}
  {%- set view_node = graph.nodes['model.data_mesh_integration_tests.customer_names'] -%}
  {%- set gov = data_mesh.model_governance(node, library) -%}
  {%- set view_gov = data_mesh.model_governance(view_node) -%}
  {%- set relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias) -%}
  {%- set view_relation = api.Relation.create(database=view_node.database, schema=view_node.schema, identifier=view_node.alias) -%}
  {%- do cases.extend([
    ('validate_all accepts the project', 'yes'),
    ('customers governed', gov.governed),
    ('customers tags', tojson(gov.tags)),
    ('customers row access', tojson(gov.row_access)),
    ('customers email', tojson(gov.columns.email)),
    ('customers name', tojson(gov.columns.name)),
    ('customer_names name', tojson(view_gov.columns.name)),
    ('customer_names governed', view_gov.governed),
  ]) -%}
  {%- set statements = data_mesh.protection_statements(node, relation, gov) -%}
  {%- for statement in statements -%}
    {%- do cases.append(('duckdb protection of customers ' ~ loop.index, statement)) -%}
  {%- endfor -%}
  {%- do cases.append(('model_plan on duckdb is the protection', data_mesh.model_plan(node, relation, gov) == statements)) -%}
  {%- do cases.append(('snowflake protection of a table', data_mesh.snowflake__protection_statements(node, relation, gov) | length)) -%}
  {%- for statement in data_mesh.snowflake__model_plan(view_node, view_relation, view_gov) -%}
    {%- do cases.append(('snowflake plan of customer_names ' ~ loop.index, statement)) -%}
  {%- endfor -%}
  {%- do cases.append(('snowflake columns of customers', data_mesh.snowflake__governed_columns_ddl(node, relation, gov))) -%}
  {%- set duckdb_objects = data_mesh.governance_statements(library) -%}
  {%- do cases.append(('duckdb governance statements', duckdb_objects | length)) -%}
  {%- do cases.append(('duckdb governance of mask_initial', first_with(duckdb_objects, 'macro governance.mask_initial('))) -%}
  {%- set snowflake_objects = data_mesh.snowflake__governance_statements(library) -%}
  {%- do cases.append(('snowflake governance statements', snowflake_objects | length)) -%}
  {%- do cases.append(('snowflake governance 1', snowflake_objects[0])) -%}
  {%- do cases.append(('snowflake governance of retention', first_with(snowflake_objects, 'governance.retention'))) -%}
  {%- do cases.append(('snowflake governance of mask_initial', first_with(snowflake_objects, 'governance.mask_initial '))) -%}
  {%- do cases.append(('recording', data_mesh.recording())) -%}
{%- endif -%}
{{ cases_select(cases or [('not executed', '')]) }}
