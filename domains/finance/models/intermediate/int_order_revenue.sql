-- Revenue-bearing orders (every status but cancelled), attributed to the customer's current region from the
-- customer master (customers.dim_customers, latest version) rather than the region orders denormalised.
select
    orders.order_id,
    orders.customer_id,
    customers.region,
    orders.order_date,
    cast(date_trunc('month', orders.order_date) as date)    as order_month,
    cast(orders.order_total as decimal(12, 2))              as revenue
from {{ ref('orders', 'fct_orders') }} as orders
inner join {{ ref('customers', 'dim_customers') }} as customers
    on customers.customer_id = orders.customer_id
where orders.status <> 'cancelled'
