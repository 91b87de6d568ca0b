"""The bad-input and fault matrix (issue 18): each case breaks a copy of the built example mesh one way, runs one
`mesh` command and asserts the exit code, that the message is one line naming the file or object and the fix,
no traceback, and that nothing changed in the state folder (state files, database files, emulated shares).

The example mesh is built once per session (`built_mesh`) and copied per case. docs/reliability.md lists every
case with its message; `RELIABILITY_DOC=<file> pytest tests/test_reliability.py` records the messages to
regenerate it (see `doc_rows`).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from mesh_cli.core import safe_io
from mesh_cli.core.errors import EngineError
from mesh_cli.core.lock import LOCK_FILE
from mesh_cli.core.safe_io import write_text_atomic
from tests.conftest import copy_built_mesh, run_cli

Setup = Callable[[Path], None]
DOC = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"
LONG = "d" * 300


def replace(relative: str, old: str, new: str) -> Setup:
    def setup(root: Path) -> None:
        path = root / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return setup


def edit_yaml(relative: str, change: Callable[[Any], Any]) -> Setup:
    def setup(root: Path) -> None:
        path = root / relative
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        path.write_text(yaml.safe_dump(change(data) or data, sort_keys=False), encoding="utf-8")
    return setup


def write(relative: str, text: str) -> Setup:
    def setup(root: Path) -> None:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return setup


def remove_tree(relative: str) -> Setup:
    return lambda root: shutil.rmtree(root / relative)


def remove(relative: str) -> Setup:
    return lambda root: (root / relative).unlink()


def rename(relative: str, new_name: str) -> Setup:
    return lambda root: (root / relative).rename((root / relative).with_name(new_name))


def both(*setups: Setup) -> Setup:
    def setup(root: Path) -> None:
        for step in setups:
            step(root)
    return setup


def lock_held(root: Path) -> None:
    """A live process (this one) holds the state folder's lock."""
    (root / ".mesh" / LOCK_FILE).write_text(json.dumps({"pid": os.getpid(), "command": "mesh build",
                                                        "since": "2026-12-01T10:00:00+00:00"}))


def empty_domains(root: Path) -> None:
    shutil.rmtree(root / "domains")
    (root / "domains").mkdir()


CUSTOMERS = "domains/customers/domain.yml"
ORDERS_SQL = "domains/orders/models/marts/fct_orders.sql"
CUSTOMER_REF = "ref('customers', 'dim_customers', v=1)"
MANIFEST = ".mesh/state/dev/customers/manifest.json"
PUBLISHED = ".mesh/state/dev/customers/publish.json"
SOURCES = "domains/customers/models/staging/_sources.yml"
MARTS_YML = "domains/customers/models/marts/_marts.yml"
REGIONS_SQL = "domains/customers/models/marts/dim_regions.sql"
GOVERNANCE = "governance.yml"
QUOTED_POLICY = ("  \"mask'quoted\": {description: x, args: [{name: val, type: varchar}], returns: varchar, "
                 "body: val}\n")
REGION_NOT_NULL = ("        description: Sales region of the customer.\n        data_type: varchar\n"
                   "        constraints: [{type: not_null}]\n        data_tests:\n          - not_null\n")
REGION_NULLABLE = ("        description: Sales region of the customer.\n        data_type: varchar\n"
                   "        data_tests:\n")
V2_WITHOUT_REGION = "      - v: 2\n        columns:\n          - include: all\n            exclude: [region]\n"


@dataclass(frozen=True)
class Case:
    """One bad input or fault: how to break the mesh, what to run, and what must come out."""

    id: str
    setup: Setup
    args: tuple[str, ...]
    exit_code: int
    needles: tuple[str, ...]      # all on the one line of the message: the file or object, and the fix
    env: tuple[tuple[str, str], ...] = ()


