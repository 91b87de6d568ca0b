-- One row per order line, unnested from the latest event of each order.
with latest as (
    select order_id, lines
    from {{ source('order_stream', 'order_events') }}
    qualify row_number() over (partition by order_id order by _partition desc, _offset desc) = 1
)
{% if target.type == 'snowflake' %}
select
    cast(latest.order_id as integer)                    as order_id,
    cast(line.value:line_number as integer)             as line_number,
    cast(line.value:product_id as integer)              as product_id,
    cast(line.value:quantity as integer)                as quantity,
    cast(line.value:unit_price as decimal(10, 2))       as unit_price
from latest, lateral flatten(input => latest.lines) as line
{% else %}
select
    cast(latest.order_id as integer)                    as order_id,
    cast(line.value ->> 'line_number' as integer)       as line_number,
    cast(line.value ->> 'product_id' as integer)        as product_id,
    cast(line.value ->> 'quantity' as integer)          as quantity,
    cast(line.value ->> 'unit_price' as decimal(10, 2)) as unit_price
from latest, unnest(cast(latest.lines as json[])) as line(value)
{% endif %}
