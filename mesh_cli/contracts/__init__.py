"""The contract comparison `mesh check` runs and the catalogue's contract history shows: a domain's public contracts
read from its manifest (`snapshot.py`), the changes between two snapshots (`changes.py`), the rule catalogue as data
(`rules.py`), the policy that turns changes into findings with the consumers each reaches (`policy.py`), and the
findings themselves (`findings.py`). Pure: it reads manifests already loaded and imports only `mesh_cli.core`.
"""
