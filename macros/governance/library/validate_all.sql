{#- Validate every model of the project before anything builds (called from the on-run-start hook). -#}
{% macro validate_all(library) %}
  {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.package_name == project_name -%}
    {%- do data_mesh.model_governance(node, library) -%}
  {%- endfor -%}
{% endmacro %}
