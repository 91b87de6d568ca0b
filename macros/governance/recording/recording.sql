{#- Whether governance statements are recorded (logged) instead of run. Never, in the shipped package: no variable
    and no environment variable turns it on. Only a project's own `<adapter>__recording()` macro can, as the tests'
    fakesnow recorder does (tests/governance_recorder/), and on Snowflake only against fakesnow: a real account
    always runs every tag, policy and inline clause (issue #26, item 11). -#}
{% macro recording() %}
  {%- set on = adapter.dispatch('recording', 'data_mesh')() -%}
  {%- if on and target.type == 'snowflake' and (target.account or '') | lower != 'fakesnow' -%}
    {{- exceptions.raise_compiler_error(
          "project " ~ project_name ~ " overrides data_mesh's recording() for account " ~ target.account
          ~ ": governance statements are recorded instead of run only against fakesnow, in tests; remove the "
          ~ "project's " ~ target.type ~ "__recording / default__recording macro") -}}
  {%- endif -%}
  {{- return(on) -}}
{% endmacro %}

{% macro default__recording() %}
  {{- return(false) -}}
{% endmacro %}
