{#-
  The organisation's central governance library: tags, masking policies, row access policies, roles and
  entitlements. Every domain installs it with the package; a domain adds its own entries under
  `vars: {data_mesh: {tags: ..., masking_policies: ..., row_access_policies: ..., roles: ..., entitlements: ...}}`
  in its dbt_project.yml, and may not redefine a central entry (see `data_mesh.library()`).

  Policy bodies are Snowflake SQL over the policy's arguments. `is_role_in_session('R')` decides who sees clear
  values; each policy also exists as `<name>_shared`, deciding with `is_database_role_in_session('R')`, for
  objects shared to other accounts (inside a share CURRENT_ROLE() is NULL). `@entitlements` stands for the
  entitlements table of the policy's database. On DuckDB the same bodies run as DuckDB macros; a body that
  needs another function there gives `body_duckdb`.
-#}
{% macro central_library() %}
{% set library_yaml %}
tags:
  data_domain:
    description: The domain that owns the object.
  confidentiality:
    description: How widely the object may be read.
    allowed_values: [public, internal, confidential, restricted]
  pii:
    description: The kind of personal data a column holds.
    allowed_values: [name, email, phone, birth_date, address, identifier]

masking_policies:
  mask_full:
    description: Replaces every value with a fixed mask.
    args: [{name: val, type: varchar}]
    returns: varchar
    body: "case when is_role_in_session('PII_READER') then val else '*****' end"
  mask_email:
    description: Keeps the domain of an e-mail address, masks the local part.
    args: [{name: val, type: varchar}]
    returns: varchar
    body: "case when is_role_in_session('PII_READER') then val else regexp_replace(val, '^[^@]+', '*****') end"
  mask_hash:
    description: A stable SHA-256 hash, so masked values still join and count distinct.
    args: [{name: val, type: varchar}]
    returns: varchar
    body: "case when is_role_in_session('PII_READER') then val else sha2(val, 256) end"
    body_duckdb: "case when is_role_in_session('PII_READER') then val else sha256(val) end"
  mask_date_to_year:
    description: Keeps the year of a date (January 1st).
    args: [{name: val, type: date}]
    returns: date
    body: "case when is_role_in_session('PII_READER') then val else cast(date_trunc('year', val) as date) end"
  mask_null:
    description: Hides the value entirely.
    args: [{name: val, type: varchar}]
    returns: varchar
    body: "case when is_role_in_session('PII_READER') then val else null end"

row_access_policies:
  region_entitlement:
    description: A row is visible to roles entitled to its region ('*' entitles every region).
    args: [{name: region, type: varchar}]
    body: >-
      exists (select 1 from @entitlements e where e.dimension = 'region'
      and (e.value = region or e.value = '*') and is_role_in_session(e.role_name))

roles:
  PII_READER:
    description: Sees personal data in clear.
  ALL_REGIONS:
    description: Sees the rows of every region.
  EMEA_ANALYST:
    description: Analyst of the EMEA region.
  NA_ANALYST:
    description: Analyst of the North America region.
  APAC_ANALYST:
    description: Analyst of the APAC region.
  LATAM_ANALYST:
    description: Analyst of the Latin America region.

entitlements:
  - {role: ALL_REGIONS, dimension: region, values: ["*"]}
  - {role: EMEA_ANALYST, dimension: region, values: [EMEA]}
  - {role: NA_ANALYST, dimension: region, values: [NA]}
  - {role: APAC_ANALYST, dimension: region, values: [APAC]}
  - {role: LATAM_ANALYST, dimension: region, values: [LATAM]}
{% endset %}
{{ return(fromyaml(library_yaml)) }}
{% endmacro %}
