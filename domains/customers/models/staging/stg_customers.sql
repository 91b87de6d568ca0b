-- One row per customer, typed and tidied from the CRM exports: the latest export of each customer wins.
select
    cast(customer_id as integer)                    as customer_id,
    cast(trim(first_name) as varchar)               as first_name,
    cast(trim(last_name) as varchar)                as last_name,
    cast(lower(trim(email)) as varchar)             as email,
    cast(trim(phone) as varchar)                    as phone,
    cast(birth_date as date)                        as birth_date,
    cast(upper(trim(region)) as varchar)            as region,
    cast(upper(trim(country)) as varchar)           as country,
    cast(signup_date as date)                       as signup_date
from {{ source('crm', 'customers') }}
qualify row_number() over (partition by customer_id order by _file_last_modified desc, _file desc, _file_row desc) = 1
