{#- The argument list of a policy's signature: `name type, ...`. -#}
{% macro policy_signature(policy) %}
  {%- set parts = [] -%}
  {%- for arg in policy.args -%}{%- do parts.append(arg.name ~ ' ' ~ arg.type) -%}{%- endfor -%}
  {{- return(parts | join(', ')) -}}
{% endmacro %}
