"""The embedded local store: IPFS blocks in the studio's data folder, plus the backends' interface.

Blocks are files named by their multihash (base32), written atomically and checked against
their CID when read back. A file or folder counts as stored ("pinned") only once all its
blocks are on disk: the pin list is written last, so a failed add leaves nothing recorded.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Protocol

from studio.cancel import Cancellable, ProgressCallback
from studio.errors import InputError, NotFound, StorageError
from studio.fileio import atomic_write_text, atomic_write_bytes
from studio.storage.cid import DAG_PB, RAW, Cid, base32_encode
from studio.storage.unixfs import (T_DIRECTORY, T_FILE, T_RAW, T_SYMLINK, Node, add_bytes, add_path,
                                   decode_node)

if TYPE_CHECKING:
    from studio.paths import StudioPaths

log = logging.getLogger(__name__)


class ContentStore(Protocol):
    """What every storage backend offers (local store, Kubo, pinning service): put content, get
    back the CID the studio computed itself (and checked against the backend's), keep it available.

    :func:`studio.storage.backends.backend_from_config` picks the one the settings name.
    """

    name: str

    def add_path(self, path: Path, *, cid_version: int = 1, include_hidden: bool = False,
                 progress: ProgressCallback | None = None, cancel: Cancellable | None = None) -> Cid: ...

    def add_bytes(self, data: bytes, *, cid_version: int = 1) -> Cid: ...

    def has(self, cid: Cid) -> bool:
        """Whether the backend holds (pins) all of ``cid``."""
        ...


@dataclass(frozen=True)
class Entry:
    """What a CID (and path below it) resolves to in the store."""

    cid: Cid
    kind: str  # "file", "directory" or "symlink"
    size: int
    node: Node | None  # None for a raw block


class LocalStore:
    """Blocks under ``root/blocks``; pins in ``root/pins.json``."""

    name = "local"

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._blocks = self.root / "blocks"
        self._pins_file = self.root / "pins.json"
        self._lock = threading.Lock()

    @classmethod
    def default(cls, paths: "StudioPaths | None" = None) -> "LocalStore":
        """The store in the data folder of ``paths`` (default: this studio home's)."""
        from studio.paths import studio_paths

        return cls((paths or studio_paths()).data_dir / "ipfs")

    # ------------------------------------------------------------ blocks
    def _block_path(self, cid: Cid) -> Path:
        key = base32_encode(cid.multihash)
        return self._blocks / key[-3:-1] / key

    def put_block(self, cid: Cid, block: bytes) -> None:
        if not cid.verify(block):
            raise StorageError(f"Refusing to store a block that does not match its CID {cid}.")
        path = self._block_path(cid)
        if not path.exists():
            atomic_write_bytes(path, block)

    def has_block(self, cid: Cid) -> bool:
        return self._block_path(cid).exists()

    def get_block(self, cid: Cid) -> bytes:
        """The block's bytes, verified; :class:`NotFound` if absent, StorageError if damaged."""
        path = self._block_path(cid)
        try:
            block = path.read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"{cid} is not in the local store.",
                           hint="Add it first, or fetch it from a gateway.") from exc
        except OSError as exc:
            raise StorageError(f"Reading block {cid} failed: {exc.strerror or exc}.") from exc
        if not cid.verify(block):
            raise StorageError(f"Block {cid} in the local store is damaged (its bytes no longer match).",
                               hint=f"Delete {path} and add the content again.")
        return block

    # ------------------------------------------------------------ adding
    def add_path(self, path: Path | str, *, cid_version: int = 1, include_hidden: bool = False,
                 progress: ProgressCallback | None = None, cancel: Cancellable | None = None) -> Cid:
        """Store a file or folder (``ipfs add [-r]`` layout) and pin it; returns its CID."""
        cid = add_path(path, cid_version=cid_version, sink=self.put_block, include_hidden=include_hidden,
                       progress=progress, cancel=cancel).cid
        self.pin(cid)
        return cid

    def add_bytes(self, data: bytes, *, cid_version: int = 1) -> Cid:
        cid = add_bytes(data, cid_version=cid_version, sink=self.put_block).cid
        self.pin(cid)
        return cid

    def import_car(self, path: Path | str) -> list[Cid]:
        """Store every block of a CAR file (verified) and pin its roots once all are complete."""
        from studio.storage.car import read_car

        with open(path, "rb") as stream:
            roots, blocks = read_car(stream)
            for cid, block in blocks:
                self.put_block(cid, block)
        for root in roots:
            missing = next(self.missing_blocks(root), None)
            if missing is not None:
                raise StorageError(f"The CAR file lacks block {missing} of {root}; nothing was pinned.")
        for root in roots:
            self.pin(root)
        return roots

    # ------------------------------------------------------------ pins
    def pins(self) -> list[str]:
        try:
            value = json.loads(self._pins_file.read_text(encoding="utf-8"))
            return [str(item) for item in value.get("pins", [])]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, AttributeError) as exc:
            raise StorageError(f"The local store's pin list {self._pins_file} is unreadable.",
                               hint="Restore it from a backup or delete it and add your works again.") from exc

    def pin(self, cid: Cid) -> None:
        with self._lock:
            pins = self.pins()
            if str(cid) not in pins:
                pins.append(str(cid))
                atomic_write_text(self._pins_file, json.dumps({"pins": sorted(pins)}, indent=1))

    def is_pinned(self, cid: Cid) -> bool:
        return str(cid) in self.pins()

    # ------------------------------------------------------------ reading
    def has(self, cid: Cid) -> bool:
        """Whether every block of the DAG under ``cid`` is here."""
        return next(self.missing_blocks(cid), None) is None

    def missing_blocks(self, cid: Cid) -> Iterator[Cid]:
        if not self.has_block(cid):
            yield cid
            return
        if cid.codec == DAG_PB:
            for link in decode_node(self.get_block(cid)).links:
                yield from self.missing_blocks(link.cid)

    def blocks(self, cid: Cid) -> Iterator[tuple[Cid, bytes]]:
        """Every block of the DAG under ``cid``, children after their parent."""
        block = self.get_block(cid)
        yield cid, block
        if cid.codec == DAG_PB:
            for link in decode_node(block).links:
                yield from self.blocks(link.cid)

    def export_car(self, cid: Cid, out: Path | str) -> Cid:
        from studio.storage.car import write_car

        return write_car(out, cid, self.blocks(cid))

    def entry(self, cid: Cid) -> Entry:
        block = self.get_block(cid)
        if cid.codec == RAW:
            return Entry(cid, "file", len(block), None)
        node = decode_node(block)
        if node.kind == T_DIRECTORY:
            return Entry(cid, "directory", 0, node)
        if node.kind == T_SYMLINK:
            return Entry(cid, "symlink", len(node.data), node)
        if node.kind in (T_FILE, T_RAW):
            size = node.filesize if node.filesize is not None else len(node.data)
            return Entry(cid, "file", size, node)
        raise StorageError(f"{cid} is a kind of UnixFS node the studio does not read (type {node.kind}).",
                           hint="HAMT-sharded folders are not supported.")

    def resolve(self, cid: Cid, path: str = "") -> Entry:
        """Follow ``path`` (``a/b.png``) from the folder ``cid``."""
        entry = self.entry(cid)
        for part in [p for p in path.split("/") if p]:
            if entry.kind != "directory" or entry.node is None:
                raise NotFound(f"{cid}/{path}: {part!r} is below something that is not a folder.")
            link = next((l for l in entry.node.links if l.name == part), None)
            if link is None:
                raise NotFound(f"{cid}/{path} does not exist: no entry {part!r}.")
            entry = self.entry(link.cid)
        return entry

    def read_file(self, cid: Cid) -> Iterator[bytes]:
        """The file's bytes, chunk by chunk, each block verified."""
        block = self.get_block(cid)
        if cid.codec == RAW:
            yield block
            return
        node = decode_node(block)
        if node.kind == T_DIRECTORY:
            raise InputError(f"{cid} is a folder, not a file.")
        if node.data:
            yield node.data
        for link in node.links:
            yield from self.read_file(link.cid)

    def cat(self, cid: Cid, path: str = "", *, max_bytes: int | None = None) -> bytes:
        entry = self.resolve(cid, path)
        if entry.kind != "file":
            raise InputError(f"{cid}/{path} is a {entry.kind}, not a file.")
        if max_bytes is not None and entry.size > max_bytes:
            raise InputError(f"{cid}/{path} is {entry.size:,} bytes, over the limit of {max_bytes:,}.")
        return b"".join(self.read_file(entry.cid))
