-- A session holding no role sees no row of the governed table (row access) and no clear name (masking).
select 'customers' as relation, customer_id from {{ ref('customers') }}
union all
select 'customer_names', customer_id from {{ ref('customer_names') }} where name not like '_.'
