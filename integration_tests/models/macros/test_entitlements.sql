-- entitlements_select: the library's entitlements (central and the project's) as rows.
{{ data_mesh.entitlements_select() }}
