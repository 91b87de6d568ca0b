"""One failure convention for every command (core/errors.py): 0 done, 1 a run failed, 2 bad input, 3 a bug in
mesh (reported as one, with its traceback saved). Per plan/apply command: bad input exits 2, a failed apply 1."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from conftest import run_cli
from ingest_helpers import FAKESNOW_SERVER, make_mesh, source, write_file

import mesh_cli.commands.list as list_command
from mesh_cli.core.config import load_config
from mesh_cli.core.domains import load_domain
from mesh_cli.core.errors import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_OK,
    EngineError,
    MeshError,
    RunFailed,
    exit_code_of,
)
from mesh_cli.core.plan import OfflineBackend, Plan, ShowTooLarge, Statement, apply, apply_to, exit_code
from mesh_cli.core.store import StaleGeneration, StoreUnavailable
from mesh_cli.engines.snowflake import SnowflakeEngine
from mesh_cli.ingest.run import DomainIngest, ingest_domain

COPY = {"mode": "copy", "location": "landing/orders/", "file_format": {"type": "csv", "skip_header": 1}}


class Ended:
    """An outcome ended by `error` (none: it succeeded), its code derived from the exception as features do."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.ok = error is None
        self.exit_code = EXIT_OK if error is None else exit_code_of(error)


def test_exit_code_of_outcomes_is_derived_from_the_exceptions_that_ended_them() -> None:
    assert exit_code([]) == EXIT_OK == 0
    assert exit_code([Ended(), Ended()]) == 0
    assert exit_code([Ended(), Ended(EngineError("lost connection"))]) == EXIT_FAILED == 1
    assert exit_code([Ended(EngineError("x")), Ended(MeshError("domain.yml: bad"))]) == EXIT_BAD_INPUT == 2
    assert exit_code([Ended(StaleGeneration("newer record")), Ended()]) == 1   # a failed run, not bad input
    assert exit_code([Ended(StoreUnavailable("no bucket"))]) == 2


def test_a_warehouse_failure_is_never_bad_input() -> None:
    assert issubclass(EngineError, RunFailed) and EngineError("x").exit_code == EXIT_FAILED
    assert ShowTooLarge("SHOW GRANTS: more than 10,000 rows").exit_code == EXIT_FAILED


class Execute:
    """An `execute` that runs statements until the one at `fail_at`, where it raises `error`."""

    def __init__(self, error: BaseException, fail_at: int = 1) -> None:
        self.error, self.fail_at, self.ran = error, fail_at, list[str]()

    def __call__(self, sql: str) -> None:
        if len(self.ran) == self.fail_at:
            raise self.error
        self.ran.append(sql)


PLAN = Plan("t", [Statement("CREATE SHARE S", "create", "share", "S"), Statement("GRANT X", "grant", "share", "S"),
                  Statement("GRANT Y", "grant", "share", "S")])


def test_apply_records_the_statement_the_warehouse_failed_and_stops() -> None:
    result = apply(PLAN, Execute(EngineError("Object 'X' does not exist")))
    assert not result.ok and result.exit_code == EXIT_FAILED and len(result.applied) == 2
    assert result.failed is not None and result.failed.statement.sql == "GRANT X"
    assert result.failed.error == "Object 'X' does not exist"


@pytest.mark.parametrize("error", [KeyError("grantee"), MeshError("orders: no credentials")])
def test_apply_lets_a_bug_or_bad_input_propagate_instead_of_calling_it_a_failed_statement(error: Exception) -> None:
    execute = Execute(error)
    with pytest.raises(type(error)):
        apply(PLAN, execute)
    assert execute.ran == ["CREATE SHARE S"]


def test_a_driver_error_reaches_apply_as_an_engine_error(tmp_path: Path) -> None:
    """provision on DuckDB applies through the engine's error wrapping: duckdb's own error is a failed statement."""
    from mesh_cli.engines.duckdb import DuckDBEngine

    connection = duckdb.connect(str(tmp_path / "x.duckdb"))
    with DuckDBEngine.errors():
        connection.execute("create table t (i integer not null)")
    with pytest.raises(EngineError, match="NOT NULL constraint failed"), DuckDBEngine.errors():
        connection.execute("insert into t values (null)")


def test_an_offline_backend_plans_from_an_empty_state_and_refuses_to_apply_as_bad_input() -> None:
    backend = OfflineBackend("no credentials: only --plan works offline")
    assert backend.offline and backend.reader.show("SHARES") == []
    with pytest.raises(MeshError, match="only --plan works offline") as refused:
        apply_to(Plan("t", [Statement("CREATE SHARE S", "create", "share", "S")]), backend)
    assert refused.value.exit_code == EXIT_BAD_INPUT


