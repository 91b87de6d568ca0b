"""The data product catalogue: an index of every product, a static site, a terminal view, and open-standard
exports (ODCS data contracts, ODPS product descriptors).

What other features use:

    catalog = build_catalog(config, target)
    product = find_product(catalog, "customers.customer_master")

The words Snowflake shows for a product (listing description, COMMENTs) live in `mesh_cli.core.product_text`,
so publishing uses them without importing the catalogue.
"""

from mesh_cli.catalog.index import Catalog, build_catalog, find_product
from mesh_cli.catalog.publish import publish_status

__all__ = ["Catalog", "build_catalog", "find_product", "publish_status"]
