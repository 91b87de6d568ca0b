-- The governed table read by a session holding TEST_DEPLOYER (granted PII_READER and ALL_REGIONS): every row, clear.
{{ config(pre_hook="set variable mesh_roles = ['TEST_DEPLOYER']", post_hook="reset variable mesh_roles") }}
select c.customer_id, c.email, c.region, n.name as masked_name
from {{ ref('customers') }} as c join {{ ref('customer_names') }} as n using (customer_id)
