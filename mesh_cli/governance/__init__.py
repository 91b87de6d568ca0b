"""Federated governance: the plan of governance statements per domain, and reading governed data as a role.

The policies themselves live in the dbt package (macros/governance/): dbt creates and attaches them while it
builds, so plain `dbt build` inside a domain is governed too. This package asks dbt for the plan.
"""
