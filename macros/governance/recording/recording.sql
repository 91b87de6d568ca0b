{#- Whether governance statements fakesnow cannot run are recorded (logged) instead of executed. -#}
{% macro recording() %}
  {{- return(var('data_mesh_record_governance', env_var('MESH_GOVERNANCE_RECORD', 'false')) | string | lower in ['true', '1', 'yes']) -}}
{% endmacro %}
