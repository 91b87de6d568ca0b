-- One row per product of the catalogue (the category comes from the files' hive partition).
select
    cast(product_id as integer)             as product_id,
    cast(trim(product_name) as varchar)     as product_name,
    cast(trim(category) as varchar)         as category
from {{ source('catalogue', 'products') }}
