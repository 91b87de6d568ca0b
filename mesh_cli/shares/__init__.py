"""Publishing data products as Snowflake shares (emulated on DuckDB): desired state from domain.yml and the
manifest, a pure diff over SHOW output, one backend per engine, listings, and what consumers may read.

Public functions: `publish`, `publish_after_build`, `publish_domain` (shares.publish) and `shared_relations`
(shares.access, used by the ref resolver). Import them from their modules: this package's `__init__` stays empty
so the resolver, which runs inside dbt, loads only what it needs.
"""
