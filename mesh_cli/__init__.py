"""dbt-data-mesh: a data mesh toolkit for Snowflake, built on dbt."""

__version__ = "0.1.0"
