"""A store in object storage (`s3://`, `gs://`, `az://`) through obstore.

obstore (the Python binding of the Rust `object_store` crate) is the one library here because it exposes the
conditional writes a compare-and-swap needs, the same way on all three clouds: `mode="create"` is S3's
`If-None-Match: *` (GCS `ifGenerationMatch=0`, Azure `If-None-Match: *`) and `mode={"e_tag": ...}` is S3's
`If-Match` (GCS's generation precondition, Azure's `If-Match`). fsspec's filesystems offer no conditional put.
Credentials come from each cloud's standard environment (`AWS_*`, `GOOGLE_*`, `AZURE_*`, instance metadata,
web identity); where the cloud's own SDK is installed (boto3, google-auth, azure-identity), its credential chain
(profiles, SSO) is used instead.
"""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from typing import Any

from mesh_cli.core.store import StaleGeneration, StateStore, StoredObject, StoreUnavailable

SCHEMES = ("s3://", "gs://", "az://", "azure://", "abfs://", "abfss://")
# A store that does not answer is reported within this time (obstore's default retries for 3 minutes).
RETRY_TIMEOUT = timedelta(seconds=20)


def _credential_provider(url: str) -> Any:
    """The cloud SDK's credential chain where that SDK is installed, else None (obstore reads the environment)."""
    if url.startswith("s3://") and importlib.util.find_spec("boto3"):
        from obstore.auth.boto3 import Boto3CredentialProvider

        return Boto3CredentialProvider()
    if url.startswith("gs://") and importlib.util.find_spec("google.auth"):
        from obstore.auth.google import GoogleCredentialProvider

        return GoogleCredentialProvider()
    if url.startswith(("az://", "azure://", "abfs")) and importlib.util.find_spec("azure.identity"):
        from obstore.auth.azure import AzureCredentialProvider

        return AzureCredentialProvider()
    return None


class ObjectStore(StateStore):
    """Objects under a bucket prefix; the generation is the object's ETag."""

    def __init__(self, url: str) -> None:
        import obstore.store

        self.location = url
        from obstore.exceptions import BaseError

        try:
            self._store = obstore.store.from_url(url, credential_provider=_credential_provider(url),
                                                 retry_config={"max_retries": 3, "retry_timeout": RETRY_TIMEOUT})
        except (BaseError, ValueError) as exc:   # a bad URL or setting
            raise StoreUnavailable(f"state store {url}: {_first_line(exc)}") from exc

    def _fail(self, exc: BaseException) -> StoreUnavailable:
        return StoreUnavailable(f"state store {self.location} cannot be reached or written: {_first_line(exc)}; "
                                "check the bucket, its credentials (the cloud's standard variables) and network")

    def get(self, key: str) -> StoredObject | None:
        import obstore
        from obstore.exceptions import BaseError, NotFoundError

        try:
            result = obstore.get(self._store, key)
            data = bytes(result.bytes())
        except (FileNotFoundError, NotFoundError):
            return None
        except (BaseError, OSError) as exc:
            raise self._fail(exc) from exc
        return StoredObject(data, str(result.meta["e_tag"]))

    def head(self, key: str) -> str | None:
        import obstore
        from obstore.exceptions import BaseError, NotFoundError

        try:
            return str(obstore.head(self._store, key)["e_tag"])
        except (FileNotFoundError, NotFoundError):
            return None
        except (BaseError, OSError) as exc:
            raise self._fail(exc) from exc

    def put(self, key: str, data: bytes, expected: str | None) -> str:
        import obstore
        from obstore.exceptions import AlreadyExistsError, BaseError, PreconditionError

        mode: Any = "create" if expected is None else {"e_tag": expected}
        try:
            written = obstore.put(self._store, key, data, mode=mode)
        except (AlreadyExistsError, PreconditionError) as exc:
            raise StaleGeneration(f"state store {self.location}: {key} changed since it was read") from exc
        except (BaseError, OSError) as exc:
            raise self._fail(exc) from exc
        return str(written["e_tag"])

    def delete(self, key: str, expected: str) -> None:
        import obstore
        from obstore.exceptions import BaseError, NotFoundError

        if self.head(key) != expected:   # the ETag alone: no need to download the object to compare it
            return
        try:
            obstore.delete(self._store, key)
        except (FileNotFoundError, NotFoundError):
            return
        except (BaseError, OSError) as exc:
            raise self._fail(exc) from exc

    def keys(self, prefix: str) -> list[str]:
        import obstore
        from obstore.exceptions import BaseError

        try:
            listed = obstore.list(self._store, prefix=prefix.rstrip("/") or None).collect()
        except (BaseError, OSError) as exc:
            raise self._fail(exc) from exc
        return sorted(str(entry["path"]) for entry in listed)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
