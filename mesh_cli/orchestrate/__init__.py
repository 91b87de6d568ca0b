"""Running the mesh's domain graph on an orchestrator (docs/orchestration.md): the graph file `mesh` writes, and
the Airflow DAGs built from it. Nothing here imports dbt: an orchestrator parses DAG files without it."""
