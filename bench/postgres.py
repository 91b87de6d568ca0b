"""A throwaway PostgreSQL server for Airflow's metadata database (benchmark 14): Airflow runs tasks in parallel
only on a supported database (PostgreSQL or MySQL; SQLite takes one writer). `initdb` into a new folder of the
system's temporary folder, started on a free local port, a new database for each Airflow run, stopped and removed
at the end. PostgreSQL refuses to run as root: as root, the server runs as the `postgres` account, which can reach
that folder (not the benchmark's own, which only its maker can enter)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

TOOLS = ("initdb", "pg_ctl", "createdb")
ROLE = "airflow"   # the server's superuser, trusted on the local port only


class PostgresMissing(RuntimeError):
    """No PostgreSQL to run: the message says, in one line, what is missing."""


@dataclass
class PostgresServer:
    """A running server; `database()` makes a new, empty database and returns its SQLAlchemy URL."""

    bindir: Path
    port: int
    user: str | None
    made: list[str] = field(default_factory=list)

    def database(self) -> str:
        name = f"airflow_{len(self.made)}"
        _run(self, "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", ROLE, name)
        self.made.append(name)
        return f"postgresql+psycopg2://{ROLE}@127.0.0.1:{self.port}/{name}"


def _bindir() -> Path:
    """The folder of PostgreSQL's programs: that of `initdb` on PATH (a Debian symlink is followed to its
    version's folder, which also holds createdb)."""
    initdb = shutil.which("initdb")
    if initdb is None:
        raise PostgresMissing("no PostgreSQL on this machine (initdb not on PATH)")
    bindir = Path(initdb).resolve().parent
    missing = [tool for tool in TOOLS if not (bindir / tool).exists()]
    if missing:
        raise PostgresMissing(f"PostgreSQL's {', '.join(missing)} not found beside {bindir / 'initdb'}")
    return bindir


def _account() -> str | None:
    """The account the server runs as: none (this process's own) unless this process is root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres").pw_name
    except KeyError:
        raise PostgresMissing("PostgreSQL refuses to run as root and there is no `postgres` account to run it as")\
            from None


def _run(server: PostgresServer, tool: str, *args: str) -> None:
    done = subprocess.run([str(server.bindir / tool), *args], user=server.user, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"PostgreSQL's {tool} failed: {(done.stdout + done.stderr).strip()[-1000:]}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the block's length (PostgresMissing if this machine has none)."""
    server = PostgresServer(_bindir(), _free_port(), _account())
    folder = Path(tempfile.mkdtemp(prefix="mesh-bench-postgres-"))
    if server.user is not None:
        shutil.chown(folder, server.user)
    data = folder / "data"
    try:
        _run(server, "initdb", "-D", str(data), "-U", ROLE, "-A", "trust", "-E", "UTF8", "--no-sync")
        _run(server, "pg_ctl", "-D", str(data), "-l", str(folder / "server.log"), "-w", "-o",
             f"-h 127.0.0.1 -p {server.port} -k {folder}", "start")
        try:
            yield server
        finally:
            _run(server, "pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
