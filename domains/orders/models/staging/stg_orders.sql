-- One row per order, typed and normalised from the order events: the latest event of each order wins.
select
    cast(order_id as integer)               as order_id,
    cast(customer_id as integer)            as customer_id,
    cast(order_date as date)                as order_date,
    cast(lower(trim(status)) as varchar)    as status,
    cast(lower(trim(channel)) as varchar)   as channel
from {{ source('order_stream', 'order_events') }}
qualify row_number() over (partition by order_id order by _partition desc, _offset desc) = 1
