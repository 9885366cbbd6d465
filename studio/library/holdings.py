"""Who holds which token, as the studio last saw it, across everything it keeps: the tokens it minted
(the library's ``tokens``), the collections a collector opened (their Transfer logs, the
``collector_tokens`` cache) and the market's indexed events (``market_owners``, listings, Seaport
orders). Read without a node, so the Wallet tab can show each account's NFTs at once.

Each source says who held a token at some block; the latest wins (a token the studio minted and a
collector later bought shows under its buyer once either cache saw the transfer). A token escrowed
by the studio marketplace counts as its seller's, marked listed. Tables another module has not
created yet are skipped.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, Sequence

from studio.library.db import Library, library_storage_error

ZERO = "0x" + "0" * 40


@dataclass(frozen=True)
class Holding:
    """One token held by one of the asked accounts."""

    chain_id: int
    collection: str
    collection_name: str
    token_id: int
    owner: str
    work_id: int | None = None          # the studio's own work it was minted from
    listed_price_wei: int | None = None  # listed for sale now (studio marketplace or a Seaport listing)
    listed_on: str = ""                  # "studio marketplace" or "Seaport"
    block_number: int = -1               # where the latest source saw it (-1: the library's mint record)


def holdings(library: Library, chain_id: int, owners: Sequence[str]) -> list[Holding]:
    """The tokens ``owners`` hold on ``chain_id``, by owner, collection name and token id."""
    wanted = {owner.lower() for owner in owners}
    if not wanted:
        return []
    seen: dict[tuple[str, int], tuple[int, str, str]] = {}  # (collection, token) -> (block, owner, collection)

    def saw(collection: str, token_id: int, owner: str, block: int) -> None:
        key = (collection.lower(), int(token_id))
        if key not in seen or block >= seen[key][0]:
            seen[key] = (block, owner, collection)

    works: dict[tuple[str, int], int | None] = {}
    for token in library.tokens(chain_id):
        works[(token.collection.lower(), token.token_id)] = token.work_id
        saw(token.collection, token.token_id, token.owner, -1)
    if library.has_table("collector_tokens"):
        for row in _rows(library, "SELECT address, token_key, owner, block_number FROM collector_tokens "
                                 "WHERE chain_id = ?", (chain_id,)):
            saw(row[0], int(row[1]), row[2], int(row[3]))
    listed: dict[tuple[str, int], tuple[int, str]] = {}
    escrows: set[str] = set()
    if library.has_table("market_owners"):
        for row in _rows(library, "SELECT collection, token_id, owner, block_number FROM market_owners "
                                 "WHERE chain_id = ?", (chain_id,)):
            saw(row[0], int(row[1]), row[2], int(row[3]))
        for row in _rows(library, "SELECT marketplace, collection, token_id, seller, price_wei, updated_block "
                                 "FROM market_listings WHERE chain_id = ? AND status = 'active'", (chain_id,)):
            escrows.add(str(row[0]).lower())
            key = (str(row[1]).lower(), int(row[2]))
            listed[key] = (int(row[4]), "studio marketplace")
            if key in seen and seen[key][1].lower() == str(row[0]).lower():  # held in escrow: the seller's
                seen[key] = (seen[key][0], row[3], seen[key][2])
    if library.has_table("seaport_orders"):
        for row in _rows(library, "SELECT collection, token_id, offerer, price_wei FROM seaport_orders WHERE "
                                 "chain_id = ? AND kind = 'listing' AND status = 'active'", (chain_id,)):
            key = (str(row[0]).lower(), int(row[1]))
            if key in seen and seen[key][1].lower() == str(row[2]).lower():
                listed.setdefault(key, (int(row[3]), "Seaport"))
    names = collection_names(library, chain_id)
    found = []
    for key, (block, owner, collection) in seen.items():
        if owner.lower() not in wanted or owner.lower() in escrows or owner == ZERO:
            continue
        price, where = listed.get(key, (None, ""))
        found.append(Holding(chain_id, collection, names.get(key[0]) or f"{collection[:6]}…{collection[-4:]}",
                             key[1], owner, works.get(key), price, where, block))
    return sorted(found, key=lambda h: (h.owner.lower(), h.collection_name.lower(), h.token_id))


def collection_names(library: Library, chain_id: int) -> dict[str, str]:
    """Lower-case address -> name of every collection the studio knows on a chain (its own, then opened ones)."""
    names: dict[str, str] = {}
    if library.has_table("collector_collections"):
        for row in _rows(library, "SELECT address, name FROM collector_collections WHERE chain_id = ?", (chain_id,)):
            if row[1]:
                names[str(row[0]).lower()] = str(row[1])
    for collection in library.collections(chain_id):
        names[collection.address.lower()] = collection.name
    return names


def _rows(library: Library, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    try:
        with library.connect() as db:
            return db.execute(sql, tuple(params)).fetchall()
    except sqlite3.Error as exc:
        raise library_storage_error(library.path, exc) from exc
