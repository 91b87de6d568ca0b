-- Version 1 of the customer dimension: a single full_name column. Deprecated, see dim_customers_v2.
select
    customer_id,
    cast(first_name || ' ' || last_name as varchar) as full_name,
    email,
    region,
    country,
    signup_date
from {{ ref('stg_customers') }}
