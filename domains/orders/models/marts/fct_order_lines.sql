-- One row per order line with its product and value.
select
    lines.order_id,
    lines.line_number,
    orders.order_date,
    lines.product_id,
    products.product_name,
    products.category,
    lines.quantity,
    lines.unit_price,
    cast(lines.quantity * lines.unit_price as decimal(12, 2))   as line_total
from {{ ref('stg_order_lines') }} as lines
inner join {{ ref('stg_orders') }} as orders
    on orders.order_id = lines.order_id
left join {{ ref('stg_products') }} as products
    on products.product_id = lines.product_id
