"""Open-standard exports of the catalogue: ODCS data contracts and ODPS data product descriptors."""
