-- Every order's total equals the sum of its lines' totals.
select orders.order_id, orders.order_total, sum(lines.line_total) as lines_total
from {{ ref('fct_orders') }} as orders
left join {{ ref('fct_order_lines') }} as lines
    on lines.order_id = orders.order_id
group by orders.order_id, orders.order_total
having orders.order_total <> coalesce(sum(lines.line_total), 0)
