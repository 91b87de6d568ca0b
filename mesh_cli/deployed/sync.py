"""Pulling deployed records from a store into the working state folder, and pushing a domain's record back.

A deploy (`mesh build`, `mesh publish`) takes the lease of every domain it writes, pulls the records of those
domains and of the upstreams it reads but does not build, builds, and pushes each built domain's record with a
conditional write on the generation it pulled: a record deployed meanwhile by someone else is never overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from mesh_cli.core.config import MeshConfig
from mesh_cli.core.errors import MeshError
from mesh_cli.core.state import domain_state_dir, head_commit
from mesh_cli.core.store import StaleGeneration, StateStore
from mesh_cli.deployed.lease import held_leases
from mesh_cli.deployed.record import (
    RecordMeta,
    installed_dbt_version,
    local_meta,
    manifest_schema_of,
    now,
    pack_record,
    read_packed,
    readable_manifest_schema,
    unpack_record,
    write_meta,
    writer_identity,
)

RECORD_OBJECT, LEASE_OBJECT = "record.tar.gz", "lease.json"


def record_key(target: str, domain: str) -> str:
    return f"{target}/{domain}/{RECORD_OBJECT}"


def lease_key(target: str, domain: str) -> str:
    return f"{target}/{domain}/{LEASE_OBJECT}"


def deployed_domains(store: StateStore, target: str) -> list[str]:
    """The domains with a record on `target` in the store."""
    return sorted({key.split("/")[1] for key in store.keys(f"{target}/")
                   if key.count("/") == 2 and key.endswith("/" + RECORD_OBJECT)})


def _compatible(meta: RecordMeta, name: str, where: str) -> None:
    readable = readable_manifest_schema()
    if meta.manifest_schema and readable and meta.manifest_schema != readable:
        installed = installed_dbt_version()
        raise MeshError(f"the deployed record of {name} on {where} was written by dbt {meta.dbt_version} (manifest "
                        f"{meta.manifest_schema}); this dbt {installed} reads manifest {readable}: deploy {name} "
                        f"again with dbt {installed}, or run mesh with dbt {meta.dbt_version}")


def pull_records(store: StateStore, target: str, names: Iterable[str], into: Path, *,
                 required: Iterable[str] = ()) -> dict[str, str | None]:
    """Copy the records of `names` from the store into `into/<domain>/` (skipped where the working copy already
    holds the same generation, asked of the store first; a domain the working copy lacks is read at once); the
    generation pulled per domain, None where the store has none. A domain in
    `required` without a record is an error naming it and the command that deploys it."""
    must = set(required)
    generations: dict[str, str | None] = {}
    for name in names:
        key, folder = record_key(target, name), into / name
        held = local_meta(folder)
        generation = store.head(key) if held is not None else None   # only a held record is compared first
        if held is not None and generation is not None and held.generation == generation:
            generations[name] = generation
            continue     # the working folder holds that record already: nothing is read
        found = store.get(key) if held is None or generation is not None else None
        generations[name] = found.generation if found is not None else None
        if found is None:
            if name in must:
                raise MeshError(f"{name} has no deployed record on {store.location} for target {target}: deploy it "
                                f"first (`mesh build {name} --target {target}`), or check the store setting "
                                "(`state: stores:` in mesh.yml, MESH_STORE)")
            continue
        meta, files = read_packed(found.data, f"{store.location}: the record of {name} ({target})")
        _compatible(meta, name, store.location)
        unpack_record(replace(meta, generation=found.generation), files, folder)
    return generations


@dataclass
class Deploy:
    """A deploy in progress: the store, and the generation of each domain's record it read."""

    config: MeshConfig
    store: StateStore
    target: str
    command: str
    generations: dict[str, str | None] = field(default_factory=dict)

    def push(self, domain: str) -> str:
        """Write the domain's record from the working folder, only over the generation this deploy read."""
        folder = domain_state_dir(self.config, self.target, domain)
        manifest = folder / "manifest.json"
        meta = RecordMeta(domain, self.target, now(), writer_identity(self.command), head_commit(self.config.root),
                          installed_dbt_version(), manifest_schema_of(manifest) if manifest.is_file() else None)
        expected = self.generations.get(domain)
        try:
            generation = self.store.put(record_key(self.target, domain), pack_record(folder, meta), expected)
        except StaleGeneration as exc:
            newer = self.store.get(record_key(self.target, domain))
            who = ""
            if newer is not None:
                theirs, _ = read_packed(newer.data, self.store.location)
                who = f" by {theirs.writer} at {theirs.written_at}"
            raise StaleGeneration(f"a newer record of {domain} was deployed to {self.store.location}{who} after this "
                                  "deploy read it: this deploy's record was not saved; run it again to deploy on "
                                  "top of the newer one") from exc
        self.generations[domain] = generation
        write_meta(folder, replace(meta, generation=generation))   # the working folder holds what was pushed
        return generation


@contextmanager
def deploying(config: MeshConfig, store: StateStore, target: str, writes: Iterable[str], reads: Iterable[str],
              command: str, *, strict: bool, lease_seconds: float) -> Iterator[Deploy]:
    """Hold the leases of the domains `writes`, pull their records and those of `reads` (upstreams not built
    here; each must have a record when `strict`), and yield the deploy that pushes them."""
    writes, reads = list(writes), [name for name in reads if name not in set(writes)]
    with held_leases(store, {lease_key(target, name): lease_subject(target, name) for name in writes},
                     writer_identity(command), lease_seconds):
        yield pulled_deploy(config, store, target, writes, reads, command, strict=strict)


def lease_subject(target: str, domain: str) -> str:
    """How a lease's domain is named in the message of a deploy that waits for it."""
    return f"{domain} ({target})"


def pulled_deploy(config: MeshConfig, store: StateStore, target: str, writes: list[str], reads: list[str],
                  command: str, *, strict: bool) -> Deploy:
    """Pull the records of `writes` and `reads` into the working state folder (each of `reads` must have one when
    `strict`); the deploy that pushes `writes` on the generations pulled. The caller holds their leases."""
    generations = pull_records(store, target, [*reads, *writes], config.manifests_dir(target),
                               required=reads if strict else ())
    return Deploy(config, store, target, command, generations)
