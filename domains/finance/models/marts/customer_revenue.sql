-- One row per customer with at least one revenue-bearing (non-cancelled) order.
select
    customer_id,
    region,
    min(order_date)                                 as first_order_date,
    max(order_date)                                 as last_order_date,
    cast(count(*) as integer)                       as order_count,
    cast(sum(revenue) as decimal(14, 2))            as revenue
from {{ ref('int_order_revenue') }}
group by customer_id, region
