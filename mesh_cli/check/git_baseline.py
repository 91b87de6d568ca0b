"""The baseline of `mesh check --baseline-ref REF`: the mesh at a git revision, parsed without a database.

Only what differs is read from git. The files changed between REF and the working tree (`git diff`, plus
untracked files) tell which domains the change touched; a domain untouched, with untouched upstreams, is
identical at REF and in the working tree, so its baseline is the working tree's own parse and is not read at
all. The touched domains and their downstream are extracted from REF (`git archive`, with the `dbt_project.yml`,
`dependencies.yml` and `domain.yml` of every domain and the shared package) into a temporary folder and parsed
there, through the working tree's parse cache, so an unchanged upstream is never parsed twice. Without the
cache (`--no-cache`) the whole mesh at REF is extracted and parsed.
"""

from __future__ import annotations

import posixpath
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

from mesh_cli.core.config import MESH_FILE, MeshConfig, load_config
from mesh_cli.core.domains import Domain, discover_domains
from mesh_cli.core.errors import MeshError
from mesh_cli.core.governance_library import GOVERNANCE_FILE
from mesh_cli.core.graph import DomainGraph
from mesh_cli.core.state import ROOT_PACKAGE_FILES, fingerprint, shapes_build
from mesh_cli.dbt.parse import missing_parses, parse_domains
from mesh_cli.dbt.parse_cache import ParseCache

SKELETON_FILES = {"dbt_project.yml", "dependencies.yml", "domain.yml", "profiles.yml", "packages.yml"}


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise MeshError("--baseline-ref needs git on the PATH") from exc


def _lines(done: subprocess.CompletedProcess[str], what: str) -> list[str]:
    if done.returncode != 0:
        raise MeshError(f"git {what} failed: {done.stderr.strip()}")
    return [line for line in done.stdout.splitlines() if line]


