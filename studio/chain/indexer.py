"""Incremental indexer of marketplace and collection events, tolerant of re-orgs and node restarts.

    indexer = MarketIndexer(connection, marketplace_address, collections=[...])
    result = indexer.scan(cursor)          # cursor: where the last stored scan ended
    store.rollback(result.rolled_back_from)   # only when a re-org was found
    store.apply(result.events); store.save_cursor(result.cursor)   # then, and only then, advance

The indexer never stores anything: it reads ``eth_getLogs`` in block ranges (halving the range
when a provider refuses a wide one, growing it back after successes), decodes the logs into
`MarketEvent`s and returns them with the next `IndexCursor`. A cursor remembers the hashes of the
last few scanned blocks; when the node now has another block at one of those heights, the chain
re-organised, and the scan reports the first block whose events must be rolled back and rescans
from there. Delivery is at least once: the caller stores events idempotently on
(tx_hash, log_index) and saves the cursor only after the events.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Sequence

from studio.cancel import Cancellable, ProgressCallback
from studio.chain.logs import block_hash as _block_hash, head as _head, read_logs
from studio.chain.transactions import hex_string as _hex
from studio.errors import NetworkError
from studio.retry import RetryPolicy, retry

log = logging.getLogger(__name__)

#: How many recent block hashes a cursor keeps: re-orgs up to this depth are detected exactly.
REORG_WINDOW = 12
DEFAULT_CHUNK = 2_000
#: A scan that finds a block changed under it starts again, at once, up to three times in all.
_RESCANS = RetryPolicy(attempts=3, first_delay=0.0, max_delay=0.0)

# kinds, in the user's words
LISTED = "listed"
PRICE_CHANGED = "price_changed"
LISTING_CANCELLED = "listing_cancelled"
SOLD = "sold"
OFFER_MADE = "offer_made"
OFFER_WITHDRAWN = "offer_withdrawn"
OFFER_ACCEPTED = "offer_accepted"
OFFER_EXPIRY = "offer_expiry"
TRANSFER = "transfer"
VOUCHER_REDEEMED = "voucher_redeemed"
VOUCHER_CANCELLED = "voucher_cancelled"
VOUCHERS_CANCELLED = "vouchers_cancelled"

#: ABI event name -> kind, for the marketplace and for collections.
MARKETPLACE_EVENTS = {
    "Listed": LISTED, "PriceUpdated": PRICE_CHANGED, "ListingCancelled": LISTING_CANCELLED, "Sold": SOLD,
    "OfferMade": OFFER_MADE, "OfferWithdrawn": OFFER_WITHDRAWN, "OfferAccepted": OFFER_ACCEPTED,
    "OfferExpiry": OFFER_EXPIRY,
}
COLLECTION_EVENTS = {"Transfer": TRANSFER, "VoucherRedeemed": VOUCHER_REDEEMED,
                     "VoucherCancelled": VOUCHER_CANCELLED, "VouchersCancelled": VOUCHERS_CANCELLED}


@dataclass(frozen=True)
class MarketEvent:
    """One decoded log. Money is wei; addresses are checksummed.

    `seller`/`buyer` follow the event: for a transfer, seller is `from` and buyer is `to`; for
    offers, buyer is who offers. `price_wei` is the listing price, sale price or offer amount.
    """

    block_number: int
    block_hash: str
    log_index: int
    tx_hash: str
    kind: str
    contract: str  # the address that emitted the log
    collection: str | None
    token_id: int | None
    seller: str | None = None
    buyer: str | None = None
    price_wei: int | None = None
    royalty_receiver: str | None = None
    royalty_wei: int | None = None
    fee_wei: int | None = None
    nonce: int | None = None  # voucher events (the new epoch for `vouchers_cancelled`)
    expiry: int | None = None  # offer_expiry: when the buyer's offer ends (unix seconds)

    @property
    def key(self) -> tuple[str, int]:
        """What makes a log unique on its chain (at-least-once delivery is deduplicated on this)."""
        return self.tx_hash, self.log_index


@dataclass(frozen=True)
class IndexCursor:
    """Where an indexer stopped: the last block scanned and the hashes of the blocks just before it.

    `collections` are the collection addresses whose events were scanned up to `last_block`; a
    collection added later is backfilled from `start_block`.
    """

    start_block: int = 0
    last_block: int = -1  # -1: nothing scanned yet
    recent: tuple[tuple[int, str], ...] = ()  # (block number, block hash), oldest first
    collections: tuple[str, ...] = ()

    @property
    def next_block(self) -> int:
        return max(self.start_block, self.last_block + 1)

    def to_json(self) -> dict[str, Any]:
        return {"start_block": self.start_block, "last_block": self.last_block,
                "recent": [[n, h] for n, h in self.recent], "collections": list(self.collections)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "IndexCursor":
        return cls(int(data.get("start_block", 0)), int(data.get("last_block", -1)),
                   tuple((int(n), str(h)) for n, h in data.get("recent", ())),
                   tuple(str(c) for c in data.get("collections", ())))


@dataclass(frozen=True)
class ScanResult:
    """What one scan found. When `rolled_back_from` is set, drop stored events from that block on first."""

    events: tuple[MarketEvent, ...]
    cursor: IndexCursor
    rolled_back_from: int | None
    head: int
    requests: int = field(default=0, compare=False)  # eth_getLogs calls made (for tests and logs)


class MarketIndexer:
    """Reads the marketplace's and the given collections' events from one node."""

    def __init__(self, connection: Any, marketplace: str, *, collections: Iterable[str] = (),
                 chunk_size: int = DEFAULT_CHUNK, confirmations: int = 0, window: int = REORG_WINDOW) -> None:
        from studio.chain.artifacts import load_artifact
        from studio.chain.contracts import checksum

        self.connection = connection
        self.marketplace = checksum(marketplace, "marketplace address")
        self.collections = tuple(sorted({checksum(c, "collection address") for c in collections}))
        self.chunk_size = max(1, chunk_size)
        self.confirmations = max(0, confirmations)
        self.window = max(1, window)
        eth = connection.web3.eth
        market = eth.contract(address=self.marketplace, abi=load_artifact("StudioMarketplace").abi)
        collection = eth.contract(abi=load_artifact("StudioCollection").abi)
        self._decoders: dict[tuple[str, bool], tuple[str, Any]] = {}
        for name, kind in MARKETPLACE_EVENTS.items():
            event = getattr(market.events, name)()
            self._decoders[(_hex(event.topic), True)] = (kind, event)
        for name, kind in COLLECTION_EVENTS.items():
            event = getattr(collection.events, name)()
            self._decoders[(_hex(event.topic), False)] = (kind, event)
        self._market_topics = [t for (t, m) in self._decoders if m]
        self._collection_topics = [t for (t, m) in self._decoders if not m]

    # ---- node access
    def head(self) -> int:
        return _head(self.connection)

    def block_hash(self, number: int) -> str | None:
        """The node's hash of block `number`, or None when it has no such block (a shorter chain)."""
        return _block_hash(self.connection, number)

    # ---- scanning
    def scan(self, cursor: IndexCursor | None = None, *, to_block: int | None = None,
             progress: ProgressCallback | None = None, cancel: Cancellable | None = None) -> ScanResult:
        """Events after `cursor` up to the head (less `confirmations`), with the cursor to save after them."""
        start = cursor or IndexCursor()
        return retry(lambda: self._scan_once(start, to_block, progress, cancel), policy=_RESCANS,
                     retryable=lambda exc: isinstance(exc, _ForkedDuringScan),
                     before_retry=lambda exc, n: log.info("The chain re-organised during a scan; scanning again"),
                     give_up=lambda exc, n: NetworkError("The chain keeps re-organising while the market is read.",
                                                         hint="Try again in a few blocks."))

    def _scan_once(self, cursor: IndexCursor, to_block: int | None, progress: ProgressCallback | None,
                   cancel: Cancellable | None) -> ScanResult:
        head = self.head()
        target = head - self.confirmations if to_block is None else min(to_block, head)
        fork = self.find_fork(cursor)
        requests = 0
        recent = list(cursor.recent)
        last = cursor.last_block
        if fork is not None:
            log.warning("Chain re-organisation: events from block %d on are rolled back and read again", fork)
            recent = [(n, h) for n, h in recent if n < fork]
            last = fork - 1
        events: list[MarketEvent] = []
        # Collections new to this cursor: read their past events up to where the cursor already is.
        new_collections = [c for c in self.collections if c not in cursor.collections]
        if new_collections and last >= cursor.start_block:
            found, calls = self._read_range(cursor.start_block, last, new_collections, self._collection_topics,
                                            cancel, None)
            events += found
            requests += calls
        start = max(cursor.start_block, last + 1)
        if target >= start:
            found, calls = self._read_range(start, target, [self.marketplace, *self.collections],
                                            None, cancel, progress)
            events += found
            requests += calls
            fresh = self._hashes(max(start, target - self.window + 1), target)
            known = {n: h for n, h in fresh}
            for event in events:
                if event.block_number in known and known[event.block_number] != event.block_hash:
                    raise _ForkedDuringScan()
            recent = [(n, h) for n, h in recent if n < start] + fresh
            last = target
        recent = recent[-self.window:]
        events.sort(key=lambda e: (e.block_number, e.log_index))
        new_cursor = IndexCursor(cursor.start_block, last, tuple(recent), self.collections)
        if progress:
            progress(1.0, f"Market read up to block {last}")
        return ScanResult(tuple(events), new_cursor, fork, head, requests)

    def find_fork(self, cursor: IndexCursor) -> int | None:
        """The first block whose stored events are no longer on the node's chain (None: no re-org).

        When no remembered block matches (a re-org deeper than the window, or a node that lost
        its chain), everything from the cursor's start block is read again.
        """
        if not cursor.recent:
            return None
        newest_number, newest_hash = cursor.recent[-1]
        if self.block_hash(newest_number) == newest_hash:
            return None
        for number, stored in reversed(cursor.recent[:-1]):
            if self.block_hash(number) == stored:
                return number + 1
        return cursor.start_block

    def _hashes(self, first: int, last: int) -> list[tuple[int, str]]:
        hashes = []
        for number in range(first, last + 1):
            found = self.block_hash(number)
            if found is None:
                raise _ForkedDuringScan()
            hashes.append((number, found))
        return hashes

    def _read_range(self, first: int, last: int, addresses: Sequence[str], topics: list[str] | None,
                    cancel: Cancellable | None, progress: ProgressCallback | None) -> tuple[list[MarketEvent], int]:
        """The decoded events of [first, last] (see `read_logs`), and the eth_getLogs requests made."""
        params: dict[str, Any] = {"address": list(addresses)}
        if topics:
            params["topics"] = [topics]
        logs, calls = read_logs(self.connection, params, first, last, chunk=self.chunk_size, max_chunk=self.chunk_size,
                                what="the market", cancel=cancel, progress=progress,
                                stopped="Stopped reading the market; what was read so far is not stored.")
        return [e for e in (self.decode(entry) for entry in logs) if e is not None], calls

    # ---- decoding
    def decode(self, entry: Any) -> MarketEvent | None:
        """A log as a MarketEvent; None for logs that are not ours (e.g. an ERC-20 Transfer)."""
        from studio.chain.contracts import checksum

        topics = entry["topics"]
        if not topics:
            return None
        emitter = checksum(entry["address"])
        is_market = emitter == self.marketplace
        found = self._decoders.get((_hex(topics[0]), is_market))
        if found is None or (found[0] == TRANSFER and len(topics) != 4):
            return None
        kind, event = found
        try:
            args = event.process_log(entry)["args"]
        except Exception as exc:  # a log that does not fit the ABI: not our contract's
            log.debug("Skipping an undecodable log in %s: %s", _hex(entry["transactionHash"]), exc)
            return None
        base = MarketEvent(block_number=int(entry["blockNumber"]), block_hash=_hex(entry["blockHash"]),
                           log_index=int(entry["logIndex"]), tx_hash=_hex(entry["transactionHash"]),
                           kind=kind, contract=emitter, collection=None, token_id=None)
        if kind == TRANSFER:
            return replace(base, collection=emitter, token_id=int(args["tokenId"]), seller=args["from"],
                           buyer=args["to"])
        if kind == VOUCHER_REDEEMED:
            return replace(base, collection=emitter, token_id=int(args["tokenId"]), buyer=args["redeemer"],
                           price_wei=int(args["price"]), nonce=int(args["nonce"]))
        if kind == VOUCHER_CANCELLED:
            return replace(base, collection=emitter, nonce=int(args["nonce"]))
        if kind == VOUCHERS_CANCELLED:
            return replace(base, collection=emitter, nonce=int(args["newEpoch"]))
        token = replace(base, collection=args["collection"], token_id=int(args["tokenId"]))
        if kind in (LISTED, PRICE_CHANGED):
            return replace(token, seller=args["seller"], price_wei=int(args["price"]))
        if kind == LISTING_CANCELLED:
            return replace(token, seller=args["seller"])
        if kind in (OFFER_MADE, OFFER_WITHDRAWN):
            return replace(token, buyer=args["buyer"], price_wei=int(args["amount"]))
        if kind == OFFER_EXPIRY:
            return replace(token, buyer=args["buyer"], expiry=int(args["expiry"]))
        price = int(args["price"] if kind == SOLD else args["amount"])
        receiver = args["royaltyReceiver"]
        return replace(token, seller=args["seller"], buyer=args["buyer"], price_wei=price,
                       royalty_receiver=None if int(receiver, 16) == 0 else receiver,
                       royalty_wei=int(args["royalty"]), fee_wei=int(args["fee"]))


class _ForkedDuringScan(Exception):
    """A block changed between reading its logs and reading its hash."""
