"""The dbt plugin's logic: cross-domain ref resolution (`resolver.py`), registered by the top-level
`dbt_data_mesh` module."""