# provision: bad input 2, a failed apply 1

def test_provision_bad_input_exits_2_and_applies_nothing(mesh_copy: Path) -> None:
    result = run_cli(mesh_copy, "provision", "orders", "--prune")
    assert result.exit_code == 2 and "--prune compares the whole mesh" in result.output
    assert not list(mesh_copy.rglob("*.duckdb"))


def test_provision_failed_apply_exits_1_naming_the_statement(mesh_copy: Path) -> None:
    assert run_cli(mesh_copy, "provision", "orders").exit_code == 0
    database = next((mesh_copy / ".mesh").rglob("orders.duckdb"))
    connection = duckdb.connect(str(database))
    # A recorded-roles table the plan reads but cannot insert into: the insert fails when applied.
    connection.execute("drop table governance.mesh_provisioned_roles")
    connection.execute("create table governance.mesh_provisioned_roles "
                       "(role_name varchar, comment varchar, added integer not null)")
    connection.close()
    result = run_cli(mesh_copy, "provision", "orders")
    assert result.exit_code == 1, result.output
    assert "failed" in result.output and "insert into governance.mesh_provisioned_roles" in result.output


# ingest: bad input 2, a failed apply 1 (a COPY fakesnow cannot run, on a live prod target)

def test_ingest_bad_input_exits_2(tmp_path: Path) -> None:
    root = tmp_path / "mesh"
    make_mesh(root, [source({**COPY, "mode": "ftp"})])
    result = run_cli(root, "ingest")
    assert result.exit_code == 2 and "ingest mode 'ftp'" in result.output


def test_ingest_failed_apply_ends_in_the_result_naming_the_statement(tmp_path: Path) -> None:
    """On a fakesnow server the objects apply and the planned COPY (METADATA$ columns) fails: the result says
    which statement failed, nothing is raised, and the command's exit code is 1."""
    if FAKESNOW_SERVER is None:
        pytest.skip("fakesnow is not installed")
    import snowflake.connector

    root = tmp_path / "mesh"
    domain = make_mesh(root, [source({**COPY, "stage": {"name": "landing", "url": f"file://{tmp_path}/stage/"}})])
    write_file(tmp_path, "stage/landing/orders/a.csv", "id,name,amount\n1,apple,1.50\n")
    with FAKESNOW_SERVER() as parameters:
        engine = SnowflakeEngine(load_config(root), "prod", connection=snowflake.connector.connect(**parameters))
        engine.execute("CREATE DATABASE SHOP")
        ingested = ingest_domain(load_config(root), load_domain(domain), engine)
    assert not ingested.ok and ingested.exit_code == exit_code([ingested]) == EXIT_FAILED
    assert ingested.applied is not None and ingested.applied.failed is not None
    assert ingested.applied.failed.statement.action == "load"
    assert all(item.ok for item in ingested.applied.applied[:-1]) and len(ingested.applied.applied) > 1
    assert re.match(r"ingestion of shop: load table \S+ failed: ", ingested.error or "")


def test_a_failed_ingestion_fails_its_result_without_raising() -> None:
    from mesh_cli.core.plan import ApplyResult

    plan = Plan("t", [Statement("COPY INTO X", "load", "table", "SHOP.LANDING.ORDERS")])
    failed = DomainIngest("shop", "snowflake", plan=plan, applied=apply(plan, Execute(EngineError("gone"), 0)))
    assert not failed.ok and failed.exit_code == exit_code([failed]) == 1
    assert failed.error == "ingestion of shop: load table SHOP.LANDING.ORDERS failed: gone"
    done = DomainIngest("shop", "snowflake", plan=Plan("t"), applied=ApplyResult(Plan("t")))
    assert done.ok and done.error is None and exit_code([done]) == 0


# publish and build: bad input 2, a warehouse failure 1

def test_a_warehouse_failure_while_planning_a_publish_fails_the_domain_with_1_not_2(
        built_mesh: tuple[Path, object], monkeypatch: pytest.MonkeyPatch) -> None:
    """The account refuses the plan's first SHOW: the real Snowflake engine wraps the driver's error as an
    EngineError, and the domain's publish fails as a run (exit 1), not as bad input."""
    from snowflake.connector.errors import OperationalError

    import mesh_cli.shares.publish as publish
    from mesh_cli.core.domains import discover_domains
    from mesh_cli.core.manifest import load_manifest
    from mesh_cli.engines.account_backend import AccountBackend

    class Unreachable:  # a connection whose every statement fails as a lost connection does
        def cursor(self) -> Unreachable:
            return self

        def execute(self, sql: str) -> None:
            raise OperationalError(msg="Could not connect to Snowflake backend after 2 attempt(s)", errno=250001)

        def close(self) -> None:
            pass

    root = built_mesh[0]
    config = load_config(root)
    engine = SnowflakeEngine(config, "prod", connection=Unreachable())
    monkeypatch.setattr(publish, "backend_for", lambda *args: AccountBackend(engine))
    domains = discover_domains(config)
    manifest = load_manifest(root / ".mesh/state/dev/customers/manifest.json")
    ended = publish.publish_domain(config, "prod", domains["customers"], domains, manifest)
    assert not ended.ok and ended.exit_code == exit_code([ended]) == EXIT_FAILED
    assert "Could not connect to Snowflake backend" in (ended.error or "")


