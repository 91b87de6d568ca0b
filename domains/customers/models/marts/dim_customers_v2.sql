-- Version 2 of the customer dimension: split names, adds phone and birth_date.
select
    customer_id,
    first_name,
    last_name,
    email,
    phone,
    birth_date,
    region,
    country,
    signup_date
from {{ ref('stg_customers') }}
