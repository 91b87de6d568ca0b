-- A governed table: masked e-mail, rows filtered by region, tagged (see _governed.yml).
select cast(customer_id as integer) as customer_id, cast(email as varchar) as email,
       cast(region as varchar) as region, cast(name as varchar) as name
from {{ ref('customers_input') }}