CASES = [
    # Destruction is never implicit
    Case("domain-yaml-build", rename(CUSTOMERS, "domain.yaml"), ("build", "customers"), 2,
         ("domain.yaml", "rename domain.yaml to domain.yml")),
    Case("domain-yaml-publish", rename(CUSTOMERS, "domain.yaml"), ("publish", "customers"), 2,
         ("domain.yaml", "rename domain.yaml to domain.yml")),
    Case("domain-yaml-list", rename(CUSTOMERS, "domain.yaml"), ("list",), 2, ("domain.yaml", "rename")),
    Case("domains-yml-misnamed", rename(CUSTOMERS, "domains.yml"), ("build", "customers"), 2,
         ("domains.yml", "rename domains.yml to domain.yml")),
    Case("domain-yml-deleted-build", remove(CUSTOMERS), ("build", "customers"), 2,
         ("customer_master", "would drop their shares", "--allow-destroy")),
    Case("domain-yml-deleted-publish", remove(CUSTOMERS), ("publish", "customers"), 2,
         ("would destroy", "DROP SHARE CUSTOMERS_CUSTOMER_MASTER", "--allow-destroy")),
    Case("product-removed-publish", edit_yaml(CUSTOMERS, lambda d: d.update(products=[])), ("publish", "customers"),
         2, ("would destroy", "DROP SHARE CUSTOMERS_CUSTOMER_MASTER", "--allow-destroy")),
    Case("product-removed-build", edit_yaml(CUSTOMERS, lambda d: d.update(products=[])), ("build",), 2,
         ("customer_master", "--allow-destroy")),
    Case("consumer-removed-publish",
         edit_yaml(CUSTOMERS, lambda d: d["products"][0]["consumers"].update(domains=["finance"])),
         ("publish", "customers"), 2,
         ("would destroy", "REVOKE DATABASE ROLE CUSTOMERS.CUSTOMER_MASTER_READER FROM ROLE ORDERS_DEPLOYER",
          "--allow-destroy")),
    Case("model-left-product-publish",
         edit_yaml(CUSTOMERS, lambda d: d["products"][0].update(models=["dim_customers"])),
         ("publish", "customers"), 2,
         ("would destroy", "REVOKE SELECT ON TABLE CUSTOMERS.MARTS.DIM_REGIONS FROM SHARE", "--allow-destroy")),
    Case("provision-prune-without-allow", both(lambda root: run_cli(root, "provision"),
                                               replace("governance.yml", "  LATAM_ANALYST:", "  LATAM_ANALYSTS:"),
                                               replace("governance.yml", "{role: LATAM_ANALYST,",
                                                       "{role: LATAM_ANALYSTS,")),
         ("provision", "--prune"), 2, ("provisioning would destroy", "LATAM_ANALYST", "--allow-destroy")),
    Case("domain-yml-without-project", write("domains/marketing/domain.yml", "domain: {name: marketing}\n"),
         ("list",), 2, ("marketing", "no dbt_project.yml", "mesh init domain marketing")),
    Case("empty-domains-publish", empty_domains, ("publish",), 2, ("no domains in", "mesh init domain")),
    Case("empty-domains-provision", empty_domains, ("provision", "--plan"), 2, ("no domains in", "mesh init domain")),
    Case("empty-domains-build", empty_domains, ("build",), 2, ("no domains in", "mesh init domain")),
    Case("empty-domains-list", empty_domains, ("list",), 0, ("no domains in", "yet", "mesh init domain")),
    Case("empty-domains-catalog", empty_domains, ("catalog", "--out", "site"), 2,
         ("no domains in", "nothing to catalogue", "mesh init domain")),
    Case("empty-domains-check", empty_domains, ("check",), 2, ("no domains in", "mesh init domain")),
    # Strict settings
    Case("mesh-yml-provison", replace("mesh.yml", "\nprovision:", "\nprovison:"), ("build",), 2,
         ("mesh.yml", "provison", "did you mean `provision`")),
    Case("mesh-yml-snowflak", write("mesh.yml", "mesh: {name: retail}\nsnowflak: {topology: account_per_domain}\n"),
         ("publish", "--plan"), 2, ("mesh.yml", "snowflak", "did you mean `snowflake`")),
    Case("mesh-yml-chek", replace("mesh.yml", "\ncheck:", "\nchek:"), ("list",), 2,
         ("mesh.yml", "chek", "did you mean `check`")),
    Case("mesh-yml-stat-dir", replace("mesh.yml", "  state_dir: .mesh", "  stat_dir: .mesh"), ("list",), 2,
         ("mesh.yml", "stat_dir", "did you mean `state_dir`")),
    Case("mesh-yml-domain-dir", replace("mesh.yml", "  domains_dir: domains", "  domain_dir: domains"), ("build",),
         2, ("mesh.yml", "domain_dir", "did you mean `domains_dir`")),
    Case("mesh-yml-default-targt", replace("mesh.yml", "  default_target: dev", "  default_targt: dev"), ("build",),
         2, ("mesh.yml", "default_targt", "did you mean `default_target`")),
    Case("sql-dialet", replace("mesh.yml", "  dialect: snowflake", "  dialet: snowflake"), ("build",),
         2, ("mesh.yml", "dialet", "did you mean `dialect`")),
    Case("snowflake-topolgy", edit_yaml("mesh.yml", lambda d: d.update(snowflake={"topolgy": "one_account"})),
         ("publish", "customers", "--plan"), 2, ("mesh.yml", "topolgy", "did you mean `topology`")),
    Case("provision-admin-rol", replace("mesh.yml", "  admin_role: MESH_ADMIN", "  admin_rol: MESH_ADMIN"),
         ("provision", "--plan"), 2, ("mesh.yml", "admin_rol", "did you mean `admin_role`")),
    Case("provision-warehose", replace("mesh.yml", "    warehouse: {size", "    warehose: {size"),
         ("provision", "--plan"), 2, ("mesh.yml", "warehose", "did you mean `warehouse`")),
    Case("domain-yml-product-key", replace(CUSTOMERS, "\nproducts:", "\nproduct:"), ("build",), 2,
         ("domain.yml", "product", "did you mean `products`")),
    Case("domain-yml-ownr", replace(CUSTOMERS, "  owner:", "  ownr:"), ("list",), 2,
         ("domain.yml", "ownr", "did you mean `owner`")),
    Case("domain-yml-owner-mail", replace(CUSTOMERS, "    email: customer", "    mail: customer"), ("list",), 2,
         ("domain.yml", "mail", "did you mean `email`")),
    Case("product-descripton", replace(CUSTOMERS, "    description: Who", "    descripton: Who"), ("build",), 2,
         ("domain.yml", "descripton", "did you mean `description`")),
    Case("product-model", replace(CUSTOMERS, "    models: [", "    model: ["), ("build",), 2,
         ("domain.yml", "model", "did you mean `models`")),
    Case("product-consumers-domain", replace(CUSTOMERS, "consumers: {domains:", "consumers: {domain:"), ("build",), 2,
         ("domain.yml", "domain", "did you mean `domains`")),
    Case("product-sla-key", replace(CUSTOMERS, "freshness_hours: 24", "freshness_hour: 24"), ("build",), 2,
         ("domain.yml", "freshness_hour", "did you mean `freshness_hours`")),
    Case("domain-provision-key",
         replace(CUSTOMERS, "\ndomain:\n", "\nprovision:\n  warehose: {size: XSMALL}\ndomain:\n"),
         ("provision", "--plan"), 2, ("domain.yml", "warehose", "did you mean `warehouse`")),
    Case("ingest-unknown-key", replace("domains/customers/models/staging/_sources.yml", "            pattern:",
                                       "            patern:"), ("build",), 2, ("_sources.yml", "patern")),
    Case("domain-name-300", replace("domains/customers/dbt_project.yml", "name: customers", f"name: {LONG}"),
         ("list",), 2, ("dbt_project.yml", "300 characters", "255", "shorter name")),
    Case("init-domain-too-long", lambda root: None, ("init", "domain", "d" * 250), 2,
         ("share name", "255", "identifiers-syntax")),
    Case("role-name-300", edit_yaml("mesh.yml", lambda d: d.update(snowflake={"roles": {"orders": "R" * 300}})),
         ("publish", "customers", "--plan"), 2, ("snowflake.roles.orders", "255")),
    # The whole mesh validated before any of it builds
    Case("governance-unknown-masking-build", replace(MARTS_YML, "masking: mask_email", "masking: mask_emial"),
         ("build",), 2, ("_marts.yml", "customers.dim_customers", "'mask_emial' is not in the governance library",
                         "mask_email")),
    Case("governance-tag-value-build", replace(MARTS_YML, "tags: {pii: email}", "tags: {pii: e_mail}"),
         ("build", "customers"), 2, ("_marts.yml", "customers.dim_customers", "e_mail")),
    Case("governance-plan-unknown-masking", replace(MARTS_YML, "masking: mask_email", "masking: mask_emial"),
         ("governance", "--plan", "-s", "customers"), 2,
         ("_marts.yml", "'mask_emial' is not in the governance library")),
    Case("governance-project-meta-plan",   # set in dbt_project.yml: only the package's macro sees it
         replace("domains/customers/dbt_project.yml", "      +access: private\n",
                 "      +access: private\n      +meta: {data_mesh: {tags: {secrecy: high}}}\n"),
         ("governance", "--plan", "-s", "customers"), 2, ("governance plan of customers failed", "'secrecy'")),
    Case("ref-private-model", replace(ORDERS_SQL, CUSTOMER_REF, "ref('customers', 'stg_customers')"), ("build",), 2,
         ("fct_orders.sql", "stg_customers is private", "access: public")),
    Case("ref-unknown-domain", replace(ORDERS_SQL, CUSTOMER_REF, "ref('custmers', 'dim_customers', v=1)"),
         ("build",), 2, ("fct_orders.sql", "'custmers' is not a domain", "did you mean 'customers'")),
    Case("ref-missing-version", replace(ORDERS_SQL, CUSTOMER_REF, "ref('customers', 'dim_customers', v=7)"),
         ("build",), 2, ("fct_orders.sql", "has no version 7", "versions: 1, 2")),
    Case("ref-unknown-model", replace(ORDERS_SQL, CUSTOMER_REF, "ref('customers', 'dim_customer', v=1)"),
         ("build",), 2, ("fct_orders.sql", "no model 'dim_customer'", "did you mean 'dim_customers'")),
    Case("ref-undeclared-upstream", replace("domains/finance/dependencies.yml", "  - name: orders\n", ""),
         ("build",), 2, ("int_order_revenue.sql", "does not declare", "- name: orders")),
    Case("upstream-unknown-domain", replace("domains/finance/dependencies.yml", "  - name: orders",
                                            "  - name: orders\n  - name: marketing"), ("build",), 2,
         ("dependencies.yml", "'marketing', which is not a domain",)),
    Case("domain-cycle", write("domains/customers/dependencies.yml", "projects:\n  - name: finance\n"), ("build",), 2,
         ("dependencies.yml", "domain cycle", "remove one")),
    Case("consumer-domain-unknown", replace(CUSTOMERS, "domains: [orders, finance]", "domains: [orders, marketing]"),
         ("build",), 2, ("domain.yml", "'marketing' is not another domain")),
    Case("product-sla-negative", replace(CUSTOMERS, "freshness_hours: 24", "freshness_hours: -1"),
         ("build",), 2, ("domain.yml", "a positive number")),
    Case("prod-without-credentials", lambda root: None, ("build", "--target", "prod"), 2,
         ("--target prod", "SNOWFLAKE_ACCOUNT is not set")),
    Case("unknown-target", lambda root: None, ("build", "--target", "staging"), 2,
         ("profiles.yml", "has no target 'staging'")),
    Case("unknown-selector", lambda root: None, ("build", "custmers"), 2, ("'custmers'", "did you mean 'customers'")),
    Case("corrupt-upstream-database", write(".mesh/duckdb/customers.duckdb", "not a database"), ("build", "finance"),
         2, ("customers.duckdb", "corrupt", "mesh build customers")),
    Case("missing-upstream-database", remove(".mesh/duckdb/customers.duckdb"), ("build", "finance"), 2,
         ("customers.duckdb", "missing", "mesh build --changed")),
    Case("ingest-location-typo", replace(SOURCES, "location: landing/customers/", "location: landing/custmers/"),
         ("build",), 2,
         ("_sources.yml", "'landing/custmers/' matches no file", "may_be_empty: true")),
    Case("ingest-location-typo-ingest", replace("domains/customers/models/staging/_sources.yml",
                                                "location: landing/customers/", "location: landing/custmers/"),
         ("ingest", "customers"), 2, ("_sources.yml", "matches no file", "may_be_empty")),
    Case("ingest-bad-mode", replace("domains/customers/models/staging/_sources.yml", "mode: copy", "mode: stream"),
         ("build",), 2, ("_sources.yml", "'stream' is not one of")),
    Case("state-dir-is-a-file", write("blocker", "a file"), ("build",), 2, ("blocker", "Not a directory"),
         env=(("MESH_STATE_DIR", "blocker/state"),)),
    Case("state-dir-name-too-long", lambda root: None, ("build",), 2, ("File name too long", "shorter"),
         env=(("MESH_STATE_DIR", "x" * 300),)),
    # mesh check: at least as strict as mesh build
    Case("check-consumer-domain-unknown",
         replace(CUSTOMERS, "domains: [orders, finance]", "domains: [orders, marketing]"), ("check",), 2,
         ("domain.yml", "'marketing' is not another domain")),
    Case("check-domain-yml-unknown-key", replace(CUSTOMERS, "    models: [", "    model: ["), ("check",), 2,
         ("domain.yml", "did you mean `models`")),
    Case("check-baseline-missing-manifest", remove(MANIFEST), ("check",), 2,
         ("customers", "no manifest.json", "incomplete")),
    Case("check-baseline-missing-upstream", remove_tree(".mesh/state/dev/customers"), ("check",), 2,
         ("no manifest of customers", "read when it was deployed", "incomplete", "--baseline")),
    # State files of the wrong shape, corrupt files, locks
    Case("manifest-wrong-shape-publish", write(MANIFEST, '{"nodes": 5}'), ("publish",), 2,
         ("manifest.json", "not a dbt manifest", "rebuild")),
    Case("manifest-wrong-shape-catalog", write(MANIFEST, '{"nodes": 5}'), ("catalog", "--out", "site"), 2,
         ("manifest.json", "rebuild")),
    Case("manifest-wrong-shape-product", write(MANIFEST, '{"nodes": 5}'), ("product", "customers.customer_master"),
         2, ("manifest.json", "rebuild")),
    Case("manifest-not-json", write(MANIFEST, '{"nodes": '), ("publish", "customers"), 2,
         ("manifest.json", "cannot read the dbt manifest", "rebuild")),
    Case("manifest-nodes-list", write(MANIFEST, '{"nodes": [], "metadata": {}}'), ("list",), 2,
         ("manifest.json", "rebuild")),
    Case("publish-state-wrong-shape-catalog", write(PUBLISHED, '{"products": 5}'), ("catalog", "--out", "site"), 2,
         ("publish.json", "not a publish state", "mesh publish customers")),
    Case("publish-state-wrong-shape-product", write(PUBLISHED, '{"products": 5}'),
         ("product", "customers.customer_master"), 2, ("publish.json", "not a publish state")),
    Case("publish-state-wrong-shape-build", write(PUBLISHED, '{"products": 5}'), ("build", "customers"), 2,
         ("publish.json", "not a publish state")),
    Case("publish-state-not-json", write(PUBLISHED, "{"), ("catalog", "--out", "site"), 2,
         ("publish.json", "cannot read the publish state")),
    Case("emulated-shares-corrupt", write(".mesh/state/dev/customers/shares.json", "[]"), ("publish", "customers"), 2,
         ("shares.json", "delete the file")),
    Case("lock-held-build", lock_held, ("build",), 2, ("in use by pid", "mesh build", "mesh.lock"),
         env=(("MESH_LOCK_WAIT", "0.3"),)),
    Case("lock-held-publish", lock_held, ("publish",), 2, ("in use by pid", "since 2026-12-01T10:00:00"),
         env=(("MESH_LOCK_WAIT", "0.3"),)),
    # Every command that writes takes the lock; mesh query waits for a writer, then names it (issue 28)
    Case("lock-held-ingest", lock_held, ("ingest", "customers"), 2, ("in use by pid", "mesh build", "wait for it"),
         env=(("MESH_LOCK_WAIT", "0.3"),)),
    Case("lock-held-provision", lock_held, ("provision",), 2, ("in use by pid", "mesh build", "wait for it"),
         env=(("MESH_LOCK_WAIT", "0.3"),)),
    Case("query-while-building", lock_held, ("query", "customers", "select 1"), 2,
         ("in use by pid", "mesh build", "run the query when it ends"), env=(("MESH_LOCK_WAIT", "0.3"),)),
    Case("query-corrupt-database", write(".mesh/duckdb/customers.duckdb", "not a database"),
         ("query", "customers", "select 1"), 2, ("customers.duckdb", "cannot be opened", "mesh build customers")),
    Case("query-unknown-domain", lambda root: None, ("query", "custmers", "select 1"), 2,
         ("'custmers'", "domains: customers, finance, orders")),
    # A breaking change a consumer reads is refused at deploy, before anything builds (issue 28)
    Case("deploy-breaking-nullability", replace(MARTS_YML, REGION_NOT_NULL, REGION_NULLABLE), ("build", "customers"),
         1, ("customers.dim_customers.v1: column region may now be null", "orders.fct_orders (pins v1",
             "into fct_orders.region", "_marts.yml", "--allow-breaking customers.dim_customers")),
    Case("deploy-breaking-column-removed", replace(MARTS_YML, "      - v: 2\n", V2_WITHOUT_REGION), ("build",), 1,
         ("customers.dim_customers.v2: column region was removed", "finance.int_order_revenue",
          "into int_order_revenue.region", "finance.customer_scoring", "new version", "--allow-breaking")),
    # mesh check refuses first what publish or build would refuse after the build (issue 28)
    Case("check-consumer-account", replace(CUSTOMERS, "accounts: []", "accounts: [not an account]"),
         ("check", "--no-cache"), 2, ("domain.yml", "'not an account' must be ORG.ACCOUNT", "RETAIL.FINANCE")),
    Case("check-view-not-secure", replace(REGIONS_SQL, "-- One row", "{{ config(materialized='view') }}\n-- One row"),
         ("check", "--no-cache"), 2, ("dim_regions.sql", "not secure", "secure: true")),
    Case("check-share-name-too-long", replace(CUSTOMERS, "name: customer_master", f"name: {'p' * 250}"),
         ("check", "--no-cache"), 2, ("domain.yml", "share name", "255")),
    Case("check-non-ascii-model", both(rename(REGIONS_SQL, "dim_régions.sql"),
                                       replace(MARTS_YML, "name: dim_regions", "name: dim_régions"),
                                       replace(CUSTOMERS, "dim_customers, dim_regions", "dim_customers, dim_régions")),
         ("check", "--no-cache"), 2,
         ("'dim_régions'", "domain.yml", "not a valid Snowflake identifier", "letters, digits")),
    Case("check-no-consumer-account", edit_yaml("mesh.yml", lambda d: d.update(
        snowflake={"topology": "account_per_domain"})), ("check", "--no-cache"), 2,
         ("customers/domain.yml", "has no account under `snowflake.accounts`", "orders: ORG.ACCOUNT")),
    Case("check-policy-name-quote", replace(GOVERNANCE, "masking_policies:\n", "masking_policies:\n" + QUOTED_POLICY),
         ("check",), 2, ("governance.yml", "mask'quoted", "must be lower-case", "rename it")),
    Case("build-policy-name-quote", replace(GOVERNANCE, "masking_policies:\n", "masking_policies:\n" + QUOTED_POLICY),
         ("build",), 2, ("governance.yml", "mask'quoted", "rename it")),
    Case("check-role-name-space", replace(GOVERNANCE, "roles:\n", "roles:\n  DATA ENGINEER: {description: x}\n"),
         ("check",), 2, ("governance.yml", "'DATA ENGINEER'", "letters, digits and underscores", "rename it")),
    Case("build-role-name-space", replace(GOVERNANCE, "roles:\n", "roles:\n  DATA ENGINEER: {description: x}\n"),
         ("build",), 2, ("governance.yml", "'DATA ENGINEER'", "rename it")),
    Case("check-governance-empty", write(GOVERNANCE, "# nothing yet\n"), ("check",), 2,
         ("governance.yml is empty", "delete the file")),
    Case("build-governance-empty", write(GOVERNANCE, ""), ("build",), 2, ("governance.yml is empty", "declare")),
    Case("check-yaml-tab", replace(CUSTOMERS, "  owner:\n", "\towner:\n"), ("check",), 2,
         ("domain.yml", "a tab character", "replace the tab with spaces")),
    Case("build-yaml-tab-mesh", replace("mesh.yml", "  default_target: dev", "\tdefault_target: dev"), ("build",), 2,
         ("mesh.yml", "a tab character", "spaces")),
    Case("check-tag-name-space", replace(GOVERNANCE, "tags:\n", "tags:\n  data owner: {description: x}\n"),
         ("check",), 2, ("governance.yml", "tag name 'data owner'", "rename it")),
    Case("check-entitlement-role-space", replace(GOVERNANCE, "entitlements:\n",
                                                 "entitlements:\n  - {role: EMEA ANALYST, dimension: region, "
                                                 "values: [EMEA]}\n"), ("check",), 2,
         ("governance.yml", "'EMEA ANALYST'", "rename it")),
    Case("ingest-yaml-tab", replace(SOURCES, "            pattern:", "\t    pattern:"), ("ingest", "customers"), 2,
         ("_sources.yml", "a tab character", "spaces")),
    Case("manifest-old-schema-build", replace(MANIFEST, "/dbt/manifest/v12.json", "/dbt/manifest/v10.json"),
         ("build", "finance"), 2, ("manifest.json", "schema v10", "`mesh build customers`")),
    Case("manifest-corrupt-build-downstream", write(MANIFEST, '{"nodes": '), ("build", "finance"), 2,
         ("manifest.json", "cannot read the dbt manifest", "`mesh build customers`")),
    Case("check-yaml-tab-governance", replace(GOVERNANCE, "  PII_READER:", "\tPII_READER:"), ("check",), 2,
         ("governance.yml", "a tab character", "spaces")),
]


