"""The mesh model: configuration, domains, their graph, cross-domain refs, dbt artifacts and saved state."""
