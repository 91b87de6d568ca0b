-- Monthly revenue target per region, as set by finance.
select
    cast(upper(trim(region)) as varchar)        as region,
    cast(month as date)                         as month,
    cast(target_revenue as decimal(12, 2))      as target_revenue
from {{ ref('revenue_targets') }}
