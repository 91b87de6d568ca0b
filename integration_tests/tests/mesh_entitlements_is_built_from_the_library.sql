-- The package's own model, built into the governance schema, holds the library's entitlements.
{{ config(tags=['package_model']) }}
(select role_name, dimension, value from {{ ref('data_mesh', 'mesh_entitlements') }}
 except all select role_name, dimension, value from {{ ref('expected_entitlements') }})
union all
(select role_name, dimension, value from {{ ref('expected_entitlements') }}
 except all select role_name, dimension, value from {{ ref('data_mesh', 'mesh_entitlements') }})
union all
select 'not in the governance schema', null, null
where '{{ ref('data_mesh', 'mesh_entitlements').schema }}' != 'governance'
