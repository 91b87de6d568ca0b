-- A governed view in a custom schema: its name column is masked by a policy of the domain's own extension.
select cast(customer_id as integer) as customer_id, cast(name as varchar) as name from {{ ref('customers_input') }}
