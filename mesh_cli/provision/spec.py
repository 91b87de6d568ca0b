"""The declared footprint of each domain: `provision:` defaults in mesh.yml, overridden per domain in domain.yml.

Every name comes from one naming rule (`provision.naming`), upper-cased and validated as a Snowflake identifier.
The role hierarchy follows Snowflake's access-role / functional-role pattern: per database a READ, WRITE and
OWNER access role (READ granted to WRITE, WRITE to OWNER), and per domain functional roles (ENGINEER, READER,
DEPLOYER by default) that hold an access role, the warehouse and read access to the upstream domains, granted
up to the mesh admin role unless they hold an entitlement role (then the admin role owns them:
`mesh_cli.core.footprint`). Across accounts a consumer domain also gets a mounting role (IMPORT SHARE, CREATE
DATABASE) that mounts its upstreams' shares.

Read access to an upstream is never its database's READ role, whose future grants cover every schema (staging,
landing, governance included: https://docs.snowflake.com/en/sql-reference/sql/grant-privilege, "future grants"): a
functional role with `upstreams: true` holds, for each product of an upstream that lists its domain as a consumer,
the product's reader database role `<UPSTREAM DB>.<PRODUCT>_READER`, which publishing grants SELECT on the
product's shared models only. Removing the consumer from the product removes the grant.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from mesh_cli.core.config import MESH_FILE, MeshConfig
from mesh_cli.core.domains import Domain
from mesh_cli.core.errors import MeshError
from mesh_cli.core.footprint import (
    DomainFootprint,
    FunctionalRole,
    MeshFootprint,
    ResourceMonitor,
    Warehouse,
)
from mesh_cli.core.governance_library import access_model
from mesh_cli.core.identifiers import identifier
from mesh_cli.core.share_settings import ACCOUNT_PER_DOMAIN, ONE_ACCOUNT, reader_role, share_settings
from mesh_cli.core.strict import check_keys
from mesh_cli.core.yamlfile import read_mapping

PREFIX_ENV = "MESH_SNOWFLAKE_DATABASE_PREFIX"
ACCESS_LEVELS = ("READ", "WRITE", "OWNER")
WAREHOUSE_SIZES = ("XSMALL", "SMALL", "MEDIUM", "LARGE", "XLARGE", "XXLARGE", "XXXLARGE", "X4LARGE", "X5LARGE",
                   "X6LARGE")
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY", "NEVER")

DEFAULT_NAMING = {
    "prefix": "",                               # MESH_SNOWFLAKE_DATABASE_PREFIX overrides it, as in the profiles
    "database": "{prefix}{domain}",
    "warehouse": "{domain}_WH",
    "resource_monitor": "{domain}_RM",
    "access_role": "{database}_{level}",
    "functional_role": "{domain}_{function}",
}
DEFAULT_DOMAIN: dict[str, Any] = {
    "schemas": ["RAW", "STAGING", "INTERMEDIATE", "MARTS", "GOVERNANCE"],
    "warehouse": {"size": "XSMALL", "auto_suspend": 60, "auto_resume": True},
    "resource_monitor": {"credit_quota": 100, "frequency": "MONTHLY", "notify_at": [75, 90], "suspend_at": 100},
    "functional_roles": {
        "ENGINEER": {"access": "WRITE", "upstreams": True, "warehouse": True, "roles": []},
        "READER": {"access": "READ", "upstreams": False, "warehouse": True, "roles": []},
        "DEPLOYER": {"access": "OWNER", "upstreams": True, "warehouse": True, "roles": [], "publishes": True},
    },
}
MESH_KEYS = {"admin_role", "admin_granted_to", "naming", "roles", "defaults"}
DOMAIN_KEYS = set(DEFAULT_DOMAIN)
FUNCTIONAL_KEYS = {"access", "upstreams", "warehouse", "roles", "publishes"}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class _Checker:
    """Validation of one file's `provision:` block; every failure names the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, message: str) -> NoReturn:
        raise MeshError(f"provision: {message}", path=self.path)

    def mapping(self, value: Any, where: str, allowed: set[str] | None = None) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(f"`{where}` must be a mapping, got {value!r}")
        if allowed is not None:
            check_keys(value, allowed, path=self.path, where=where)
        return value

    def name(self, value: Any, where: str) -> str:
        try:
            return identifier(str(value).upper(), what=f"`{where}`")
        except MeshError as exc:
            self.fail(str(exc))

    def integer(self, value: Any, where: str, low: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            self.fail(f"`{where}` must be a whole number >= {low}, got {value!r}")
        return value


def _renderer(naming: dict[str, str], check: _Checker, **values: str) -> Callable[..., str]:
    """Names from the naming rule: `render("warehouse")`, `render("access_role", database=..., level=...)`."""
    def render(kind: str, **extra: str) -> str:
        try:
            text = naming[kind].format(**{k: v.upper() for k, v in {**values, **extra}.items()})
        except (KeyError, IndexError) as exc:
            check.fail(f"naming.{kind} {naming[kind]!r} uses an unknown placeholder {exc}; "
                       "known: {prefix}, {domain}, {database}, {level}, {function}")
        return check.name(text, f"naming.{kind}")
    return render


def _domain_footprint(domain: Domain, settings: dict[str, Any], naming: dict[str, str], prefix: str,
                      readers: tuple[str, ...], check: _Checker, mesh_check: _Checker,
                      mounter: str | None = None) -> DomainFootprint:
    render = _renderer(naming, mesh_check, prefix=prefix, domain=domain.name)
    database = render("database")
    schemas = tuple(dict.fromkeys(check.name(s, "schemas") for s in settings.get("schemas") or []))
    monitor_cfg = check.mapping(settings.get("resource_monitor"), "resource_monitor",
                                {"credit_quota", "frequency", "notify_at", "suspend_at"})
    frequency = str(monitor_cfg.get("frequency", "MONTHLY")).upper()
    if frequency not in FREQUENCIES:
        check.fail(f"`resource_monitor.frequency` {frequency!r} is not one of {', '.join(FREQUENCIES)}")
    notify = monitor_cfg.get("notify_at") or []
    if not isinstance(notify, list):
        check.fail("`resource_monitor.notify_at` must be a list of percentages")
    suspend = monitor_cfg.get("suspend_at")
    monitor = ResourceMonitor(
        name=render("resource_monitor"),
        credit_quota=check.integer(monitor_cfg.get("credit_quota"), "resource_monitor.credit_quota", 1),
        frequency=frequency,
        notify_at=tuple(sorted(check.integer(p, "resource_monitor.notify_at", 1) for p in notify)),
        suspend_at=None if suspend is None else check.integer(suspend, "resource_monitor.suspend_at", 1))
    wh_cfg = check.mapping(settings.get("warehouse"), "warehouse", {"size", "auto_suspend", "auto_resume"})
    size = str(wh_cfg.get("size", "XSMALL")).upper().replace("-", "")
    if size not in WAREHOUSE_SIZES:
        check.fail(f"`warehouse.size` {wh_cfg.get('size')!r} is not one of {', '.join(WAREHOUSE_SIZES)}")
    if not isinstance(wh_cfg.get("auto_resume", True), bool):
        check.fail("`warehouse.auto_resume` must be true or false")
    warehouse = Warehouse(render("warehouse"), size,
                          check.integer(wh_cfg.get("auto_suspend", 60), "warehouse.auto_suspend"),
                          bool(wh_cfg.get("auto_resume", True)), monitor.name)
    access = {level: render("access_role", database=database, level=level) for level in ACCESS_LEVELS}
    roles = []
    functions = check.mapping(settings.get("functional_roles"), "functional_roles")
    for function, role_cfg in functions.items():
        if role_cfg is None:        # `ENGINEER: null` in domain.yml removes a default functional role
            continue
        cfg = check.mapping(role_cfg, f"functional_roles.{function}", FUNCTIONAL_KEYS)
        level = str(cfg.get("access", "READ")).upper()
        if level not in ACCESS_LEVELS:
            check.fail(f"`functional_roles.{function}.access` {level!r} is not one of {', '.join(ACCESS_LEVELS)}")
        extra = cfg.get("roles") or []
        if not isinstance(extra, list):
            check.fail(f"`functional_roles.{function}.roles` must be a list of role names")
        if not isinstance(cfg.get("publishes", False), bool):
            check.fail(f"`functional_roles.{function}.publishes` must be true or false")
        roles.append(FunctionalRole(
            name=render("functional_role", function=check.name(function, "functional_roles")),
            function=function.upper(), access_role=access[level], reader_roles=readers if cfg.get("upstreams") else (),
            warehouse=warehouse.name if cfg.get("warehouse", True) else None,
            roles=tuple(check.name(r, f"functional_roles.{function}.roles") for r in extra),
            publishes=bool(cfg.get("publishes", False))))
    return DomainFootprint(domain.name, database, schemas, warehouse, monitor, access, tuple(roles), mounter)


def _consumed_products(domain: Domain, domains: dict[str, Domain]) -> list[tuple[str, str]]:
    """(upstream, product) of every upstream product listing `domain` under `consumers.domains`."""
    consumed = []
    for upstream in domain.upstreams:
        for entry in domains[upstream].products if upstream in domains else ():
            consumers = ((entry.get("consumers") or {}).get("domains") or []) if isinstance(entry, dict) else []
            if domain.name in consumers:
                consumed.append((upstream, str(entry["name"])))
    return consumed


def _consumed_readers(consumed: list[tuple[str, str]], databases: dict[str, str]) -> tuple[str, ...]:
    """`DB.<PRODUCT>_READER` of every consumed upstream product (one account: across accounts a consumer reads
    the share it mounted instead)."""
    return tuple(f"{databases[upstream]}.{reader_role(product)}" for upstream, product in consumed)


def declared_footprint(config: MeshConfig, domains: dict[str, Domain],
                       selected: list[str] | None = None) -> MeshFootprint:
    """The footprint of the selected domains (default: all), from mesh.yml defaults and domain.yml overrides."""
    mesh_check = _Checker(config.root / MESH_FILE)
    section = mesh_check.mapping(config.section("provision"), "provision", MESH_KEYS)
    naming = {**DEFAULT_NAMING, **mesh_check.mapping(section.get("naming"), "naming", set(DEFAULT_NAMING))}
    prefix = os.environ.get(PREFIX_ENV, str(naming["prefix"]))
    defaults = _merge(DEFAULT_DOMAIN, mesh_check.mapping(section.get("defaults"), "defaults", DOMAIN_KEYS))
    mesh_roles = section.get("roles") or []
    if not isinstance(mesh_roles, list):
        mesh_check.fail("`roles` must be a list of role names")
    databases = {name: _renderer(naming, mesh_check, prefix=prefix, domain=name)("database")
                 for name in domains}
    probe = Domain(name="probe", path=config.root, upstreams=(), profile="probe", source_paths=())
    _domain_footprint(probe, defaults, naming, prefix, (), mesh_check, mesh_check)  # errors name mesh.yml
    sharing = share_settings(config)
    topology = sharing.topology
    every = {}
    for name in sorted(domains):
        domain = domains[name]
        path = domain.path / "domain.yml"
        check = _Checker(path)
        override = check.mapping(read_mapping(path, default={}).get("provision"), "provision", DOMAIN_KEYS)
        consumed = _consumed_products(domain, domains)
        readers = _consumed_readers(consumed, databases) if topology == ONE_ACCOUNT else ()
        every[name] = _domain_footprint(domain, _merge(defaults, override), naming, prefix, readers, check,
                                        mesh_check, sharing.mounter_of(name)
                                        if topology == ACCOUNT_PER_DOMAIN and consumed else None)
    footprints = [every[name] for name in (selected if selected is not None else sorted(domains))]
    # The governance library's roles and `inherits` (governance.yml, domains' vars.data_mesh): created and granted
    # here, as the local engine counts them in session. A domain's functional role is granted its library roles
    # only when that domain is provisioned.
    model = access_model(config.root, domains)
    functional = {role.name: name for name, fp in every.items() for role in fp.functional_roles}
    for name, fp in every.items():
        if fp.mounting_role and (fp.mounting_role in functional or fp.mounting_role in model.roles):
            _Checker(domains[name].path / "domain.yml").fail(
                f"role {fp.mounting_role} is the mounting role of {name} (snowflake.topology: account_per_domain) and "
                "also a functional or governance library role; rename that role")
    selected_names = {fp.domain for fp in footprints}
    library_roles = [role for role in model.roles if role not in functional]
    library_grants = tuple(grant for grant in model.grants
                           if all(functional.get(role, "") in selected_names | {""} for role in grant))
    granted_to = section.get("admin_granted_to", "SYSADMIN")
    return MeshFootprint(
        mesh=config.name,
        admin_role=mesh_check.name(section.get("admin_role", "MESH_ADMIN"), "admin_role"),
        admin_granted_to=None if granted_to is None else mesh_check.name(granted_to, "admin_granted_to"),
        roles=tuple(dict.fromkeys([*(mesh_check.name(role, "roles") for role in mesh_roles), *library_roles])),
        domains=tuple(footprints),
        complete=selected is None or set(selected) == set(domains),
        library_grants=library_grants,
        entitlement_roles=frozenset(role for policy in model.policies for role in model.clearing_roles(policy)))
