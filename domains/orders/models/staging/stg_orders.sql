-- One row per order, typed and normalised from the raw order feed.
select
    cast(order_id as integer)               as order_id,
    cast(customer_id as integer)            as customer_id,
    cast(order_date as date)                as order_date,
    cast(lower(trim(status)) as varchar)    as status,
    cast(lower(trim(channel)) as varchar)   as channel
from {{ ref('raw_orders') }}
