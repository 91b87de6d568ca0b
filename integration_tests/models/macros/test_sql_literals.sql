-- sql_string, sql_values: literals that read back as the value they quote.
select 'sql_string of a plain word' as case_name, cast({{ data_mesh.sql_string('EMEA') }} as varchar) as actual
union all select 'sql_string doubles a quote', {{ data_mesh.sql_string("O'Brien") }}
union all select 'sql_string keeps a backslash (standard SQL)', {{ data_mesh.sql_string('C:\\masks\\') }}
union all select 'sql_string of a number', {{ data_mesh.sql_string(42) }}
union all select 'sql_values', {{ data_mesh.sql_string(data_mesh.sql_values(['a', none, "it's", 3])) }}
