{#-
  The organisation's central governance library: the mesh repository's `governance.yml` (beside mesh.yml), found
  from the project folder by the package's dbt plugin (`dbt_data_mesh`) and handed over as JSON in the
  MESH_GOVERNANCE_LIBRARY variable, so plain `dbt build` in a domain folder reads it too. The package ships no
  library of its own: without a governance.yml the central library is empty and a domain's `vars.data_mesh` is
  all there is. See docs/governance.md for the format.
-#}
{% macro central_library() %}
  {%- set library = fromjson(env_var('MESH_GOVERNANCE_LIBRARY', '{}')) or {} -%}
  {%- if library.get('error') -%}
    {{ exceptions.raise_compiler_error("governance library: " ~ library.error) }}
  {%- endif -%}
  {{ return(library) }}
{% endmacro %}
