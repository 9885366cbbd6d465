"""The market as the studio last read it: listings, offers, owners and lazy vouchers, per network.

`MarketStore` keeps the marketplace's and collections' events (as the chain indexer decoded
them) in the library database, and the state they add up to: one listing row per token, one
offer row per (token, buyer), the owner of each token seen moving, and the studio's own signed
mint vouchers. A redeemed voucher that was listed from a work records its token against that work
in the library's tokens, whoever redeemed it. Every derived row is recomputed from the stored events of its token, so applying
the same events twice changes nothing and rolling back a re-org is "delete the events from the
fork on, recompute what they touched". A scan's events and its cursor are saved in one
transaction (`commit_scan`): the cursor never runs ahead of what was stored.

The library does not import the chain layer: events are any objects with `MarketEvent`'s
fields (`studio.chain.indexer`), and the kind names below are the indexer's.
"""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Iterable, Protocol

from studio.errors import InputError, NotFound
from studio.library.db import Library, LibraryTables

LISTED, PRICE_CHANGED, LISTING_CANCELLED, SOLD = "listed", "price_changed", "listing_cancelled", "sold"
OFFER_MADE, OFFER_WITHDRAWN, OFFER_ACCEPTED = "offer_made", "offer_withdrawn", "offer_accepted"
OFFER_EXPIRY = "offer_expiry"
TRANSFER, VOUCHER_REDEEMED, VOUCHER_CANCELLED = "transfer", "voucher_redeemed", "voucher_cancelled"
VOUCHERS_CANCELLED = "vouchers_cancelled"
KINDS = frozenset({LISTED, PRICE_CHANGED, LISTING_CANCELLED, SOLD, OFFER_MADE, OFFER_WITHDRAWN, OFFER_ACCEPTED,
                   OFFER_EXPIRY, TRANSFER, VOUCHER_REDEEMED, VOUCHER_CANCELLED, VOUCHERS_CANCELLED})
LISTING_KINDS = (LISTED, PRICE_CHANGED, LISTING_CANCELLED, SOLD)
OFFER_KINDS = (OFFER_MADE, OFFER_WITHDRAWN, OFFER_ACCEPTED)

ACTIVE, SOLD_STATUS, CANCELLED = "active", "sold", "cancelled"
WITHDRAWN, ACCEPTED, REDEEMED = "withdrawn", "accepted", "redeemed"

