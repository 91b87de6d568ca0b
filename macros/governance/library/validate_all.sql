{#- Validate every model of the project before anything builds (called from the on-run-start hook), on every
    engine: a governed table must have an enforced contract, as Snowflake creates its policies inline in CREATE
    TABLE from the contract's columns (without one it would be created with no policy at all). -#}
{% macro validate_all(library) %}
  {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.package_name == project_name -%}
    {%- set gov = data_mesh.model_governance(node, library) -%}
    {%- if gov.governed and node.config.materialized in ['table', 'incremental'] and not node.config.contract.enforced -%}
      {%- do data_mesh._fail(node, "is a governed " ~ node.config.materialized ~ " without an enforced contract, so Snowflake would create it without its policies", "add `contract: {enforced: true}` to its config") -%}
    {%- endif -%}
  {%- endfor -%}
{% endmacro %}