def test_publish_of_an_unknown_domain_exits_2(mesh_copy: Path) -> None:
    result = run_cli(mesh_copy, "publish", "nowhere", "--plan")
    assert result.exit_code == 2   # the selection is resolved as dbt's is, on every command that takes domains
    assert result.output == "error: selector 'nowhere' names no domain; domains: customers, finance, orders\n"


def test_build_bad_input_exits_2(tmp_path: Path) -> None:
    (tmp_path / "mesh.yml").write_text("mesh:\n  name: empty\n")
    (tmp_path / "domains").mkdir()
    result = run_cli(tmp_path, "build")
    assert result.exit_code == 2 and "no domains in" in result.output


# a bug in mesh: exit 3, one line, the traceback saved

def test_a_bug_is_reported_as_an_internal_error_with_its_traceback(mesh_copy: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("views")

    monkeypatch.setattr(list_command, "load_inventory", broken)
    result = run_cli(mesh_copy, "list")
    assert result.exit_code == EXIT_INTERNAL == 3
    found = re.search(r"internal error in mesh \S+ \(KeyError: 'views' at mesh_cli/commands/list.py:\d+\): "
                      r"please report it; traceback in (\S+)", " ".join(result.output.split()))
    assert found, result.output
    saved = Path(found.group(1)).read_text()
    assert saved.startswith("mesh ") and "Traceback" in saved and "raise KeyError" in saved
    Path(found.group(1)).unlink()


# an OSError: bad input on a file of the user's, a bug on any other

@pytest.mark.parametrize(("failing", "code"), [
    ("mesh/domains/shop/domain.yml", EXIT_BAD_INPUT),   # a project file: in the mesh's folder
    ("given/out.json", EXIT_BAD_INPUT),                 # a path given on the command line
    ("state/dev/shop/manifest.json", EXIT_BAD_INPUT),   # the state folder MESH_STATE_DIR moves out of the mesh
    ("elsewhere/cache.json", EXIT_INTERNAL),            # a file mesh chose itself: a bug, named as one
])
def test_an_os_error_is_bad_input_only_on_a_file_of_the_users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              failing: str, code: int) -> None:
    import errno

    import click
    from click.testing import CliRunner

    from mesh_cli.commands.common import handle_errors

    (tmp_path / "mesh").mkdir()
    (tmp_path / "mesh/mesh.yml").write_text("mesh:\n  name: t\n")
    monkeypatch.chdir(tmp_path / "mesh")   # the mesh is found from the working folder, as without --mesh-dir
    monkeypatch.setenv("MESH_STATE_DIR", str(tmp_path / "state"))

    @click.group()
    def root() -> None:
        pass

    @root.command()
    @click.option("--out", type=click.Path(path_type=Path))
    @handle_errors
    def write(out: Path) -> None:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(tmp_path / failing))

    result = CliRunner().invoke(root, ["write", "--out", str(tmp_path / "given")])
    assert result.exit_code == code, result.output
    said = " ".join(result.output.split())
    if code == EXIT_BAD_INPUT:
        assert said == f"error: {tmp_path / failing}: No such file or directory; the file or folder is missing: " \
                       "rebuild, or check the path"
    else:
        assert said.startswith("internal error in mesh ") and "(FileNotFoundError: [Errno 2] " in said
        Path(said.rsplit("traceback in ", 1)[1]).unlink()


def test_query_on_an_account_engine_exits_1_as_provision_ingest_and_publish_do(tmp_path: Path) -> None:
    """"The engine cannot do this" is one code on every command: the target's engine failed the run, exit 1."""
    root = tmp_path / "mesh"
    make_mesh(root, [])
    result = run_cli(root, "query", "shop", "select 1", "--target", "prod")
    assert result.exit_code == EXIT_FAILED, result.output
    assert "target 'prod' is snowflake: query it with your own client and role" in " ".join(result.output.split())
