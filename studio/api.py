"""The Python API for scripts: what the ``studio`` command does, as plain functions.

Storage for now; later parts of the studio add their own functions here. Each function reads
the settings of the current studio home (``STUDIO_HOME`` or the platform folders) where it
needs them, returns plain values (CIDs as text, bytes), and raises :class:`studio.errors.StudioError`
subclasses whose messages say what to do. Nothing here imports Qt, and the storage modules are
imported only when a function runs, so ``import studio.api`` stays cheap::

    from studio import api

    cid = api.cid_of("art.png", cid_version=1)   # what `ipfs add --only-hash --cid-version=1` prints
    assert api.publish("art.png", cid_version=1) == cid
    assert api.fetch(f"ipfs://{cid}") == open("art.png", "rb").read()
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from studio.storage.store import ContentStore

__all__ = ["cid_of", "export_car", "fetch", "publish"]


def cid_of(path: Path | str, cid_version: int = 0, *, include_hidden: bool = False) -> str:
    """The CID of a file or folder, computed locally exactly as Kubo's ``ipfs add [-r] --only-hash``.

    ``cid_version=0`` is Kubo's default (``Qm…``); 1 gives raw leaves in base32 (``bafk…``/``bafy…``),
    the form the contracts commit to. Nothing is stored.
    """
    from studio.storage.unixfs import cid_of_path

    return str(cid_of_path(path, cid_version=_version(cid_version), include_hidden=include_hidden))


def publish(path: Path | str, backend: "str | ContentStore | None" = None, *, cid_version: int = 0,
            include_hidden: bool = False, pinning_token: str | None = None) -> str:
    """Store and pin a file or folder where the settings keep works; returns its CID.

    ``backend`` is ``None`` (the ``storage_backend`` setting), a name (``"local"``, ``"kubo"``,
    ``"pinning"``) or a backend object. A pinning service's token is ``pinning_token`` or the
    ``STUDIO_PINNING_TOKEN`` environment variable; it is never stored. The CID is the one the
    studio computed itself (Kubo's answer is checked against it).
    """
    version = _version(cid_version)
    if backend is None or isinstance(backend, str):
        from studio.config import load_config
        from studio.storage.backends import backend_from_config

        backend = backend_from_config(load_config(), name=backend, pinning_token=pinning_token)
    return str(backend.add_path(Path(path), cid_version=version, include_hidden=include_hidden))


def fetch(uri: str, *, gateways: Sequence[str] | None = None, max_bytes: int | None = None) -> bytes:
    """The bytes an ``ipfs://``, ``https://`` or ``data:`` URI names.

    IPFS content comes from the local store first, then the gateways (the ``gateways`` setting
    unless given), and is checked against its CID; content over ``max_bytes`` (the
    ``fetch_max_bytes`` setting unless given) is refused. Other schemes (``file:``…) are refused.
    """
    from studio.config import load_config
    from studio.storage.backends import fetcher_from_config

    fetcher = fetcher_from_config(load_config(), gateways=None if gateways is None else tuple(gateways),
                                  max_bytes=max_bytes)
    return fetcher.fetch(uri).data


def export_car(path: Path | str, out: Path | str, *, cid_version: int = 0, include_hidden: bool = False) -> str:
    """Write the exact blocks of a file or folder to the CARv1 file ``out`` (written atomically),
    for ``ipfs dag import`` or a pinning service; returns the root CID."""
    from studio.storage.car import export_car as write

    return str(write(path, out, cid_version=_version(cid_version), include_hidden=include_hidden))


def _version(cid_version: int) -> int:
    if cid_version not in (0, 1) or isinstance(cid_version, bool):
        from studio.errors import InputError

        raise InputError(f"cid_version must be 0 or 1, not {cid_version!r}.",
                         hint="0 is Kubo's default (Qm…); 1 gives base32 CIDs with raw leaves (bafk…/bafy…).")
    return cid_version
