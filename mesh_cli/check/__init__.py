"""`mesh check`: contracts of public models against the deployed mesh, cross-domain impact, governance rules.

`run.py` orchestrates: the working tree is parsed (`mesh_cli.dbt.parse`), the baseline read (`baseline.py`,
`git_baseline.py`), every public model compared (`changes.py`), each change's consumers found and the policy
applied (`policy.py`), and the governance rules checked (`governance.py`); the rules are data (`rules.py`).
"""