class GitRevision:
    """A commit of the repository that holds the mesh, and the mesh's folder inside it."""

    def __init__(self, config: MeshConfig, ref: str) -> None:
        top = _git(config.root, "rev-parse", "--show-toplevel")
        if top.returncode != 0:
            raise MeshError(f"--baseline-ref needs a git repository, and {config.root} is not in one")
        commit = _git(config.root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        if commit.returncode != 0:
            raise MeshError(f"git ref {ref!r} does not exist in {top.stdout.strip()} (in CI, fetch it first: "
                            "`git fetch origin main`, or check out with fetch-depth: 0)")
        self.config = config
        self.ref = ref
        self.sha = commit.stdout.strip()
        self.top = Path(top.stdout.strip()).resolve()
        self.relative = config.root.relative_to(self.top).as_posix()   # "." when the mesh is the repository

    def changed_paths(self) -> set[str]:
        """Files of the mesh that differ between the revision and the working tree, relative to the mesh."""
        state = self.config.state_dir
        changed = _lines(_git(self.config.root, "diff", "--name-only", "--no-renames", "--relative", self.sha,
                              "--", "."), "diff")
        changed += _lines(_git(self.config.root, "ls-files", "--others", "--exclude-standard", "--", "."),
                          "ls-files")
        return {path for path in changed if shapes_build(Path(path))
                and not (self.config.root / path).resolve().is_relative_to(state)}

    def files(self) -> list[str]:
        """Every file of the mesh at the revision, relative to the mesh."""
        listed = _lines(_git(self.top, "ls-tree", "-r", "--name-only", self.sha, "--", self.relative), "ls-tree")
        return [posixpath.relpath(line, self.relative) for line in listed]

    def extract(self, paths: list[str], dest: Path) -> None:
        """Write these files (relative to the mesh) as they are at the revision under `dest`."""
        if not paths:
            return
        args = [posixpath.normpath(posixpath.join(self.relative, path)) for path in paths]
        with subprocess.Popen(["git", "archive", "--format=tar", self.sha, "--", *args], cwd=self.top,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
            assert process.stdout is not None
            with tarfile.open(fileobj=process.stdout, mode="r|") as archive:
                archive.extractall(dest, filter="data")  # plain files only, nothing outside `dest`
            error = process.stderr.read().decode() if process.stderr else ""
        if process.returncode != 0:
            raise MeshError(f"cannot read {self.ref} from git: {error.strip()}")


def _within(path: str, folder: str) -> bool:
    return folder == "." or path == folder or path.startswith(folder + "/")


class _Extraction:
    """The files of the revision written so far into the temporary tree."""

    def __init__(self, revision: GitRevision, files: list[str], tree: Path) -> None:
        self.revision = revision
        self.files = files
        self.tree = tree
        self.root = tree / revision.relative
        self.written: set[str] = set()

    def add(self, wanted: list[str]) -> None:
        todo = sorted(set(wanted) - self.written)
        self.revision.extract(todo, self.tree)
        self.written.update(todo)

    def skeleton(self) -> None:
        """mesh.yml, governance.yml, the shared package, and the files that declare each domain (not its models)."""
        self.add([f for f in self.files if f in (MESH_FILE, GOVERNANCE_FILE) or posixpath.basename(f) in SKELETON_FILES
                  or any(_within(f, folder) for folder in ROOT_PACKAGE_FILES)])

    def folders(self, domains: list[Domain]) -> None:
        """Every file of these domains."""
        folders = [d.path.relative_to(self.root).as_posix() for d in domains]
        self.add([f for f in self.files if any(_within(f, folder) for folder in folders)])


class GitBaseline(NamedTuple):
    """The mesh at a revision, as far as it differs from the working tree."""

    description: str
    manifests: dict[str, dict[str, Any]]   # of the domains that differ from the working tree
    identical: set[str]                    # domains whose baseline is the working tree's own parse


def from_git_ref(revision: GitRevision, target: str, current: dict[str, Domain], *, jobs: int = 1,
                 cache: bool = True, fingerprints: dict[str, str] | None = None) -> GitBaseline:
    """The mesh at a revision, read and parsed only where it differs from the working tree's `current` domains
    (whose `fingerprints` the caller may have computed already)."""
    config, ref = revision.config, revision.ref
    description = f"git ref {ref} ({revision.sha[:12]})"
    changed = revision.changed_paths() if cache else None
    scratch = Path(tempfile.mkdtemp(prefix="mesh-baseline-"))
    try:
        extraction = _Extraction(revision, revision.files(), scratch / "tree")
        if MESH_FILE not in extraction.files:
            raise MeshError(f"git ref {ref!r} has no {MESH_FILE} at {revision.relative}")
        extraction.skeleton()
        base = load_config(extraction.root)
        domains = discover_domains(base)
        graph = DomainGraph(domains)
        order = graph.order(domains)
        touched = _touched(config, base, domains, current, changed)
        differ = touched | {d for name in touched for d in graph.downstream_of(name)}
        needed = [domains[n] for n in order if n in differ or graph.downstream_of(n) & differ]
        known = fingerprints or {}
        untouched = {name: known.get(name) or fingerprint(config, current[name])
                     for name in domains if name not in touched}
        shared = ParseCache.of(config, target, partial_parse=False) if cache else None
        missing = (set(missing_parses(base, needed, target, shared, fingerprints=untouched))
                   if shared is not None else {d.name for d in needed})
        extraction.folders([d for d in needed if d.name in missing])
        try:
            manifests = parse_domains(base, needed, target, state_dir=scratch / "state", cache=shared, jobs=jobs,
                                      fingerprints=untouched, load=differ)
        except MeshError as exc:
            raise MeshError(f"the baseline {ref} does not parse: {exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return GitBaseline(description, manifests, set(domains) - differ)


def _touched(config: MeshConfig, base: MeshConfig, domains: dict[str, Domain], current: dict[str, Domain],
             changed: set[str] | None) -> set[str]:
    """The domains whose own files differ between the revision and the working tree; every domain when the
    shared package, mesh.yml or governance.yml differs, or when that is not known (no cache: nothing is reused)."""
    if changed is None or any(path.split("/")[0] in (*ROOT_PACKAGE_FILES, MESH_FILE, GOVERNANCE_FILE)
                              for path in changed):
        return set(domains)
    touched = set()
    for name, domain in domains.items():
        folder = domain.path.relative_to(base.root).as_posix()
        now = current.get(name)
        if now is None or now.path.relative_to(config.root).as_posix() != folder \
                or any(_within(path, folder) for path in changed):
            touched.add(name)
    return touched