MIGRATION = ("market-1-events-listings-offers-owners-vouchers-cursors", (
    """CREATE TABLE market_events (
        chain_id INTEGER NOT NULL,
        marketplace TEXT NOT NULL COLLATE NOCASE,
        tx_hash TEXT NOT NULL COLLATE NOCASE,
        log_index INTEGER NOT NULL,
        block_number INTEGER NOT NULL,
        block_hash TEXT NOT NULL,
        kind TEXT NOT NULL,
        contract TEXT NOT NULL COLLATE NOCASE,
        collection TEXT COLLATE NOCASE,
        token_id TEXT,
        seller TEXT,
        buyer TEXT,
        price_wei TEXT,
        royalty_receiver TEXT,
        royalty_wei TEXT,
        fee_wei TEXT,
        nonce TEXT,
        PRIMARY KEY (chain_id, marketplace, tx_hash, log_index))""",
    "CREATE INDEX market_events_by_token ON market_events (chain_id, marketplace, collection, token_id)",
    "CREATE INDEX market_events_by_block ON market_events (chain_id, marketplace, block_number)",
    """CREATE TABLE market_listings (
        chain_id INTEGER NOT NULL,
        marketplace TEXT NOT NULL COLLATE NOCASE,
        collection TEXT NOT NULL COLLATE NOCASE,
        token_id TEXT NOT NULL,
        seller TEXT NOT NULL COLLATE NOCASE,
        price_wei TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'sold', 'cancelled')),
        buyer TEXT COLLATE NOCASE,
        listed_block INTEGER NOT NULL,
        updated_block INTEGER NOT NULL,
        tx_hash TEXT NOT NULL,
        PRIMARY KEY (chain_id, marketplace, collection, token_id))""",
    "CREATE INDEX market_listings_by_status ON market_listings (chain_id, status)",
    """CREATE TABLE market_offers (
        chain_id INTEGER NOT NULL,
        marketplace TEXT NOT NULL COLLATE NOCASE,
        collection TEXT NOT NULL COLLATE NOCASE,
        token_id TEXT NOT NULL,
        buyer TEXT NOT NULL COLLATE NOCASE,
        amount_wei TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'withdrawn', 'accepted')),
        updated_block INTEGER NOT NULL,
        tx_hash TEXT NOT NULL,
        PRIMARY KEY (chain_id, marketplace, collection, token_id, buyer))""",
    """CREATE TABLE market_owners (
        chain_id INTEGER NOT NULL,
        marketplace TEXT NOT NULL COLLATE NOCASE,
        collection TEXT NOT NULL COLLATE NOCASE,
        token_id TEXT NOT NULL,
        owner TEXT NOT NULL COLLATE NOCASE,
        block_number INTEGER NOT NULL,
        PRIMARY KEY (chain_id, marketplace, collection, token_id))""",
    "CREATE INDEX market_owners_by_owner ON market_owners (chain_id, owner)",
    """CREATE TABLE market_vouchers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chain_id INTEGER NOT NULL,
        collection TEXT NOT NULL COLLATE NOCASE,
        nonce TEXT NOT NULL,
        artist TEXT NOT NULL COLLATE NOCASE,
        price_wei TEXT NOT NULL,
        expiry INTEGER NOT NULL,
        content_digest TEXT NOT NULL,
        metadata_cid TEXT,
        voucher_cid TEXT,
        voucher_json TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'redeemed', 'cancelled')),
        token_id TEXT,
        redeemer TEXT,
        created REAL NOT NULL,
        UNIQUE (chain_id, collection, nonce))""",
    """CREATE TABLE market_cursors (
        chain_id INTEGER NOT NULL,
        marketplace TEXT NOT NULL COLLATE NOCASE,
        cursor_json TEXT NOT NULL,
        updated REAL NOT NULL,
        PRIMARY KEY (chain_id, marketplace))""",
))

#: A lazy listing remembers the work it sells, so that its redemption (by whoever buys it) records
#: the minted token against that work, as a mint would.
MIGRATION_WORKS = ("market-2-vouchers-of-works", (
    "ALTER TABLE market_vouchers ADD COLUMN work_id INTEGER REFERENCES works(id) ON DELETE SET NULL",
    "ALTER TABLE market_vouchers ADD COLUMN media_cid TEXT",
    "ALTER TABLE market_vouchers ADD COLUMN redeem_tx TEXT",
    "CREATE INDEX market_vouchers_by_work ON market_vouchers (work_id)",
))

#: Version 2 of the marketplace gives offers an expiry (its `OfferExpiry` event; an expired offer
#: cannot be accepted, only withdrawn), and collections a voucher epoch (`VouchersCancelled(newEpoch)`
#: voids every voucher signed for an earlier epoch): the events and the rows keep both.
MIGRATION_EXPIRY = ("market-3-offer-expiry-voucher-epochs", (
    "ALTER TABLE market_events ADD COLUMN expiry INTEGER",
    "ALTER TABLE market_offers ADD COLUMN expiry INTEGER",
    "ALTER TABLE market_vouchers ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0",
))


#: A token of the library (``t``) and its listing as the market was last read (``l``).
_TOKEN_LISTING = ("tokens t JOIN market_listings l ON l.chain_id = t.chain_id AND l.collection = t.collection "
                  "AND l.token_id = CAST(t.token_id AS TEXT)")


def active_listing_prices(library: Library, work_id: int) -> list[tuple[int, str, int, int]]:
    """``(chain_id, collection, token_id, price_wei)`` of the work's tokens listed for sale now
    (empty until the market has been synced once)."""
    if not library.has_table("market_listings"):
        return []
    rows = library._read(f"SELECT l.chain_id, l.collection, t.token_id, l.price_wei FROM {_TOKEN_LISTING} "
                         "WHERE t.work_id = ? AND l.status = 'active' ORDER BY l.chain_id, l.collection, t.token_id",
                         (work_id,))
    return [(row[0], row[1], row[2], int(row[3])) for row in rows]


