{#-
  Contracts written for Snowflake, checked on DuckDB by Snowflake's type semantics (docs/snowflake-sql-locally.md).

  On Snowflake, dbt's contract check compares the type *family* the connector reports for each column
  (snowflake.connector.constants.FIELD_ID_TO_NAME: FIXED, REAL, TEXT, ...): NUMBER(38,0) holds a NUMBER(18,2)
  column, FLOAT never holds a NUMBER. Types and synonyms: https://docs.snowflake.com/en/sql-reference/intro-summary-data-types
  Here the declared type is read as Snowflake reads it, the DuckDB type of the model's column as the family it
  stands for, and a column holds when the families are equal. The DDL of a contracted table spells each declared
  type the way mesh_cli/engines/duckdb_types.py does (NUMBER(p,0) is BIGINT, VARIANT is JSON).
  These macros are found by dispatch: a domain's dbt_project.yml lists `data_mesh` in the `dbt` search order.
-#}

{%- macro snowflake_type_family(data_type) -%}
  {#- The Snowflake family of a type as written in a contract (FIXED, REAL, TEXT, ...); unknown: upper-cased. -#}
  {%- set name = ' '.join((data_type | string).split('(')[0].lower().split()) -%}
  {%- set families = {
      'FIXED': ['number', 'numeric', 'decimal', 'dec', 'int', 'integer', 'bigint', 'smallint', 'tinyint', 'byteint'],
      'REAL': ['float', 'float4', 'float8', 'double', 'double precision', 'real'],
      'TEXT': ['varchar', 'char', 'character', 'string', 'text', 'char varying', 'character varying', 'nchar',
               'nvarchar', 'nvarchar2', 'nchar varying'],
      'BINARY': ['binary', 'varbinary'],
      'BOOLEAN': ['boolean'],
      'DATE': ['date'],
      'TIME': ['time'],
      'TIMESTAMP_NTZ': ['timestamp_ntz', 'timestamp', 'datetime', 'timestamp without time zone'],
      'TIMESTAMP_LTZ': ['timestamp_ltz', 'timestamp with local time zone'],
      'TIMESTAMP_TZ': ['timestamp_tz', 'timestamp with time zone'],
      'VARIANT': ['variant'], 'OBJECT': ['object'], 'ARRAY': ['array'],
      'GEOGRAPHY': ['geography'], 'GEOMETRY': ['geometry'],
  } -%}
  {%- for family, names in families.items() if name in names -%}
    {{ return(family) }}
  {%- endfor -%}
  {{ return(name | upper) }}
{%- endmacro -%}

{%- macro duckdb_type_families(duckdb_type) -%}
  {#- The Snowflake families a DuckDB column type stands for. DuckDB's 32-bit FLOAT stands for none: Snowflake's
      FLOAT is 64-bit. TIMESTAMPTZ stands for both TIMESTAMP_TZ and TIMESTAMP_LTZ, JSON for VARIANT, OBJECT and
      ARRAY: DuckDB cannot tell them apart. -#}
  {%- set spelled = ' '.join((duckdb_type | string).upper().split()) -%}
  {%- set name = spelled.split('(')[0].strip() -%}
  {%- if modules.re.search('\\[\\d*\\]$', spelled) -%} {{ return(['ARRAY']) }}
  {%- elif name in ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER',
                    'UBIGINT', 'UHUGEINT', 'DECIMAL', 'NUMERIC', 'INT1', 'INT2', 'INT4', 'INT8', 'INT', 'LONG'] -%}
    {{ return(['FIXED']) }}
  {%- elif name in ['DOUBLE', 'FLOAT8'] -%} {{ return(['REAL']) }}
  {%- elif name in ['VARCHAR', 'TEXT', 'STRING'] -%} {{ return(['TEXT']) }}
  {%- elif name in ['BLOB', 'BYTEA', 'VARBINARY'] -%} {{ return(['BINARY']) }}
  {%- elif name in ['BOOLEAN', 'BOOL'] -%} {{ return(['BOOLEAN']) }}
  {%- elif name == 'DATE' -%} {{ return(['DATE']) }}
  {%- elif name == 'TIME' -%} {{ return(['TIME']) }}
  {%- elif name in ['TIMESTAMP', 'DATETIME', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS', 'TIMESTAMP_US'] -%}
    {{ return(['TIMESTAMP_NTZ']) }}
  {%- elif name in ['TIMESTAMP WITH TIME ZONE', 'TIMESTAMPTZ'] -%} {{ return(['TIMESTAMP_TZ', 'TIMESTAMP_LTZ']) }}
  {%- elif name == 'JSON' -%} {{ return(['VARIANT', 'OBJECT', 'ARRAY']) }}
  {%- elif name in ['STRUCT', 'MAP'] -%} {{ return(['OBJECT']) }}
  {%- endif -%}
  {{ return([]) }}
{%- endmacro -%}

{%- macro duckdb_contract_type(data_type) -%}
  {#- DuckDB's spelling of a Snowflake contract type (as mesh_cli/engines/duckdb_types.duckdb_type); a type of
      another family is left as written. -#}
  {%- set family = data_mesh.snowflake_type_family(data_type) -%}
  {%- set native_integers = ['integer', 'int', 'int4', 'bigint', 'int8', 'smallint', 'int2', 'tinyint', 'hugeint'] -%}
  {%- if (data_type | string | lower | trim) in native_integers -%}
    {#- DuckDB's own integer spelling stays as written: the incremental schema check compares the table with the
        model's select by type name -#}
    {{ return(data_type | string | upper) }}
  {%- endif -%}
  {%- if family == 'FIXED' -%}
    {%- set sizes = modules.re.findall('\\d+', (data_type | string).split('(', 1)[1] if '(' in data_type else '') -%}
    {%- if sizes | length == 2 and sizes[1] | int > 0 -%} {{ return('DECIMAL(' ~ sizes[0] ~ ',' ~ sizes[1] ~ ')') }} {%- endif -%}
    {{ return('BIGINT') }}
  {%- endif -%}
  {%- set spellings = {'REAL': 'DOUBLE', 'TEXT': 'VARCHAR', 'BINARY': 'BLOB', 'BOOLEAN': 'BOOLEAN', 'DATE': 'DATE',
                       'TIME': 'TIME', 'TIMESTAMP_NTZ': 'TIMESTAMP', 'TIMESTAMP_LTZ': 'TIMESTAMPTZ',
                       'TIMESTAMP_TZ': 'TIMESTAMPTZ', 'VARIANT': 'JSON', 'OBJECT': 'JSON', 'ARRAY': 'JSON'} -%}
  {{ return(spellings.get(family, data_type)) }}
{%- endmacro -%}

{%- macro snowflake_family_spelling(family) -%}
  {#- A Snowflake type of a family, to name in a fix. -#}
  {{ return({'FIXED': 'number(38,0)', 'REAL': 'float', 'TEXT': 'varchar', 'BINARY': 'binary', 'BOOLEAN': 'boolean',
             'DATE': 'date', 'TIME': 'time', 'TIMESTAMP_NTZ': 'timestamp_ntz', 'TIMESTAMP_TZ': 'timestamp_tz',
             'VARIANT': 'variant', 'OBJECT': 'object', 'ARRAY': 'array'}.get(family, family | lower)) }}
{%- endmacro -%}

{% macro duckdb__get_assert_columns_equivalent(sql) -%}
  {#- dbt's contract check (dbt/include/global_project/macros/relations/column/columns_spec_ddl.sql), comparing
      by family. A failed check is one line: the model, each column that does not hold with both types (the local
      one and the Snowflake family it stands for), and the fix. -#}
  {%- set declared = model['columns'] -%}
  {%- if not declared -%} {{ exceptions.raise_contract_error([], []) }} {%- endif -%}
  {%- set found = get_column_schema_from_query(sql, config.get('sql_header', none)) -%}
  {%- set problems = [] -%}
  {%- set selected = found | map(attribute='name') | list -%}
  {%- for column in declared.values() if column['name'] not in selected -%}
    {%- do problems.append('column ' ~ column['name'] ~ ' (' ~ column['data_type'] ~ ') is declared but not selected: select it or remove it from the YAML') -%}
  {%- endfor -%}
  {%- for column in found -%}
    {%- set matching = declared.values() | selectattr('name', 'equalto', column.name) | list -%}
    {%- if not matching -%}
      {%- do problems.append('column ' ~ column.name ~ ' (' ~ column.dtype ~ ') is selected but not declared: declare it or leave it out of the select') -%}
    {%- else -%}
      {%- set wanted = data_mesh.snowflake_type_family(matching[0]['data_type']) -%}
      {%- set families = data_mesh.duckdb_type_families(column.dtype) -%}
      {%- if wanted not in families and families -%}
        {%- do problems.append('column ' ~ column.name ~ ' is ' ~ column.dtype ~ ' here (' ~ (families | join(' or ')) ~ ' on Snowflake), declared ' ~ matching[0]['data_type'] ~ ' (' ~ wanted ~ '), a data type mismatch: cast it in the select (::' ~ matching[0]['data_type'] ~ ') or declare data_type: ' ~ data_mesh.snowflake_family_spelling(families[0])) -%}
      {%- elif wanted not in families -%}
        {%- do problems.append('column ' ~ column.name ~ ' is ' ~ column.dtype ~ " here (DuckDB's 32-bit FLOAT; Snowflake's FLOAT is 64-bit), declared " ~ matching[0]['data_type'] ~ ', a data type mismatch: cast it in the select to DOUBLE') -%}
      {%- endif -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if problems -%}
    {%- do exceptions.raise_compiler_error('model ' ~ model['name'] ~ ' breaks its contract: ' ~ problems | join('; ')) -%}
  {%- endif -%}
{%- endmacro %}

{% macro duckdb__get_table_columns_and_constraints() -%}
  {#- dbt's DDL of a contracted table, each declared type in DuckDB's spelling. -#}
  {%- set columns = {} -%}
  {%- for name, column in model['columns'].items() -%}
    {%- set local = {} -%}
    {%- do local.update(column) -%}
    {%- do local.update({'data_type': data_mesh.duckdb_contract_type(column['data_type'] | string)}) -%}
    {%- do columns.update({name: local}) -%}
  {%- endfor -%}
  {%- set raw_column_constraints = adapter.render_raw_columns_constraints(raw_columns=columns) -%}
  {%- set raw_model_constraints = adapter.render_raw_model_constraints(raw_constraints=model['constraints']) -%}
    (
    {% for c in raw_column_constraints -%}
      {{ c }}{{ "," if not loop.last or raw_model_constraints }}
    {% endfor %}
    {% for c in raw_model_constraints -%}
        {{ c }}{{ "," if not loop.last }}
    {% endfor -%}
    )
{%- endmacro %}
