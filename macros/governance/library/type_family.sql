{#- The type families that columns and policy arguments are matched by. One rule source: this package reads it
    here, and mesh_cli reads the literal below with Jinja's own parser (core/type_families.py), so the two cannot
    differ. Keep it a literal: names of families to lists of type names, lower case, without parameters. -#}
{% macro type_families() %}
  {{ return({
    'varchar': ['varchar', 'text', 'string', 'char', 'character', 'character varying'],
    'number': ['int', 'integer', 'bigint', 'smallint', 'tinyint', 'number', 'numeric', 'decimal'],
    'timestamp': ['timestamp', 'timestamp_ntz', 'datetime'],
  }) }}
{% endmacro %}

{#- The normalised type family of a contract data type (`varchar(20)` and `text` are both varchar). -#}
{% macro type_family(data_type) %}
  {%- set base = ((data_type or '') | lower | trim).split('(')[0] | trim -%}
  {%- for family, names in data_mesh.type_families().items() if base in names -%}
    {{ return(family) }}
  {%- endfor -%}
  {{ return(base) }}
{% endmacro %}