def listed_work_clause(library: Library) -> str:
    """The condition on ``works`` of the library's work query for "listed for sale now" (no work
    before the market has been synced once)."""
    if not library.has_table("market_listings"):
        return "0"
    return f"EXISTS (SELECT 1 FROM {_TOKEN_LISTING} WHERE t.work_id = works.id AND l.status = 'active')"


class EventLike(Protocol):
    """The fields of `studio.chain.indexer.MarketEvent` the store reads (read-only: events are frozen)."""

    @property
    def block_number(self) -> int: ...

    @property
    def block_hash(self) -> str: ...

    @property
    def log_index(self) -> int: ...

    @property
    def tx_hash(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def contract(self) -> str: ...

    @property
    def collection(self) -> str | None: ...

    @property
    def token_id(self) -> int | None: ...

    @property
    def seller(self) -> str | None: ...

    @property
    def buyer(self) -> str | None: ...

    @property
    def price_wei(self) -> int | None: ...

    @property
    def royalty_receiver(self) -> str | None: ...

    @property
    def royalty_wei(self) -> int | None: ...

    @property
    def fee_wei(self) -> int | None: ...

    @property
    def nonce(self) -> int | None: ...  # a voucher's nonce; the new epoch of `vouchers_cancelled`


@dataclass(frozen=True)
class ListingRow:
    """A token's latest listing on one marketplace: active, sold (to `buyer`) or cancelled."""

    chain_id: int
    marketplace: str
    collection: str
    token_id: int
    seller: str
    price_wei: int
    status: str
    buyer: str | None
    listed_block: int
    updated_block: int
    tx_hash: str


@dataclass(frozen=True)
class OfferRow:
    """One buyer's offer on one token: active (ETH in escrow), withdrawn or accepted. An active offer
    past its `expiry` (None: a first-version marketplace, whose offers never expire) can no longer
    be accepted; its ETH waits for the buyer to withdraw it."""

    chain_id: int
    marketplace: str
    collection: str
    token_id: int
    buyer: str
    amount_wei: int
    status: str
    updated_block: int
    tx_hash: str
    expiry: int | None = None

    def expired(self, now: float | None = None) -> bool:
        return self.expiry is not None and (time.time() if now is None else now) >= self.expiry


@dataclass(frozen=True)
class OwnedToken:
    """A token someone holds: in their account, or in the marketplace's custody while they list it."""

    chain_id: int
    collection: str
    token_id: int
    owner: str
    listed: bool
    price_wei: int | None  # the listing price when listed


@dataclass(frozen=True)
class VoucherRow:
    """A lazy listing: a mint voucher the artist signed, waiting for a buyer to redeem it."""

    id: int | None
    chain_id: int
    collection: str
    nonce: int
    artist: str
    price_wei: int
    expiry: int
    content_digest: str  # 0x-hex
    metadata_cid: str | None
    voucher_cid: str | None  # where the voucher JSON was published, if it was
    voucher_json: str
    status: str
    token_id: int | None
    redeemer: str | None
    created: float
    work_id: int | None = None     # the library's work this voucher sells, when it was listed from one
    media_cid: str | None = None   # the work's image as stored with the voucher
    redeem_tx: str | None = None   # the transaction that redeemed it (minted the token)
    epoch: int = 0                 # the collection's voucher epoch it was signed for

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) > self.expiry


