-- Line, item and value totals per order (orders without lines do not appear here).
select
    order_id,
    cast(count(*) as integer)                               as line_count,
    cast(sum(quantity) as integer)                          as item_count,
    cast(sum(quantity * unit_price) as decimal(12, 2))      as order_total
from {{ ref('stg_order_lines') }}
group by order_id