def snapshot(root: Path) -> dict[str, str]:
    """Every file of the state folder (state files, database files, emulated shares) with its checksum."""
    folder = root / ".mesh"
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != LOCK_FILE}


def message_line(output: str, needles: tuple[str, ...]) -> str:
    """The one line of the output carrying the message; it must hold every needle."""
    lines = [line for line in output.splitlines() if needles[0] in line]
    assert len(lines) == 1, f"expected one line with {needles[0]!r}:\n{output}"
    for needle in needles[1:]:
        assert needle in lines[0], f"{needle!r} missing from: {lines[0]}"
    return lines[0]


@pytest.fixture
def broken(tmp_path: Path, built_mesh: tuple[Path, Any]) -> Path:
    return copy_built_mesh(built_mesh[0], tmp_path / "mesh")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_one_line_and_changes_nothing(case: Case, broken: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SNOWFLAKE_ACCOUNT", raising=False)
    monkeypatch.chdir(broken)
    for name, value in case.env:
        monkeypatch.setenv(name, value)
    case.setup(broken)
    before = snapshot(broken)
    result = run_cli(broken, *case.args)
    assert "Traceback" not in result.output
    assert result.exit_code == case.exit_code, result.output
    line = message_line(result.output, case.needles)
    assert snapshot(broken) == before, f"{case.id} changed the state folder"
    assert not list((broken / ".mesh").rglob("*.tmp")), "a temporary file was left behind"
    _record(case, line.replace(str(broken), "<mesh>").replace(str(broken.resolve()), "<mesh>"))


def _record(case: Case, line: str) -> None:
    """With RELIABILITY_DOC set, append the case and its message (docs/reliability.md is built from them)."""
    target = os.environ.get("RELIABILITY_DOC")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps({"id": case.id, "command": "mesh " + " ".join(case.args),
                                  "exit": case.exit_code, "message": line.strip()}) + "\n")


