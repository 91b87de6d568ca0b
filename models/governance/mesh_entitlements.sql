-- Which roles may see which values of an entitlement dimension (e.g. region), from the governance library
-- (central entries plus the domain's `vars.data_mesh.entitlements`). Row access policies read this table.
{{ data_mesh.entitlements_select() }}
