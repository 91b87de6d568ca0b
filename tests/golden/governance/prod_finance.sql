create schema if not exists FINANCE.governance;
create tag if not exists FINANCE.governance.data_domain comment = 'The domain that owns the object.';
create tag if not exists FINANCE.governance.confidentiality allowed_values 'public', 'internal', 'confidential', 'restricted' comment = 'How widely the object may be read.';
create tag if not exists FINANCE.governance.pii allowed_values 'name', 'email', 'phone', 'birth_date', 'address', 'identifier' comment = 'The kind of personal data a column holds.';
create masking policy if not exists FINANCE.governance.mask_full as (val varchar) returns varchar -> case when is_role_in_session('PII_READER') then val else '*****' end comment = 'Replaces every value with a fixed mask.';
create masking policy if not exists FINANCE.governance.mask_email as (val varchar) returns varchar -> case when is_role_in_session('PII_READER') then val else regexp_replace(val, '^[^@]+', '*****') end comment = 'Keeps the domain of an e-mail address, masks the local part.';
create masking policy if not exists FINANCE.governance.mask_hash as (val varchar) returns varchar -> case when is_role_in_session('PII_READER') then val else sha2(val, 256) end comment = 'A stable SHA-256 hash, so masked values still join and count distinct.';
create masking policy if not exists FINANCE.governance.mask_date_to_year as (val date) returns date -> case when is_role_in_session('PII_READER') then val else cast(date_trunc('year', val) as date) end comment = 'Keeps the year of a date (January 1st).';
create masking policy if not exists FINANCE.governance.mask_null as (val varchar) returns varchar -> case when is_role_in_session('PII_READER') then val else null end comment = 'Hides the value entirely.';
create masking policy if not exists FINANCE.governance.mask_full_shared as (val varchar) returns varchar -> case when (is_role_in_session('PII_READER') or is_database_role_in_session('PII_READER')) then val else '*****' end comment = 'Replaces every value with a fixed mask.';
create masking policy if not exists FINANCE.governance.mask_email_shared as (val varchar) returns varchar -> case when (is_role_in_session('PII_READER') or is_database_role_in_session('PII_READER')) then val else regexp_replace(val, '^[^@]+', '*****') end comment = 'Keeps the domain of an e-mail address, masks the local part.';
create masking policy if not exists FINANCE.governance.mask_hash_shared as (val varchar) returns varchar -> case when (is_role_in_session('PII_READER') or is_database_role_in_session('PII_READER')) then val else sha2(val, 256) end comment = 'A stable SHA-256 hash, so masked values still join and count distinct.';
create masking policy if not exists FINANCE.governance.mask_date_to_year_shared as (val date) returns date -> case when (is_role_in_session('PII_READER') or is_database_role_in_session('PII_READER')) then val else cast(date_trunc('year', val) as date) end comment = 'Keeps the year of a date (January 1st).';
create masking policy if not exists FINANCE.governance.mask_null_shared as (val varchar) returns varchar -> case when (is_role_in_session('PII_READER') or is_database_role_in_session('PII_READER')) then val else null end comment = 'Hides the value entirely.';
create row access policy if not exists FINANCE.governance.region_entitlement as (region varchar) returns boolean -> exists (select 1 from FINANCE.governance.mesh_entitlements e where e.dimension = 'region' and (e.value = region or e.value = '*') and is_role_in_session(e.role_name)) comment = 'A row is visible to roles entitled to its region (''*'' entitles every region).';
create row access policy if not exists FINANCE.governance.region_entitlement_shared as (region varchar) returns boolean -> exists (select 1 from FINANCE.governance.mesh_entitlements e where e.dimension = 'region' and (e.value = region or e.value = '*') and (is_role_in_session(e.role_name) or is_database_role_in_session(e.role_name))) comment = 'A row is visible to roles entitled to its region (''*'' entitles every region).';
create or replace transient table FINANCE.marts.customer_revenue (
    customer_id integer not null,
    region varchar,
    first_order_date date,
    last_order_date date,
    order_count integer,
    revenue decimal(14,2)
)
copy grants
with row access policy FINANCE.governance.region_entitlement on (region)
    with tag (FINANCE.governance.data_domain = 'finance', FINANCE.governance.confidentiality = 'confidential')
as (...);
create or replace transient table FINANCE.marts.revenue_by_region_month (
    region varchar not null,
    month date not null,
    order_count integer,
    customer_count integer,
    revenue decimal(14,2),
    target_revenue decimal(12,2),
    attainment decimal(9,4)
)
copy grants
with row access policy FINANCE.governance.region_entitlement on (region)
    with tag (FINANCE.governance.data_domain = 'finance', FINANCE.governance.confidentiality = 'confidential')
as (...);
