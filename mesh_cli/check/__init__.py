"""`mesh check`: contracts of public models against the deployed mesh, cross-domain impact, governance rules.

`run.py` orchestrates: the working tree is parsed (`mesh_cli.dbt.parse`), the baseline read (`baseline.py`,
`git_baseline.py`), every public model compared and each change's consumers found by the contract comparison
(`mesh_cli.contracts`: changes, policy, the rules as data), the governance rules checked (`governance.py`), and
the findings gathered into a report (`report.py`), rendered by `output/`.
"""
