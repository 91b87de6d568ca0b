{#- The model and `compare` hold the same rows (as multisets): every row missing on either side fails. -#}
{% test equal_rows(model, compare) %}
(select 'missing from the model' as problem, * from (select * from {{ compare }} except all select * from {{ model }}) as missing)
union all
(select 'unexpected in the model' as problem, * from (select * from {{ model }} except all select * from {{ compare }}) as unexpected)
{% endtest %}
