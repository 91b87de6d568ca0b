-- No revenue falls outside the target plan: revenue by region and month adds up to revenue by customer.
with by_month as (
    select coalesce(sum(revenue), 0) as revenue from {{ ref('revenue_by_region_month') }}
),

by_customer as (
    select coalesce(sum(revenue), 0) as revenue from {{ ref('customer_revenue') }}
)

select by_month.revenue as revenue_by_month, by_customer.revenue as revenue_by_customer
from by_month
cross join by_customer
where by_month.revenue <> by_customer.revenue
