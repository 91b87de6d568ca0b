"""The data product catalogue: an index of every product, a static site, a terminal view, and open-standard
exports (ODCS data contracts, ODPS product descriptors)."""
