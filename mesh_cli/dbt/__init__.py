"""Running dbt: long-lived workers (`invoke.py`), parsing domains (`parse.py`) with a content-addressed cache
(`parse_cache.py`), and the mesh as parsed (`inventory.py`)."""
