"""Saving and restoring eth-tester's py-evm chain database: the one place that relies on its internals.

eth-tester has no supported persistence. Its `PyEVMBackend` keeps every trie node, block and
receipt in one key-value store, reached as ``backend.chain.chaindb.db`` (an AtomicDB) wrapping
a MemoryDB whose ``kv_store`` is a plain dict. We write that dict to a file and, to restore,
fill a fresh backend's store with it and rebuild the chain object over it (py-evm reads the
canonical head from the database). tests/chain/test_devnet.py holds this to account when
eth-tester or py-evm change.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from studio.errors import StorageError
from studio.fileio import atomic_write_bytes

MAGIC = b"STUDIO-DEVNET-DB\x01"


def _memory_store(backend: Any) -> dict[bytes, bytes]:
    try:
        store = backend.chain.chaindb.db.wrapped_db.kv_store
    except AttributeError as exc:  # eth-tester/py-evm changed their layout
        raise StorageError("This version of eth-tester keeps the devnet's chain in an unknown way.",
                           hint="Pin the eth-tester version the studio was tested with.") from exc
    if not isinstance(store, dict):
        raise StorageError("The devnet's chain database is not an in-memory store.")
    return store


def dump_chain(backend: Any) -> bytes:
    """Every key and value of the chain database, length-prefixed (no pickle: loading runs no code)."""
    items = list(_memory_store(backend).items())
    parts = [MAGIC, struct.pack(">Q", len(items))]
    for key, value in items:
        parts += [struct.pack(">II", len(key), len(value)), bytes(key), bytes(value)]
    return b"".join(parts)


def save_chain(backend: Any, path: Path) -> None:
    atomic_write_bytes(path, dump_chain(backend), mode=0o600)


def load_chain(backend: Any, data: bytes) -> None:
    """Replace a fresh backend's chain with the saved one (same genesis, same chain class)."""
    if not data.startswith(MAGIC):
        raise StorageError("The devnet's saved chain is not a studio devnet file.",
                           hint="Reset the devnet (`studio devnet reset`) to start a new chain.")
    offset = len(MAGIC)
    try:
        (count,) = struct.unpack_from(">Q", data, offset)
        offset += 8
        restored: dict[bytes, bytes] = {}
        for _ in range(count):
            key_len, value_len = struct.unpack_from(">II", data, offset)
            offset += 8
            key, value = data[offset:offset + key_len], data[offset + key_len:offset + key_len + value_len]
            if len(key) != key_len or len(value) != value_len:
                raise ValueError("truncated")
            offset += key_len + value_len
            restored[key] = value
    except (struct.error, ValueError) as exc:
        raise StorageError("The devnet's saved chain is truncated or damaged.",
                           hint="Reset the devnet (`studio devnet reset`) to start a new chain.") from exc
    store = _memory_store(backend)
    store.clear()
    store.update(restored)
    chain = backend.chain
    rebuilt = type(chain)(chain.chaindb.db)  # MiningChain(base_db): head read from the database
    if "chain_id" in vars(chain):
        rebuilt.chain_id = chain.chain_id
    backend.chain = rebuilt
