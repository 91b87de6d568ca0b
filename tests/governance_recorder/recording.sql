{#- Test only, never shipped: installed into a test project's macros/ by tests/governance_recorder.py. fakesnow
    cannot parse tags, policies or their inline clauses; with MESH_GOVERNANCE_RECORD=true the data_mesh package
    logs those statements (`data_mesh:governance ...`) instead of running them. The package refuses a recorder on
    any Snowflake account but fakesnow. -#}
{% macro default__recording() %}
  {{- return(env_var('MESH_GOVERNANCE_RECORD', 'false') | lower in ['true', '1', 'yes']) -}}
{% endmacro %}
