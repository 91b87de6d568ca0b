"""The data product catalogue: an index of every product, a static site, a terminal view, and open-standard
exports (ODCS data contracts, ODPS product descriptors).

What other features use (e.g. publishing, for listing manifests and COMMENTs on shared objects):

    catalog = build_catalog(config, target)
    product = find_product(catalog, "customers.customer_master")
    product_description(product)                             # the listing's description
    share_comment(product)                                   # COMMENT of the share
    object_comment(product, "customers.dim_customers.v2")    # COMMENT of a shared table or view
"""

from mesh_cli.catalog.describe import object_comment, product_description, share_comment
from mesh_cli.catalog.index import Catalog, build_catalog, find_product
from mesh_cli.catalog.publish import publish_status

__all__ = ["Catalog", "build_catalog", "find_product", "object_comment", "product_description", "publish_status",
           "share_comment"]
