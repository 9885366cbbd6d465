"""The address book: names a person gave to addresses they send to, kept in the library.

One row per address (any network: an Ethereum address is the same everywhere), with a name that is
unique without regard to case, so "Alice" typed in the Send dialog means one address. The library
does not check addresses against a chain: the caller passes a checksummed 0x address.
"""
from __future__ import annotations

import re
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from studio.errors import InputError, NotFound
from studio.library.db import Library, library_storage_error

MIGRATION = ("address-book-1", (
    """CREATE TABLE address_book (
        address TEXT PRIMARY KEY COLLATE NOCASE,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        note TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL)""",
))
MAX_NAME = 60
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


@dataclass(frozen=True)
class Contact:
    """A saved recipient."""

    name: str
    address: str
    note: str = ""
    created: float = 0.0


class AddressBook:
    """Saved names of addresses, in the library database."""

    def __init__(self, library: Library) -> None:
        self.library = library
        library.migrate(*MIGRATION)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        try:
            with self.library.connect() as db:
                yield db
        except sqlite3.Error as exc:
            raise library_storage_error(self.library.path, exc) from exc

    def save(self, name: str, address: str, note: str = "") -> Contact:
        """Save (or rename) an address; refused when the name is empty, too long or already another's."""
        name = " ".join(name.split())
        if not name:
            raise InputError("Give the address a name.")
        if len(name) > MAX_NAME:
            raise InputError(f"A name in the address book has at most {MAX_NAME} characters.")
        if not _ADDRESS.match(address):
            raise InputError(f"“{address[:60]}” is not an address (0x and 40 hexadecimal characters).")
        if name.lower().startswith("0x") or "." in name:
            raise InputError("A saved name cannot look like an address or an ENS name (no “0x” start, no dots).",
                             hint="Use a plain name, for example “Alice” or “Gallery wallet”.")
        with self._tx() as db:
            other = db.execute("SELECT address FROM address_book WHERE name = ?", (name,)).fetchone()
            if other is not None and other["address"].lower() != address.lower():
                raise InputError(f"“{name}” already names {other['address']}.", hint="Choose another name.")
            db.execute("INSERT INTO address_book (address, name, note, created) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (address) DO UPDATE SET name = excluded.name, note = excluded.note",
                       (address, name, note, time.time()))
        found = self.by_address(address)
        assert found is not None
        return found

    def remove(self, address: str) -> None:
        with self._tx() as db:
            if db.execute("DELETE FROM address_book WHERE address = ?", (address,)).rowcount == 0:
                raise NotFound(f"{address} is not in the address book.")

    def contacts(self) -> list[Contact]:
        """Every saved address, by name."""
        with self._tx() as db:
            rows = db.execute("SELECT * FROM address_book ORDER BY name COLLATE NOCASE").fetchall()
        return [_contact(row) for row in rows]

    def by_name(self, name: str) -> Contact | None:
        with self._tx() as db:
            row = db.execute("SELECT * FROM address_book WHERE name = ?", (" ".join(name.split()),)).fetchone()
        return _contact(row) if row else None

    def by_address(self, address: str) -> Contact | None:
        with self._tx() as db:
            row = db.execute("SELECT * FROM address_book WHERE address = ?", (address,)).fetchone()
        return _contact(row) if row else None


def _contact(row: sqlite3.Row) -> Contact:
    return Contact(row["name"], row["address"], row["note"], float(row["created"]))
