-- An order line is identified by (order_id, line_number): no duplicates.
select order_id, line_number, count(*) as occurrences
from {{ ref('fct_order_lines') }}
group by order_id, line_number
having count(*) > 1