class MarketStore(LibraryTables):
    """Market tables in the library database (created on first use through the library's migrations)."""

    def __init__(self, library: Library) -> None:
        super().__init__(library, MIGRATION, MIGRATION_WORKS, MIGRATION_EXPIRY)

    # ---- events
    def apply(self, chain_id: int, marketplace: str, events: Iterable[EventLike]) -> int:
        """Store events (ignoring ones already stored) and update what they touch. Returns how many were new."""
        with self._tx() as db:
            return self._apply(db, chain_id, marketplace, events)

    def rollback(self, chain_id: int, marketplace: str, from_block: int) -> int:
        """Forget events from `from_block` on (a re-org) and recompute what they had touched."""
        with self._tx() as db:
            return self._rollback(db, chain_id, marketplace, from_block)

    def commit_scan(self, chain_id: int, marketplace: str, events: Iterable[EventLike], cursor: dict[str, Any],
                    rolled_back_from: int | None = None) -> int:
        """Roll back (if a re-org was found), store the events and save the cursor: all or nothing."""
        with self._tx() as db:
            if rolled_back_from is not None:
                self._rollback(db, chain_id, marketplace, rolled_back_from)
            added = self._apply(db, chain_id, marketplace, events)
            db.execute("INSERT OR REPLACE INTO market_cursors VALUES (?, ?, ?, ?)",
                       (chain_id, marketplace, json.dumps(cursor), time.time()))
            return added

    def cursor(self, chain_id: int, marketplace: str) -> dict[str, Any] | None:
        """The cursor saved by the last stored scan (None before the first)."""
        rows = self._rows("SELECT cursor_json FROM market_cursors WHERE chain_id = ? AND marketplace = ?",
                          (chain_id, marketplace))
        return json.loads(rows[0]["cursor_json"]) if rows else None

    def event_count(self, chain_id: int, marketplace: str) -> int:
        rows = self._rows("SELECT COUNT(*) AS n FROM market_events WHERE chain_id = ? AND marketplace = ?",
                          (chain_id, marketplace))
        return int(rows[0]["n"])

    def _apply(self, db: sqlite3.Connection, chain_id: int, marketplace: str, events: Iterable[EventLike]) -> int:
        touched: set[tuple[str, str | None, str | None]] = set()
        added = 0
        for event in events:
            if event.kind not in KINDS:
                raise InputError(f"The market store does not know events of kind {event.kind!r}.")
            cursor = db.execute(
                "INSERT OR IGNORE INTO market_events (chain_id, marketplace, tx_hash, log_index, block_number, "
                "block_hash, kind, contract, collection, token_id, seller, buyer, price_wei, royalty_receiver, "
                "royalty_wei, fee_wei, nonce, expiry) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (chain_id, marketplace, event.tx_hash, event.log_index, event.block_number, event.block_hash,
                 event.kind, event.contract, event.collection, _text(event.token_id), event.seller, event.buyer,
                 _text(event.price_wei), event.royalty_receiver, _text(event.royalty_wei), _text(event.fee_wei),
                 _text(event.nonce), getattr(event, "expiry", None)))
            if cursor.rowcount:
                added += 1
                touched.add(_touch(event.kind, event.collection, _text(event.token_id), _text(event.nonce)))
        self._recompute(db, chain_id, marketplace, touched)
        return added

    def _rollback(self, db: sqlite3.Connection, chain_id: int, marketplace: str, from_block: int) -> int:
        rows = db.execute("SELECT kind, collection, token_id, nonce FROM market_events WHERE chain_id = ? AND "
                          "marketplace = ? AND block_number >= ?", (chain_id, marketplace, from_block)).fetchall()
        touched = {_touch(r["kind"], r["collection"], r["token_id"], r["nonce"]) for r in rows}
        db.execute("DELETE FROM market_events WHERE chain_id = ? AND marketplace = ? AND block_number >= ?",
                   (chain_id, marketplace, from_block))
        self._recompute(db, chain_id, marketplace, touched)
        return len(rows)

    def _recompute(self, db: sqlite3.Connection, chain_id: int, marketplace: str,
                   touched: set[tuple[str, str | None, str | None]]) -> None:
        for what, collection, ident in sorted(touched, key=lambda t: (t[0], t[1] or "", t[2] or "")):
            if what == "token":
                self._recompute_token(db, chain_id, marketplace, collection, ident)
            elif what == "epoch":  # every voucher of the collection: an earlier epoch may have ended
                for row in db.execute("SELECT nonce FROM market_vouchers WHERE chain_id = ? AND collection = ?",
                                      (chain_id, collection)).fetchall():
                    self._recompute_voucher(db, chain_id, marketplace, collection, row["nonce"])
            else:
                self._recompute_voucher(db, chain_id, marketplace, collection, ident)

    def _recompute_token(self, db: sqlite3.Connection, chain_id: int, marketplace: str, collection: str | None,
                         token_id: str | None) -> None:
        """Fold a token's stored events, in chain order, into its listing, offers and owner rows."""
        events = db.execute("SELECT * FROM market_events WHERE chain_id = ? AND marketplace = ? AND collection = ? "
                            "AND token_id = ? ORDER BY block_number, log_index",
                            (chain_id, marketplace, collection, token_id)).fetchall()
        key = (chain_id, marketplace, collection, token_id)
        listing: dict[str, Any] | None = None
        offers: dict[str, dict[str, Any]] = {}
        owner: tuple[str, int] | None = None
        for e in events:
            kind, block = e["kind"], e["block_number"]
            if kind == LISTED:
                listing = {"seller": e["seller"], "price": e["price_wei"], "status": ACTIVE, "buyer": None,
                           "listed": block, "updated": block, "tx": e["tx_hash"]}
            elif kind in (PRICE_CHANGED, LISTING_CANCELLED, SOLD) and listing is not None:
                listing.update(updated=block, tx=e["tx_hash"])
                if kind == PRICE_CHANGED:
                    listing["price"] = e["price_wei"]
                elif kind == LISTING_CANCELLED:
                    listing["status"] = CANCELLED
                else:
                    listing.update(status=SOLD_STATUS, buyer=e["buyer"], price=e["price_wei"])
            elif kind in OFFER_KINDS:
                status = {OFFER_MADE: ACTIVE, OFFER_WITHDRAWN: WITHDRAWN, OFFER_ACCEPTED: ACCEPTED}[kind]
                offers[e["buyer"].lower()] = {"buyer": e["buyer"], "amount": e["price_wei"], "status": status,
                                              "block": block, "tx": e["tx_hash"], "expiry": None}
            elif kind == OFFER_EXPIRY and e["buyer"].lower() in offers:
                offers[e["buyer"].lower()]["expiry"] = e["expiry"]
            elif kind == TRANSFER:
                owner = (e["buyer"], block)
        db.execute("DELETE FROM market_listings WHERE chain_id = ? AND marketplace = ? AND collection = ? AND "
                   "token_id = ?", key)
        if listing is not None:
            db.execute("INSERT INTO market_listings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (*key, listing["seller"], listing["price"], listing["status"], listing["buyer"],
                        listing["listed"], listing["updated"], listing["tx"]))
        db.execute("DELETE FROM market_offers WHERE chain_id = ? AND marketplace = ? AND collection = ? AND "
                   "token_id = ?", key)
        for offer in offers.values():
            db.execute("INSERT INTO market_offers (chain_id, marketplace, collection, token_id, buyer, amount_wei, "
                       "status, updated_block, tx_hash, expiry) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (*key, offer["buyer"], offer["amount"], offer["status"], offer["block"], offer["tx"],
                        offer["expiry"]))
        db.execute("DELETE FROM market_owners WHERE chain_id = ? AND marketplace = ? AND collection = ? AND "
                   "token_id = ?", key)
        if owner is not None:
            db.execute("INSERT INTO market_owners VALUES (?, ?, ?, ?, ?, ?)", (*key, *owner))

    def _recompute_voucher(self, db: sqlite3.Connection, chain_id: int, marketplace: str, collection: str | None,
                           nonce: str | None) -> None:
        """A voucher's status from its last redeem or cancel event (or an epoch that ended after the one it
        was signed for); a redemption of a voucher listed from a work records the minted token against
        that work (and a rolled-back one forgets it)."""
        last = db.execute("SELECT kind, token_id, buyer, tx_hash FROM market_events WHERE chain_id = ? AND "
                          "marketplace = ? AND contract = ? AND nonce = ? AND kind IN (?, ?) ORDER BY block_number "
                          "DESC, log_index DESC LIMIT 1",
                          (chain_id, marketplace, collection, nonce, VOUCHER_REDEEMED, VOUCHER_CANCELLED)).fetchone()
        if last is None:
            status, token_id, redeemer, tx = ACTIVE, None, None, None
        elif last["kind"] == VOUCHER_REDEEMED:
            status, token_id, redeemer, tx = REDEEMED, last["token_id"], last["buyer"], last["tx_hash"]
        else:
            status, token_id, redeemer, tx = CANCELLED, None, None, None
        before = db.execute("SELECT * FROM market_vouchers WHERE chain_id = ? AND collection = ? AND nonce = ?",
                            (chain_id, collection, nonce)).fetchone()
        if status == ACTIVE and before is not None:
            ended = db.execute("SELECT MAX(CAST(nonce AS INTEGER)) AS epoch FROM market_events WHERE chain_id = ? "
                               "AND marketplace = ? AND contract = ? AND kind = ?",
                               (chain_id, marketplace, collection, VOUCHERS_CANCELLED)).fetchone()
            if ended is not None and ended["epoch"] is not None and int(ended["epoch"]) > int(before["epoch"]):
                status = CANCELLED
        db.execute("UPDATE market_vouchers SET status = ?, token_id = ?, redeemer = ?, redeem_tx = ? WHERE "
                   "chain_id = ? AND collection = ? AND nonce = ?",
                   (status, token_id, redeemer, tx, chain_id, collection, nonce))
        if before is None or before["work_id"] is None:
            return  # not one of this studio's lazy listings of a work
        if before["token_id"] is not None and before["token_id"] != token_id:
            db.execute("DELETE FROM tokens WHERE chain_id = ? AND collection = ? AND token_id = ? AND work_id = ?",
                       (chain_id, collection, int(before["token_id"]), before["work_id"]))
        if status == REDEEMED and token_id is not None:
            db.execute(
                "INSERT INTO tokens (chain_id, collection, token_id, work_id, metadata_cid, media_cid, tx_hash, "
                "owner, minted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chain_id, collection, token_id) "
                "DO UPDATE SET work_id = excluded.work_id, metadata_cid = excluded.metadata_cid, "
                "media_cid = COALESCE(excluded.media_cid, tokens.media_cid), tx_hash = excluded.tx_hash",
                (chain_id, before["collection"], int(token_id), before["work_id"], before["metadata_cid"],
                 before["media_cid"], tx, redeemer, time.time()))

    # ---- listings and offers
    def active_listings(self, chain_id: int, marketplace: str | None = None) -> list[ListingRow]:
        """What can be bought now, cheapest first."""
        rows = self._rows("SELECT * FROM market_listings WHERE chain_id = ? AND status = 'active'" +
                          (" AND marketplace = ?" if marketplace else ""),
                          (chain_id, marketplace) if marketplace else (chain_id,))
        return sorted((_listing(r) for r in rows), key=lambda l: (l.price_wei, l.collection.lower(), l.token_id))

    def listing(self, chain_id: int, collection: str, token_id: int,
                marketplace: str | None = None) -> ListingRow | None:
        """A token's latest listing (any status), or None when it was never listed."""
        sql = "SELECT * FROM market_listings WHERE chain_id = ? AND collection = ? AND token_id = ?"
        params: list[Any] = [chain_id, collection, str(token_id)]
        if marketplace:
            sql += " AND marketplace = ?"
            params.append(marketplace)
        rows = self._rows(sql + " ORDER BY updated_block DESC LIMIT 1", params)
        return _listing(rows[0]) if rows else None

    def offers_for(self, chain_id: int, collection: str, token_id: int, *, status: str | None = ACTIVE,
                   include_expired: bool = False, now: float | None = None) -> list[OfferRow]:
        """Offers on one token, highest first (only active, unexpired ones unless told otherwise)."""
        sql = "SELECT * FROM market_offers WHERE chain_id = ? AND collection = ? AND token_id = ?"
        params: list[Any] = [chain_id, collection, str(token_id)]
        if status:
            sql += " AND status = ?"
            params.append(status)
        found = [_offer(r) for r in self._rows(sql, params)]
        if not include_expired:
            found = [o for o in found if not o.expired(now)]
        return sorted(found, key=lambda o: -o.amount_wei)

    def offers_by(self, chain_id: int, buyer: str, *, status: str | None = ACTIVE) -> list[OfferRow]:
        """Offers one collector made (the ETH they have in escrow while active; an expired one stays
        here, `expired()`, until its ETH is withdrawn)."""
        sql = "SELECT * FROM market_offers WHERE chain_id = ? AND buyer = ?"
        params: list[Any] = [chain_id, buyer]
        if status:
            sql += " AND status = ?"
            params.append(status)
        return sorted((_offer(r) for r in self._rows(sql, params)), key=lambda o: (o.collection.lower(), o.token_id))

    def incoming_offers(self, chain_id: int, owner: str, *, now: float | None = None) -> list[OfferRow]:
        """Active, unexpired offers on tokens `owner` holds or has listed, highest first."""
        held = {(t.collection.lower(), t.token_id) for t in self.my_tokens(chain_id, owner)}
        rows = self._rows("SELECT * FROM market_offers WHERE chain_id = ? AND status = 'active'", (chain_id,))
        offers = [_offer(r) for r in rows if (r["collection"].lower(), int(r["token_id"])) in held]
        return sorted((o for o in offers if not o.expired(now)), key=lambda o: -o.amount_wei)

    def my_tokens(self, chain_id: int, owner: str) -> list[OwnedToken]:
        """Tokens `owner` holds: those in their account, and those they listed (held by the marketplace)."""
        owned = self._rows("SELECT DISTINCT collection, token_id FROM market_owners WHERE chain_id = ? AND owner = ?",
                           (chain_id, owner))
        listed = self._rows("SELECT collection, token_id, price_wei FROM market_listings WHERE chain_id = ? AND "
                            "status = 'active' AND seller = ?", (chain_id, owner))
        tokens = {(r["collection"].lower(), int(r["token_id"])): OwnedToken(chain_id, r["collection"],
                                                                            int(r["token_id"]), owner, False, None)
                  for r in owned}
        for r in listed:
            tokens[(r["collection"].lower(), int(r["token_id"]))] = OwnedToken(
                chain_id, r["collection"], int(r["token_id"]), owner, True, int(r["price_wei"]))
        return sorted(tokens.values(), key=lambda t: (t.collection.lower(), t.token_id))

    def owner_of(self, chain_id: int, collection: str, token_id: int) -> str | None:
        """The last owner the indexed transfers show (None when none was seen)."""
        rows = self._rows("SELECT owner FROM market_owners WHERE chain_id = ? AND collection = ? AND token_id = ? "
                          "ORDER BY block_number DESC LIMIT 1", (chain_id, collection, str(token_id)))
        return rows[0]["owner"] if rows else None

    def collections_seen(self, chain_id: int, marketplace: str) -> list[str]:
        """Collections named by the marketplace's events or by stored vouchers (to watch their transfers)."""
        rows = self._rows("SELECT DISTINCT collection FROM market_events WHERE chain_id = ? AND marketplace = ? "
                          "AND collection IS NOT NULL UNION SELECT DISTINCT collection FROM market_vouchers "
                          "WHERE chain_id = ?", (chain_id, marketplace, chain_id))
        return sorted({r["collection"] for r in rows}, key=str.lower)

    # ---- vouchers
    def add_voucher(self, voucher: VoucherRow) -> VoucherRow:
        """Remember a signed voucher (a lazy listing). A nonce is used once per collection."""
        with self._tx() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO market_vouchers (chain_id, collection, nonce, artist, price_wei, expiry, "
                    "content_digest, metadata_cid, voucher_cid, voucher_json, status, token_id, redeemer, created, "
                    "work_id, media_cid, epoch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (voucher.chain_id, voucher.collection, str(voucher.nonce), voucher.artist, str(voucher.price_wei),
                     voucher.expiry, voucher.content_digest, voucher.metadata_cid, voucher.voucher_cid,
                     voucher.voucher_json, voucher.status, _text(voucher.token_id), voucher.redeemer,
                     voucher.created, voucher.work_id, voucher.media_cid, voucher.epoch))
            except sqlite3.IntegrityError as exc:
                raise InputError(f"A voucher with nonce {voucher.nonce} already exists for this collection.",
                                 hint="Use another nonce (the studio picks a fresh one when none is given).") from exc
            row = db.execute("SELECT * FROM market_vouchers WHERE id = ?", (cursor.lastrowid,)).fetchone()
        return _voucher(row)

    def set_voucher_cid(self, voucher_id: int, cid: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE market_vouchers SET voucher_cid = ? WHERE id = ?", (cid, voucher_id))

    def voucher(self, voucher_id: int) -> VoucherRow:
        rows = self._rows("SELECT * FROM market_vouchers WHERE id = ?", (voucher_id,))
        if not rows:
            raise NotFound(f"There is no lazy listing number {voucher_id}.",
                           hint="`studio market listings` shows the lazy listings with their numbers.")
        return _voucher(rows[0])

    def vouchers(self, chain_id: int, *, collection: str | None = None, status: str | None = ACTIVE,
                 include_expired: bool = False, now: float | None = None) -> list[VoucherRow]:
        """Lazy listings on a chain, cheapest first (active and unexpired unless told otherwise)."""
        sql = "SELECT * FROM market_vouchers WHERE chain_id = ?"
        params: list[Any] = [chain_id]
        for column, value in (("collection", collection), ("status", status)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        found = [_voucher(r) for r in self._rows(sql, params)]
        if not include_expired:
            found = [v for v in found if not v.expired(now)]
        return sorted(found, key=lambda v: (v.price_wei, v.id or 0))

    def vouchers_of_work(self, work_id: int, *, chain_id: int | None = None,
                         collection: str | None = None) -> list[VoucherRow]:
        """Every lazy listing made of a work (any status), oldest first."""
        sql = "SELECT * FROM market_vouchers WHERE work_id = ?"
        params: list[Any] = [work_id]
        for column, value in (("chain_id", chain_id), ("collection", collection)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        return [_voucher(r) for r in self._rows(sql + " ORDER BY id", params)]

    def set_vouchers_status(self, chain_id: int, collection: str, status: str, *, before_epoch: int) -> int:
        """Mark the active vouchers of a collection signed for an epoch before `before_epoch` (its
        voucher epoch moved on: they are void). Returns how many."""
        with self._tx() as db:
            return db.execute("UPDATE market_vouchers SET status = ? WHERE chain_id = ? AND collection = ? AND "
                              "status = 'active' AND epoch < ?", (status, chain_id, collection, before_epoch)).rowcount

    def used_nonces(self, chain_id: int, collection: str) -> set[int]:
        rows = self._rows("SELECT nonce FROM market_vouchers WHERE chain_id = ? AND collection = ?",
                          (chain_id, collection))
        return {int(r["nonce"]) for r in rows}


def _touch(kind: str, collection: str | None, token_id: str | None, nonce: str | None) -> tuple[str, str | None,
                                                                                                   str | None]:
    if kind in (VOUCHER_REDEEMED, VOUCHER_CANCELLED):
        return "voucher", collection, nonce
    if kind == VOUCHERS_CANCELLED:
        return "epoch", collection, None
    return "token", collection, token_id


def _text(value: int | None) -> str | None:
    return None if value is None else str(int(value))


def _listing(r: sqlite3.Row) -> ListingRow:
    return ListingRow(r["chain_id"], r["marketplace"], r["collection"], int(r["token_id"]), r["seller"],
                      int(r["price_wei"]), r["status"], r["buyer"], r["listed_block"], r["updated_block"],
                      r["tx_hash"])


def _offer(r: sqlite3.Row) -> OfferRow:
    return OfferRow(r["chain_id"], r["marketplace"], r["collection"], int(r["token_id"]), r["buyer"],
                    int(r["amount_wei"]), r["status"], r["updated_block"], r["tx_hash"], r["expiry"])


def _voucher(r: sqlite3.Row) -> VoucherRow:
    return VoucherRow(r["id"], r["chain_id"], r["collection"], int(r["nonce"]), r["artist"], int(r["price_wei"]),
                      r["expiry"], r["content_digest"], r["metadata_cid"], r["voucher_cid"], r["voucher_json"],
                      r["status"], None if r["token_id"] is None else int(r["token_id"]), r["redeemer"], r["created"],
                      r["work_id"], r["media_cid"], r["redeem_tx"], r["epoch"])
