-- One row per region and month of the target plan: orders, ordering customers, revenue and target attainment.
with actuals as (
    select
        region,
        order_month,
        count(*)                        as order_count,
        count(distinct customer_id)     as customer_count,
        sum(revenue)                    as revenue
    from {{ ref('int_order_revenue') }}
    group by region, order_month
)

select
    targets.region,
    targets.month,
    cast(coalesce(actuals.order_count, 0) as integer)           as order_count,
    cast(coalesce(actuals.customer_count, 0) as integer)        as customer_count,
    cast(coalesce(actuals.revenue, 0) as decimal(14, 2))        as revenue,
    targets.target_revenue,
    cast(
        case
            when targets.target_revenue > 0
                then coalesce(actuals.revenue, 0) / targets.target_revenue
        end
    as decimal(9, 4))                                           as attainment
from {{ ref('stg_revenue_targets') }} as targets
left join actuals
    on actuals.region = targets.region
    and actuals.order_month = targets.month