def test_the_matrix_has_a_hundred_cases_each_in_the_docs() -> None:
    assert len(CASES) >= 100 and len({case.id for case in CASES}) == len(CASES)
    documented = DOC.read_text(encoding="utf-8")
    assert [case.id for case in CASES if f"| `{case.id}` |" not in documented] == []


def test_every_problem_is_listed_up_front(broken: Path) -> None:
    """Two bad refs in two domains and a typo in an ingestion location: three lines, exit 2, nothing built."""
    replace(ORDERS_SQL, CUSTOMER_REF, "ref('customers', 'stg_customers')")(broken)
    replace("domains/finance/models/intermediate/int_order_revenue.sql", "ref('customers', 'dim_customers')",
            "ref('custmers', 'dim_customers')")(broken)
    replace("domains/orders/models/staging/_sources.yml", "location: landing/products/",
            "location: landing/prodcts/")(broken)
    before = snapshot(broken)
    result = run_cli(broken, "build")
    assert result.exit_code == 2
    assert "stg_customers is private" in result.output and "'custmers' is not a domain" in result.output
    assert "matches no file" in result.output and "success" not in result.output
    assert snapshot(broken) == before


def test_allow_destroy_applies_what_was_refused(broken: Path) -> None:
    remove(CUSTOMERS)(broken)
    result = run_cli(broken, "publish", "customers", "--allow-destroy")
    assert result.exit_code == 0, result.output
    shares = json.loads((broken / ".mesh/state/dev/customers/shares.json").read_text())
    assert "CUSTOMERS_CUSTOMER_MASTER" not in json.dumps(shares["show"]["SHOW SHARES"])


