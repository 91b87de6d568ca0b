-- role_grants_select: the role hierarchy of the library (`inherits`) as rows.
{{ data_mesh.role_grants_select(data_mesh.library()) }}
