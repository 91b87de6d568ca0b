{#- The fully qualified name of a governance object: <database>.governance.<name>. -#}
{% macro governance_object(name) %}
  {{- return(target.database ~ '.' ~ data_mesh.governance_schema() ~ '.' ~ name) -}}
{% endmacro %}
