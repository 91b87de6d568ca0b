-- The governed table read by a session holding EMEA_ANALYST: EMEA rows only, e-mails and names masked.
{{ config(pre_hook="set variable mesh_roles = ['EMEA_ANALYST']", post_hook="reset variable mesh_roles") }}
select c.customer_id, c.email, c.region, n.name as masked_name
from {{ ref('customers') }} as c join {{ ref('customer_names') }} as n using (customer_id)
