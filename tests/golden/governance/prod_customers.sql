create schema if not exists CUSTOMERS.governance;
create tag if not exists CUSTOMERS.governance.data_domain comment = 'The domain that owns the object.';
create tag if not exists CUSTOMERS.governance.confidentiality allowed_values 'public', 'internal', 'confidential', 'restricted' comment = 'How widely the object may be read.';
create tag if not exists CUSTOMERS.governance.pii allowed_values 'name', 'email', 'phone', 'birth_date', 'address', 'identifier' comment = 'The kind of personal data a column holds.';
create masking policy if not exists CUSTOMERS.governance.mask_full as (val varchar) returns varchar -> case when is_role_in_session('PII_READER') then val else '*****' end comment = 'Replaces every value with a fixed mask.';
create masking policy if not exists CUSTOMERS.governance.mask_email as (val varchar) returns varchar -> case when is_role_in_session('PII_READER') then val else regexp_replace(val, '^[^@]+', '*****') end comment = 'Keeps the domain of an e-mail address, masks the local part.';
create masking policy if not exists CUSTOMERS.governance.mask_hash as (val varchar) returns varchar -> case when is_role_in_session('PII_READER') then val else sha2(val, 256) end comment = 'A stable SHA-256 hash, so masked values still join and count distinct.';
create masking policy if not exists CUSTOMERS.governance.mask_date_to_year as (val date) returns date -> case when is_role_in_session('PII_READER') then val else cast(date_trunc('year', val) as date) end comment = 'Keeps the year of a date (January 1st).';
create masking policy if not exists CUSTOMERS.governance.mask_null as (val varchar) returns varchar -> case when is_role_in_session('PII_READER') then val else null end comment = 'Hides the value entirely.';
create masking policy if not exists CUSTOMERS.governance.mask_full_shared as (val varchar) returns varchar -> case when (is_role_in_session('PII_READER') or is_database_role_in_session('PII_READER')) then val else '*****' end comment = 'Replaces every value with a fixed mask.';
create masking policy if not exists CUSTOMERS.governance.mask_email_shared as (val varchar) returns varchar -> case when (is_role_in_session('PII_READER') or is_database_role_in_session('PII_READER')) then val else regexp_replace(val, '^[^@]+', '*****') end comment = 'Keeps the domain of an e-mail address, masks the local part.';
create masking policy if not exists CUSTOMERS.governance.mask_hash_shared as (val varchar) returns varchar -> case when (is_role_in_session('PII_READER') or is_database_role_in_session('PII_READER')) then val else sha2(val, 256) end comment = 'A stable SHA-256 hash, so masked values still join and count distinct.';
create masking policy if not exists CUSTOMERS.governance.mask_date_to_year_shared as (val date) returns date -> case when (is_role_in_session('PII_READER') or is_database_role_in_session('PII_READER')) then val else cast(date_trunc('year', val) as date) end comment = 'Keeps the year of a date (January 1st).';
create masking policy if not exists CUSTOMERS.governance.mask_null_shared as (val varchar) returns varchar -> case when (is_role_in_session('PII_READER') or is_database_role_in_session('PII_READER')) then val else null end comment = 'Hides the value entirely.';
create row access policy if not exists CUSTOMERS.governance.region_entitlement as (region varchar) returns boolean -> exists (select 1 from CUSTOMERS.governance.mesh_entitlements e where e.dimension = 'region' and (e.value = region or e.value = '*') and is_role_in_session(e.role_name)) comment = 'A row is visible to roles entitled to its region (''*'' entitles every region).';
create row access policy if not exists CUSTOMERS.governance.region_entitlement_shared as (region varchar) returns boolean -> exists (select 1 from CUSTOMERS.governance.mesh_entitlements e where e.dimension = 'region' and (e.value = region or e.value = '*') and (is_role_in_session(e.role_name) or is_database_role_in_session(e.role_name))) comment = 'A row is visible to roles entitled to its region (''*'' entitles every region).';
create or replace transient table CUSTOMERS.marts.dim_customers_v1 (
    customer_id integer not null,
    email varchar with masking policy CUSTOMERS.governance.mask_email with tag (CUSTOMERS.governance.pii = 'email'),
    region varchar not null,
    country varchar,
    signup_date date,
    full_name varchar with masking policy CUSTOMERS.governance.mask_full with tag (CUSTOMERS.governance.pii = 'name')
)
copy grants
with row access policy CUSTOMERS.governance.region_entitlement on (region)
    with tag (CUSTOMERS.governance.data_domain = 'customers', CUSTOMERS.governance.confidentiality = 'confidential')
as (...);
create or replace transient table CUSTOMERS.marts.dim_customers_v2 (
    customer_id integer not null,
    first_name varchar with masking policy CUSTOMERS.governance.mask_full with tag (CUSTOMERS.governance.pii = 'name'),
    last_name varchar with masking policy CUSTOMERS.governance.mask_full with tag (CUSTOMERS.governance.pii = 'name'),
    email varchar with masking policy CUSTOMERS.governance.mask_email with tag (CUSTOMERS.governance.pii = 'email'),
    phone varchar with masking policy CUSTOMERS.governance.mask_full with tag (CUSTOMERS.governance.pii = 'phone'),
    birth_date date with masking policy CUSTOMERS.governance.mask_date_to_year with tag (CUSTOMERS.governance.pii = 'birth_date'),
    region varchar not null,
    country varchar,
    signup_date date
)
copy grants
with row access policy CUSTOMERS.governance.region_entitlement on (region)
    with tag (CUSTOMERS.governance.data_domain = 'customers', CUSTOMERS.governance.confidentiality = 'confidential')
as (...);
create or replace transient table CUSTOMERS.marts.dim_regions (
    region varchar not null,
    region_name varchar,
    customer_count integer
)
copy grants
with tag (CUSTOMERS.governance.data_domain = 'customers', CUSTOMERS.governance.confidentiality = 'internal')
as (...);
