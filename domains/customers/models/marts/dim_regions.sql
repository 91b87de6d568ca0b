-- One row per sales region with its display name and its number of customers.
select
    cast(region as varchar)                                 as region,
    cast(
        case region
            when 'EMEA' then 'Europe, Middle East and Africa'
            when 'NA' then 'North America'
            when 'APAC' then 'Asia-Pacific'
            when 'LATAM' then 'Latin America'
        end
    as varchar)                                             as region_name,
    cast(count(*) as integer)                               as customer_count
from {{ ref('stg_customers') }}
group by region
