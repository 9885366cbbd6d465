"""Saving and restoring eth-tester's py-evm chain database: the one place that relies on its internals.

eth-tester has no supported persistence. Its `PyEVMBackend` keeps every trie node, block and
receipt in one key-value store, reached as ``backend.chain.chaindb.db`` (an AtomicDB) wrapping
a MemoryDB whose ``kv_store`` is a plain dict. The devnet keeps that store on disk in two files:

- ``chain.bin``, a snapshot of the whole store (length-prefixed keys and values, no pickle);
- ``chain.log``, a journal of the changes made since that snapshot: one frame per JSON-RPC
  request that changed anything, written and fsynced before the request is answered, each
  frame with its length and CRC-32 so a frame torn by a crash is recognised and dropped.

So a client that got an answer (a transaction hash, a receipt) finds it again after the
process is killed at any moment, and the chain reopens at a request boundary, which is a block
boundary because the devnet mines each transaction in its own request. Both files carry a
generation number: a journal whose generation is not the snapshot's was already folded into
it (the process died between writing a new snapshot and starting a new journal) and is
ignored. tests/chain/test_devnet_persistence.py holds this to account when eth-tester or
py-evm change.
"""
from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Any, BinaryIO

from studio.errors import StorageError
from studio.fileio import atomic_write_bytes

MAGIC_V1 = b"STUDIO-DEVNET-DB\x01"
MAGIC = b"STUDIO-DEVNET-DB\x02"
LOG_MAGIC = b"STUDIO-DEVNET-LOG\x01"
#: The journal is folded into a new snapshot once it is this large.
COMPACT_BYTES = 16 * 1024 * 1024
_DELETED = None


class JournalledStore(dict[bytes, bytes]):
    """The MemoryDB's dict, remembering which keys changed since the last `take_changes()`."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.changes: dict[bytes, bytes | None] = {}

    def __setitem__(self, key: bytes, value: bytes) -> None:
        super().__setitem__(key, value)
        self.changes[key] = value

    def __delitem__(self, key: bytes) -> None:
        super().__delitem__(key)
        self.changes[key] = _DELETED

    def take_changes(self) -> dict[bytes, bytes | None]:
        changes, self.changes = self.changes, {}
        return changes


def _memory_db(backend: Any) -> Any:
    try:
        memory = backend.chain.chaindb.db.wrapped_db
        store = memory.kv_store
    except AttributeError as exc:  # eth-tester/py-evm changed their layout
        raise StorageError("This version of eth-tester keeps the devnet's chain in an unknown way.",
                           hint="Pin the eth-tester version the studio was tested with.") from exc
    if not isinstance(store, dict):
        raise StorageError("The devnet's chain database is not an in-memory store.")
    return memory


def _memory_store(backend: Any) -> dict[bytes, bytes]:
    store: dict[bytes, bytes] = _memory_db(backend).kv_store
    return store


def dump_chain(backend: Any, generation: int = 0) -> bytes:
    """Every key and value of the chain database, length-prefixed (no pickle: loading runs no code)."""
    items = list(_memory_store(backend).items())
    parts = [MAGIC, struct.pack(">QQ", generation, len(items))]
    for key, value in items:
        parts += [struct.pack(">II", len(key), len(value)), bytes(key), bytes(value)]
    return b"".join(parts)


def save_chain(backend: Any, path: Path) -> None:
    atomic_write_bytes(path, dump_chain(backend), mode=0o600)


def _damaged() -> StorageError:
    return StorageError("The devnet's saved chain is truncated or damaged.",
                        hint="Reset the devnet (`studio devnet reset`) to start a new chain.")


def parse_chain(data: bytes) -> tuple[int, dict[bytes, bytes]]:
    """(generation, store) of a snapshot file."""
    if data.startswith(MAGIC):
        offset = len(MAGIC)
        generation, count = struct.unpack_from(">QQ", data, offset) if len(data) >= offset + 16 else (0, -1)
        offset += 16
    elif data.startswith(MAGIC_V1):
        offset = len(MAGIC_V1)
        generation = 0
        count = struct.unpack_from(">Q", data, offset)[0] if len(data) >= offset + 8 else -1
        offset += 8
    else:
        raise StorageError("The devnet's saved chain is not a studio devnet file.",
                           hint="Reset the devnet (`studio devnet reset`) to start a new chain.")
    if count < 0:
        raise _damaged()
    restored: dict[bytes, bytes] = {}
    try:
        for _ in range(count):
            key_len, value_len = struct.unpack_from(">II", data, offset)
            offset += 8
            key, value = data[offset:offset + key_len], data[offset + key_len:offset + key_len + value_len]
            if len(key) != key_len or len(value) != value_len:
                raise ValueError("truncated")
            offset += key_len + value_len
            restored[key] = value
    except (struct.error, ValueError) as exc:
        raise _damaged() from exc
    return generation, restored


def install_store(backend: Any, restored: dict[bytes, bytes]) -> None:
    """Replace a fresh backend's chain with `restored` (same genesis, same chain class)."""
    store = _memory_store(backend)
    store.clear()
    store.update(restored)
    chain = backend.chain
    rebuilt = type(chain)(chain.chaindb.db)  # MiningChain(base_db): head read from the database
    if "chain_id" in vars(chain):
        rebuilt.chain_id = chain.chain_id
    backend.chain = rebuilt