def test_a_may_be_empty_location_is_no_error(broken: Path) -> None:
    replace("domains/customers/models/staging/_sources.yml", "location: landing/customers/",
            "location: landing/custmers/\n            may_be_empty: true")(broken)
    result = run_cli(broken, "ingest", "customers", "--plan")
    assert result.exit_code == 0, result.output


def test_a_stale_lock_is_taken_over(broken: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gone = 2 ** 22 + 12345           # above the default pid_max: no such process
    (broken / ".mesh" / LOCK_FILE).write_text(json.dumps({"pid": gone, "command": "mesh build", "since": "x"}))
    monkeypatch.setenv("MESH_LOCK_WAIT", "0.3")
    result = run_cli(broken, "publish", "customers")
    assert result.exit_code == 0, result.output
    assert not (broken / ".mesh" / LOCK_FILE).exists()


@pytest.mark.parametrize(("code", "fix"), [(errno.ENOSPC, "free disk space"),
                                           (errno.EACCES, "make the folder writable"),
                                           (errno.ENAMETOOLONG, "shorter")])
def test_a_failed_write_is_one_line_and_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             code: int, fix: str) -> None:
    path = tmp_path / "manifest.json"
    path.write_text("old")

    def fail(self: Path, *args: object, **kwargs: object) -> None:
        self.write_bytes(b"partial")
        raise OSError(code, os.strerror(code), str(self))

    monkeypatch.setattr(Path, "write_text", fail)
    with pytest.raises(safe_io.MeshError) as error:
        write_text_atomic(path, "new")
    assert fix in str(error.value) and "\n" not in str(error.value) and "manifest.json.tmp" in str(error.value)
    monkeypatch.undo()
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_disk_full_while_publishing_is_one_line(broken: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The publish record cannot be written: one line naming it, exit 2, no temporary file."""
    (broken / PUBLISHED).unlink()
    real = Path.write_text

    def full(self: Path, *args: Any, **kwargs: Any) -> int:
        if self.name.endswith(".tmp"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    result = run_cli(broken, "publish", "customers")
    assert result.exit_code == 2
    message_line(result.output, ("No space left on device", ".json.tmp", "free disk space"))
    assert not list((broken / ".mesh").rglob("*.tmp")) and not (broken / PUBLISHED).exists()


def test_changed_rebuilds_a_domain_whose_database_is_gone(broken: Path) -> None:
    (broken / ".mesh/duckdb/finance.duckdb").unlink()
    result = run_cli(broken, "build", "--changed", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert [d["domain"] for d in report["domains"]] == ["finance"] and report["unchanged"] == ["customers", "orders"]
    assert report["domains"][0]["counts"].get("model:success", 0) >= 1
    assert (broken / ".mesh/duckdb/finance.duckdb").is_file()


GOVERNANCE_BREAKS = [
    ("unknown-masking-policy", lambda n: n["columns"]["email"]["config"]["meta"]["data_mesh"].update(
        masking="mask_emial"), "masking policy 'mask_emial' is not in the governance library"),
    ("policy-on-wrong-type", lambda n: n["columns"]["phone"]["config"]["meta"]["data_mesh"].update(
        masking="mask_date_to_year"), "masking policy mask_date_to_year expects date, column phone is varchar"),
    ("row-access-column-missing", lambda n: n["config"]["meta"]["data_mesh"]["row_access"].update(
        columns=["regio"]), "row access column 'regio' is not a column of the model"),
    ("tag-value-not-allowed", lambda n: n["columns"]["birth_date"]["config"]["meta"]["data_mesh"].update(
        tags={"pii": "dob"}), "tag pii = 'dob' is not an allowed value; use one of: name, email"),
    ("unknown-tag", lambda n: n["config"]["meta"]["data_mesh"].update(tags={"secrecy": "high"}),
     "tag 'secrecy' is not in the governance library"),
    ("unknown-governance-key", lambda n: n["config"]["meta"]["data_mesh"].update(masking="mask_full"),
     "unknown key meta.data_mesh.masking; a model takes `tags` and `row_access`"),
]


@pytest.mark.parametrize(("change", "message"), [(c, m) for _, c, m in GOVERNANCE_BREAKS],
                         ids=[i for i, _, _ in GOVERNANCE_BREAKS])
def test_check_validates_governance_as_the_build_does(built_mesh: tuple[Path, Any], change: Callable[[dict], None],
                                                      message: str) -> None:
    """`mesh check` reports (`governance-config`, an error) what the package's validation refuses in `dbt build`."""
    from mesh_cli.check.governance import Governance
    from mesh_cli.contracts.rules import configured_rules
    from mesh_cli.core.config import load_config
    from mesh_cli.core.domains import discover_domains
    from mesh_cli.core.governance_config import central_library

    root = built_mesh[0]
    domain = discover_domains(load_config(root))["customers"]
    manifest = json.loads((root / MANIFEST).read_text())
    governance = Governance(configured_rules({}))
    assert governance.configuration(domain, manifest, central_library(root)) == []   # the example mesh is valid
    node = next(n for n in manifest["nodes"].values() if n.get("name") == "dim_customers" and n.get("version") == 2)
    change(node)
    findings = governance.configuration(domain, manifest, central_library(root))
    assert [(f.rule, f.severity, f.model) for f in findings] == [("governance-config", "error",
                                                                  "customers.dim_customers.v2")]
    assert message in findings[0].message and findings[0].file is not None and findings[0].file.is_file()


def test_files_that_land_no_row_fail_with_the_reason(mesh_copy: Path) -> None:
    """Header-only files: the landing table stays empty, so ingestion fails saying so, before any product."""
    folder = mesh_copy / "domains/customers/landing/customers"
    for path in folder.iterdir():
        path.write_text(path.read_text().splitlines()[0] + "\n")
    result = run_cli(mesh_copy, "ingest", "customers")
    assert result.exit_code == 2
    message_line(result.output, ("landing table is empty", "crm.customers", "may_be_empty: true"))


def test_a_csv_row_with_an_extra_column_says_why(mesh_copy: Path) -> None:
    folder = mesh_copy / "domains/customers/landing/customers"
    lines = (folder / "customers_0002.csv").read_text().splitlines()
    (folder / "customers_0002.csv").write_text("\n".join([lines[0], lines[1] + ",extra", *lines[2:]]) + "\n")
    result = run_cli(mesh_copy, "ingest", "customers")
    assert result.exit_code == 1   # the load failed (on_error: abort_statement), as Snowflake's COPY fails
    message_line(result.output, ("customers_0002.csv", "more or fewer fields than the 9 declared columns",
                                 "nothing loaded"))


def test_a_failed_commit_during_ingestion_is_one_line_and_loads_nothing(mesh_copy: Path, tmp_path: Path) -> None:
    """Disk full at commit: the engine's reason in one line, not DuckDB's `cannot rollback`, and no row."""
    import duckdb

    from mesh_cli.core.config import load_config
    from mesh_cli.core.domains import discover_domains
    from mesh_cli.core.ingest_spec import list_files
    from mesh_cli.core.plan import apply
    from mesh_cli.engines.duckdb_ingest import landing_plan, load_table
    from mesh_cli.ingest.spec import load_ingest_tables

    class DiskFull:
        """The real connection, whose commit fails as it does on a full disk."""

        def __init__(self, connection: Any) -> None:
            self.connection = connection

        def execute(self, sql: str, *args: Any) -> Any:
            if sql == "commit":
                raise duckdb.IOException("Could not write file: No space left on device")
            return self.connection.execute(sql, *args)

    domain = discover_domains(load_config(mesh_copy))["customers"]
    [table] = load_ingest_tables(domain)
    connection = duckdb.connect(str(tmp_path / "customers.duckdb"))
    assert apply(landing_plan(None, "customers", [table], full_refresh=False), connection.execute).ok
    with pytest.raises(EngineError) as error:   # the engine failed the run: exit 1, never bad input
        load_table(DiskFull(connection), table, list_files(table, domain.path))
    assert error.value.exit_code == 1
    assert "loading failed: Could not write file: No space left on device; nothing loaded" in str(error.value)
    assert "\n" not in str(error.value)
    assert connection.execute("select count(*) from landing.customers").fetchone() == (0,)


def test_check_reports_a_removed_model_a_consumer_still_refs(broken: Path) -> None:
    """Not exit 2 for the consumer's failed parse: a `model-removed` finding naming the consumers, exit 1."""
    marts = broken / "domains/customers/models/marts"
    for path in marts.glob("dim_customers_v*.sql"):
        path.unlink()
    schema = yaml.safe_load((marts / "_marts.yml").read_text())
    schema["models"] = [m for m in schema["models"] if m["name"] != "dim_customers"]
    (marts / "_marts.yml").write_text(yaml.safe_dump(schema, sort_keys=False))
    replace(CUSTOMERS, "models: [dim_customers, dim_regions]", "models: [dim_regions]")(broken)
    result = run_cli(broken, "check", "--format", "json")
    assert result.exit_code == 1, result.output
    findings = json.loads(result.output[result.output.index("{"):])["findings"]
    [removed] = [f for f in findings if f["rule"] == "model-removed"]
    assert removed["model"] == "customers.dim_customers"
    assert {hit["domain"] for hit in removed["hits"]} == {"orders", "finance"}


def doc_table(records: list[dict[str, Any]]) -> str:
    """The Markdown table of docs/reliability.md from recorded cases, in the order of CASES."""
    by_id = {record["id"]: record for record in records}
    lines = ["| case | command | exit | message |", "|---|---|---|---|"]
    for case in CASES:
        record = by_id.get(case.id, {"command": "mesh " + " ".join(case.args), "exit": case.exit_code,
                                     "message": " … ".join(case.needles)})
        message = record["message"].replace("|", "\\|")
        lines.append(f"| `{case.id}` | `{record['command'][:60]}` | {record['exit']} | {message} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":   # python -m tests.test_reliability <recorded.jsonl>: print the table of the docs
    import sys

    print(doc_table([json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines() if line]), end="")
