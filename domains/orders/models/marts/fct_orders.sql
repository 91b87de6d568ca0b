-- One row per order with the customer's region, item count and order value.
-- The region comes from version 1 of customers' dim_customers: this domain has not migrated to v2 yet.
select
    orders.order_id,
    orders.customer_id,
    customers.region,
    orders.order_date,
    orders.status,
    orders.channel,
    cast(coalesce(totals.item_count, 0) as integer)             as item_count,
    cast(coalesce(totals.order_total, 0) as decimal(12, 2))     as order_total
from {{ ref('stg_orders') }} as orders
left join {{ ref('int_order_totals') }} as totals
    on totals.order_id = orders.order_id
left join {{ ref('customers', 'dim_customers', v=1) }} as customers
    on customers.customer_id = orders.customer_id