def load_chain(backend: Any, data: bytes) -> None:
    """Replace a fresh backend's chain with the saved snapshot `data`."""
    install_store(backend, parse_chain(data)[1])


def _encode_changes(changes: dict[bytes, bytes | None]) -> bytes:
    parts = []
    for key, value in changes.items():
        if value is None:
            parts += [struct.pack(">BI", 0, len(key)), key]
        else:
            parts += [struct.pack(">BII", 1, len(key), len(value)), key, bytes(value)]
    return b"".join(parts)


def _apply_frame(payload: bytes, store: dict[bytes, bytes]) -> None:
    offset = 0
    while offset < len(payload):
        (op,) = struct.unpack_from(">B", payload, offset)
        if op == 0:
            (key_len,) = struct.unpack_from(">I", payload, offset + 1)
            offset += 5
            store.pop(payload[offset:offset + key_len], None)
            offset += key_len
        else:
            key_len, value_len = struct.unpack_from(">II", payload, offset + 1)
            offset += 9
            store[payload[offset:offset + key_len]] = payload[offset + key_len:offset + key_len + value_len]
            offset += key_len + value_len


def replay_journal(data: bytes, generation: int, store: dict[bytes, bytes]) -> int:
    """Apply the whole frames of a journal to `store`; the length of its good part (0: not this snapshot's)."""
    header = LOG_MAGIC + struct.pack(">Q", generation)
    if not data.startswith(header):
        return 0
    offset = len(header)
    while offset + 8 <= len(data):
        length, crc = struct.unpack_from(">II", data, offset)
        payload = data[offset + 8:offset + 8 + length]
        if len(payload) != length or zlib.crc32(payload) != crc:
            break  # torn by a crash while it was written: it was never answered
        try:
            _apply_frame(payload, store)
        except struct.error:
            break
        offset += 8 + length
    return offset


class ChainStore:
    """The devnet's chain on disk: a snapshot and the journal of changes since it."""

    def __init__(self, folder: Path) -> None:
        self.snapshot_file = folder / "chain.bin"
        self.journal_file = folder / "chain.log"
        self.generation = 0
        self._journal: BinaryIO | None = None
        self._journal_size = 0

    def open(self, backend: Any) -> None:
        """Load what is saved (if anything) into `backend`, then track its changes from now on."""
        restored: dict[bytes, bytes] | None = None
        if self.snapshot_file.exists():
            self.generation, restored = parse_chain(self.snapshot_file.read_bytes())
            good = 0
            if self.journal_file.exists():
                good = replay_journal(self.journal_file.read_bytes(), self.generation, restored)
            install_store(backend, restored)
        memory = _memory_db(backend)
        memory.kv_store = JournalledStore(memory.kv_store)
        if restored is None:
            self.compact(backend)
        elif good:
            self._journal = open(self.journal_file, "r+b")
            self._journal.truncate(good)  # drop a torn tail, so new frames follow whole ones
            self._journal.seek(good)
            self._journal_size = good
        else:
            self._new_journal()

    def _new_journal(self) -> None:
        if self._journal is not None:
            self._journal.close()
        header = LOG_MAGIC + struct.pack(">Q", self.generation)
        atomic_write_bytes(self.journal_file, header, mode=0o600)
        self._journal = open(self.journal_file, "r+b")
        self._journal.seek(len(header))
        self._journal_size = len(header)

    def record(self, backend: Any) -> bool:
        """Append what changed since the last call as one frame and fsync it; False if nothing did."""
        store = _memory_store(backend)
        if not isinstance(store, JournalledStore) or not store.changes:
            return False
        payload = _encode_changes(store.take_changes())
        assert self._journal is not None
        try:
            self._journal.write(struct.pack(">II", len(payload), zlib.crc32(payload)) + payload)
            self._journal.flush()
            os.fsync(self._journal.fileno())
        except OSError as exc:
            raise StorageError(f"Could not write the devnet's journal {self.journal_file} ({exc.strerror}).",
                               hint="Free some disk space; the last change may be lost.") from exc
        self._journal_size += 8 + len(payload)
        if self._journal_size > COMPACT_BYTES:
            self.compact(backend)
        return True

    def compact(self, backend: Any) -> None:
        """Fold everything into a new snapshot and start an empty journal."""
        store = _memory_store(backend)
        if isinstance(store, JournalledStore):
            store.take_changes()
        self.generation += 1
        atomic_write_bytes(self.snapshot_file, dump_chain(backend, self.generation), mode=0o600)
        self._new_journal()

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def remove(self) -> None:
        self.close()
        for path in (self.snapshot_file, self.journal_file):
            path.unlink(missing_ok=True)
