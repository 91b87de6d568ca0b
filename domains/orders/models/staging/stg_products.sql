-- One row per product of the catalogue.
select
    cast(product_id as integer)             as product_id,
    cast(trim(product_name) as varchar)     as product_name,
    cast(trim(category) as varchar)         as category
from {{ ref('raw_products') }}
