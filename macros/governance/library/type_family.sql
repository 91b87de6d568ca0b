{#- The normalised type family of a contract data type, to match columns with policy arguments. -#}
{% macro type_family(data_type) %}
  {%- set t = (data_type or '') | lower | trim -%}
  {%- set base = t.split('(')[0] | trim -%}
  {%- if base in ['varchar', 'text', 'string', 'char', 'character', 'character varying'] -%}{{ return('varchar') }}
  {%- elif base in ['int', 'integer', 'bigint', 'smallint', 'tinyint', 'number', 'numeric', 'decimal'] -%}{{ return('number') }}
  {%- elif base in ['timestamp', 'timestamp_ntz', 'datetime'] -%}{{ return('timestamp') }}
  {%- else -%}{{ return(base) }}
  {%- endif -%}
{% endmacro %}
