-- revenue_by_region_month has exactly one row per region and month.
select region, month, count(*) as occurrences
from {{ ref('revenue_by_region_month') }}
group by region, month
having count(*) > 1
