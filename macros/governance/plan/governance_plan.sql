{#-
  `dbt run-operation data_mesh.governance_plan`: the governance statements a build of this project runs on its
  target, in order, without running them (behind `mesh governance plan`). Each statement is logged on a line
  of its own, prefixed `data_mesh:plan `. A contracted table's statement shows its column list and inline
  protection; `as (...)` stands for the model's compiled SQL.
-#}
{% macro governance_plan() %}
  {%- set library = data_mesh.library() -%}
  {%- do data_mesh.validate_all(library) -%}
  {%- for statement in data_mesh.governance_statements(library) -%}
    {%- do log('data_mesh:plan ' ~ statement, info=true) -%}
  {%- endfor -%}
  {%- set nodes = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
                  | selectattr('package_name', 'equalto', project_name) | sort(attribute='unique_id') -%}
  {%- for node in nodes -%}
    {%- set gov = data_mesh.model_governance(node, library) -%}
    {%- if gov.governed or gov.tags or (gov.columns.values() | selectattr('tags') | list) -%}
      {%- set relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias) -%}
      {%- for statement in data_mesh.model_plan(node, relation, gov) -%}
        {%- do log('data_mesh:plan ' ~ statement, info=true) -%}
      {%- endfor -%}
    {%- endif -%}
  {%- endfor -%}
{% endmacro %}
