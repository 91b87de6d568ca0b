"""The engines (DuckDB, Snowflake) behind core's `Engine` interface; `registry.py` picks a domain's engine."""
