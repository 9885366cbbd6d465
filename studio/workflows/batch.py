"""Batch minting from a manifest: validate everything, upload while minting, pipeline the
transactions, and survive being killed at any moment.

    rows = read_manifest("drop.csv")                     # ManifestErrors lists every bad row and field
    plan = plan_batch(rows, collection, ...)              # --dry-run: CIDs, transactions, gas, cost
    report = batch_mint("drop.csv", collection, signer=..., connection=..., store=..., library=...)

**Manifest** (docs/batch.md, :mod:`studio.workflows.batch_manifest`): a CSV or JSON file, or a
folder of images with optional sidecars; every row is validated before anything is stored or sent.

**Journal** (:mod:`studio.workflows.batch_journal`): ``<manifest>.journal.sqlite`` records each
step, every transaction signed and recorded *before* it is broadcast. Running the same command
again reconciles first: a recorded transaction that landed is recorded; a pending one is waited
for; one the node does not know is broadcast again *as signed* (same nonce), never re-made with a
new nonce while the first may still land; a nonce the account has used for something else
retires it. The collection's ``ContentCommitted`` events are then read, so a batch whose digest is
on chain is recorded, never minted again, and each landed batch's ``contentOf`` is checked.

**Sending** goes through the one path of :class:`studio.chain.sender.TxSender` (its nonce lane,
the wallet's history, the retry policy for a node that drops or rate-limits requests); the run
hands it the journal as the step between signing and broadcasting.

**Test seam**: ``STUDIO_BATCH_CRASH_AT=STEP:N`` makes the process kill itself (SIGKILL) at a named
step: ``after-upload:N`` (N rows uploaded), ``after-sign:N`` (batch N's transaction recorded, not
broadcast), ``after-send:N`` (batch N broadcast, before its receipt), ``mid-listing:N`` (N listing
transactions sent). Tests use it to prove resumption; it is never set in normal use.
"""
from __future__ import annotations

import hashlib
import os
import signal
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from studio.cancel import Cancellable
from studio.errors import Cancelled, ChainError, InputError, NetworkError, StudioError
from studio.library.db import Collection, Library, Token, UNSAVED, Work
from studio.retry import RetryPolicy
from studio.workflows.batch_journal import (DROPPED, FAILED, LANDED, SENT, SIGNED, Journal, JournalTx,
                                            journal_path_for)
from studio.workflows.batch_manifest import ManifestErrors, ManifestRow, RowError, parse_eth, read_manifest

if TYPE_CHECKING:
    from studio.chain.content import Commitment
    from studio.chain.networks import Network
    from studio.chain.sender import PreparedTx, SignedTx, TxSender
    from studio.chain.transactions import Connection, Signer, TxReceipt
    from studio.storage.store import ContentStore

#: What callers (studio.api, the `studio batch` command, tests) import from here, the manifest's
#: and the journal's entry points included.
__all__ = ["DEFAULT_BATCH_SIZE", "BatchIncomplete", "BatchPlan", "BatchProgress", "BatchReport", "Journal",
           "ManifestErrors", "ManifestRow", "MintedRow", "PlannedWork", "RetryPolicy", "batch_mint",
           "journal_path_for", "parse_eth", "plan_batch", "read_manifest"]

CRASH_ENV = "STUDIO_BATCH_CRASH_AT"
DEFAULT_BATCH_SIZE = 100


# ================================================================= results

@dataclass(frozen=True)
class BatchProgress:
    """Counts so far, for a progress bar (the CLI adds the ETA)."""

    stage: str  # upload, mint, royalty, list, done
    total: int
    uploaded: int
    minted: int
    listed: int
    to_list: int
    line: str


@dataclass(frozen=True)
class PlannedWork:
    row: int
    file: Path
    name: str
    media_cid: str
    metadata_cid: str
    token_uri: str  # ipfs://<batch directory>/<position>


@dataclass(frozen=True)
class BatchPlan:
    """What a run would do (``--dry-run``): CIDs computed locally, transactions, gas and cost."""

    chain_id: int
    collection: str
    works: tuple[PlannedWork, ...]
    batches: tuple[tuple[str, int], ...]  # (directory CID, tokens)
    royalty_transactions: int
    listing_transactions: int  # the approval (when needed) and one per listed token
    estimated_gas: int  # the mints' gas limits as estimated by the node
    max_cost_wei: int  # the mints' gas at the suggested maximum fee

    @property
    def transactions(self) -> int:
        return len(self.batches) + self.royalty_transactions + self.listing_transactions

    def to_json(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "collection": self.collection, "transactions": self.transactions,
                "mint_transactions": len(self.batches), "royalty_transactions": self.royalty_transactions,
                "listing_transactions": self.listing_transactions, "estimated_gas": self.estimated_gas,
                "estimated_gas_per_token": self.estimated_gas // max(1, len(self.works)),
                "max_cost_wei": str(self.max_cost_wei),
                "batches": [{"cid": cid, "count": count} for cid, count in self.batches],
                "works": [{"row": w.row, "file": str(w.file), "name": w.name, "media_cid": w.media_cid,
                           "metadata_cid": w.metadata_cid, "token_uri": w.token_uri} for w in self.works]}


@dataclass(frozen=True)
class MintedRow:
    row: int
    file: Path
    name: str
    token_id: int
    media_cid: str
    metadata_cid: str
    tx_hash: str | None  # None when found on chain by its commitment, not by a recorded transaction
    listed_wei: int | None


@dataclass(frozen=True)
class BatchReport:
    """What the batch holds so far, from its journal: tokens, transactions, gas and cost."""

    chain_id: int
    collection: str
    journal: str
    total: int
    tokens: tuple[MintedRow, ...]
    transactions: tuple[JournalTx, ...]
    problems: tuple[str, ...] = ()

    @property
    def done(self) -> int:
        return len(self.tokens)

    @property
    def left(self) -> int:
        return self.total - self.done

    @property
    def gas_used(self) -> int:
        return sum(t.gas_used or 0 for t in self.transactions)

    @property
    def cost_wei(self) -> int:
        return sum(t.fee_wei or 0 for t in self.transactions)

    def to_json(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "collection": self.collection, "journal": self.journal,
                "total": self.total, "minted": self.done, "left": self.left,
                "listed": sum(1 for t in self.tokens if t.listed_wei is not None),
                "gas_used": self.gas_used, "gas_per_token": self.gas_used // max(1, self.done),
                "cost_wei": str(self.cost_wei), "problems": list(self.problems),
                "tokens": [{"row": t.row, "file": str(t.file), "name": t.name, "token_id": t.token_id,
                            "media_cid": t.media_cid, "metadata_cid": t.metadata_cid, "tx_hash": t.tx_hash,
                            "listed_wei": None if t.listed_wei is None else str(t.listed_wei)} for t in self.tokens],
                "transactions": [{"kind": t.kind, "hash": t.hash, "nonce": t.nonce, "state": t.state,
                                  "gas_used": t.gas_used, "fee_wei": None if t.fee_wei is None else str(t.fee_wei)}
                                 for t in self.transactions]}


class BatchIncomplete(StudioError):
    """A permanent failure stopped the batch; ``report`` says what is done and what is left."""

    def __init__(self, report: BatchReport, cause: StudioError) -> None:
        self.report = report
        self.cause = cause
        super().__init__(f"The batch stopped with {report.done} of {report.total} works minted and {report.left} "
                         f"left: {cause}",
                         hint=f"Run the same command again to finish; the journal {report.journal} keeps every "
                              "step, so nothing is minted twice.")


# ================================================================= planning (--dry-run)

def plan_batch(source: Path | str, collection: Collection | str, *, signer: "Signer", connection: "Connection",
               library: Library, network: "Network | None" = None, batch_size: int = DEFAULT_BATCH_SIZE,
               list_price_wei: int | None = None) -> BatchPlan:
    """Validate the manifest, compute every CID locally and estimate the mints; nothing is stored or sent."""
    from studio.chain.contracts import CollectionContract
    from studio.chain.sender import TxSender
    from studio.storage.unixfs import cid_of_path
    from studio.workflows.mint import known_collection
    from studio.workflows.publish import directory_commitment

    rows = read_manifest(source)
    _check_batch_size(batch_size)
    target = known_collection(library, connection, collection)
    contract = CollectionContract(connection, target.address)
    sender = TxSender.for_signer(connection, signer, network)
    works, batches, gas, cost = [], [], 0, 0
    for chunk in _chunks(rows, batch_size):
        files = []
        for row in chunk:
            media = str(cid_of_path(row.file, cid_version=1))
            metadata, metadata_cid = _metadata(row, media, _image_bytes(row))
            files.append(metadata)
            works.append((row, media, metadata_cid))
        commitment = directory_commitment(files)
        batches.append((str(commitment.cid), commitment.count))
        prepared = sender.prepare_request(contract.mint_batch_tx(signer.address, commitment))
        gas += prepared.preview.gas_limit
        cost += prepared.preview.max_fee_wei
    planned, index = [], 0
    for cid, count in batches:
        for position in range(count):
            row, media, metadata_cid = works[index]
            planned.append(PlannedWork(row.row, row.file, row.name, media, metadata_cid, f"ipfs://{cid}/{position}"))
            index += 1
    listed = sum(1 for r in rows if (r.price_wei or list_price_wei) is not None)
    royalties = sum(1 for r in rows if r.royalty_bps is not None and r.royalty_bps != target.royalty_bps)
    return BatchPlan(target.chain_id, target.address, tuple(planned), tuple(batches), royalties,
                     listed + (1 if listed else 0), gas, cost)


def _check_batch_size(batch_size: int) -> None:
    from studio.chain.content import MAX_BATCH

    if not 1 <= batch_size <= MAX_BATCH:
        raise InputError(f"A batch holds 1 to {MAX_BATCH} tokens, not {batch_size}.",
                         hint=f"Use --batch-size between 1 and {MAX_BATCH} (default {DEFAULT_BATCH_SIZE}).")


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _metadata(row: ManifestRow, media_cid: str, data: bytes) -> tuple[bytes, str]:
    """The token's metadata JSON (as `studio mint` writes it, provenance summary included) and its CID."""
    from studio.workflows.mint import MintItem, embedded_provenance, token_metadata

    _, provenance = embedded_provenance(data, row.file.name)
    item = MintItem(row.file, row.name, row.description, row.attributes, row.license, provenance=provenance)
    metadata = token_metadata(item, media_cid)
    return metadata.to_bytes(), metadata.cid


# ================================================================= minting

def batch_mint(source: Path | str, collection: Collection | str, *, signer: "Signer", connection: "Connection",
               store: "ContentStore", library: Library, network: "Network | None" = None,
               batch_size: int = DEFAULT_BATCH_SIZE, list_price_wei: int | None = None,
               marketplace: str | None = None, journal: "Journal | Path | str | None" = None,
               upload_workers: int = 4, max_in_flight: int = 16, retry: RetryPolicy = RetryPolicy(),
               timeout: float = 120.0, progress: Callable[[BatchProgress], None] | None = None,
               cancel: Cancellable | None = None) -> BatchReport:
    """Mint every work of a manifest exactly once, resuming from its journal; see the module docstring.

    Tokens go to the signer (the collection's owner). A row's ``price``, else ``list_price_wei``,
    lists its token on ``marketplace`` (default: the network's studio marketplace). A permanent
    failure raises :class:`BatchIncomplete` carrying the report of what is done and what is left.
    """
    owned = not isinstance(journal, Journal)
    book = journal if isinstance(journal, Journal) else Journal(journal or journal_path_for(source))
    try:
        run = _BatchRun(source, collection, signer=signer, connection=connection, store=store, library=library,
                        network=network, batch_size=batch_size, list_price_wei=list_price_wei,
                        marketplace=marketplace, journal=book, upload_workers=upload_workers,
                        max_in_flight=max_in_flight, retry=retry, timeout=timeout, progress=progress, cancel=cancel)
        return run.run()
    finally:
        if owned:
            book.close()


def _crash_point(step: str, number: int) -> None:
    """The test seam: STUDIO_BATCH_CRASH_AT=step:number kills this process here, as `kill -9` would."""
    if os.environ.get(CRASH_ENV) == f"{step}:{number}":
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


class _BatchRun:
    def __init__(self, source: Path | str, collection: Collection | str, *, signer: "Signer",
                 connection: "Connection", store: "ContentStore", library: Library, network: "Network | None",
                 batch_size: int, list_price_wei: int | None, marketplace: str | None, journal: Journal,
                 upload_workers: int, max_in_flight: int, retry: RetryPolicy, timeout: float,
                 progress: Callable[[BatchProgress], None] | None, cancel: Cancellable | None) -> None:
        self.source = Path(source)
        self.collection_ref = collection
        self.signer, self.connection, self.store, self.library = signer, connection, store, library
        self.network = network
        self.batch_size, self.list_price_wei, self.marketplace = batch_size, list_price_wei, marketplace
        self.journal = journal
        self.upload_workers, self.max_in_flight = max(1, upload_workers), max(1, max_in_flight)
        self.policy, self.timeout = retry, timeout
        self.progress, self.cancel = progress, cancel
        self.problems: list[str] = []
        self.in_flight: deque[JournalTx] = deque()
        self._count_lock = threading.Lock()
        self.uploaded_now = 0
        self.listings_sent = 0
        self.uploaded = self.minted = self.listed = 0

    # ---- the run
    def run(self) -> BatchReport:
        from studio.chain.contracts import CollectionContract
        from studio.chain.sender import TxSender
        from studio.workflows.mint import known_collection

        self.rows = read_manifest(self.source)
        self.by_row = {r.row: r for r in self.rows}
        _check_batch_size(self.batch_size)
        self.target = known_collection(self.library, self.connection, self.collection_ref)
        self.contract = CollectionContract(self.connection, self.target.address)
        self.sender: TxSender = TxSender.for_signer(self.connection, self.signer, self.network, retry=self.policy,
                                                    cancel=self.cancel)
        self.sender.ensure_chain()
        owner = self._retry(self.contract.owner, "Reading the collection's owner")
        if owner.lower() != self.signer.address.lower():
            raise InputError(f"{self.target.name} belongs to {owner}; {self.signer.address} cannot mint into it.",
                             hint="Use the account that owns the collection (--account).")
        self.journal.bind(chain_id=str(self.target.chain_id), collection=self.target.address,
                          account=self.signer.address)
        if self.journal.meta("start_block") is None:
            block = self._retry(self.connection.block_number, "Reading the chain's height")
            self.journal.set_meta("start_block", str(block))
        self.journal.add_rows(self.rows)
        self._refuse_minted_elsewhere()
        self.prices = {r.row: r.price_wei if r.price_wei is not None else self.list_price_wei for r in self.rows}
        if any(p is not None for p in self.prices.values()) and self.marketplace is None:
            from studio.workflows.collections import marketplace_address

            self.marketplace = marketplace_address(self.sender.network)
        self.uploaded, self.minted = len(self.journal.uploaded()), len(self.journal.tokens())
        self.listed = len(self.journal.marked("listed"))
        try:
            self._emit("mint", "Checking what earlier runs left")
            self._reconcile()
            self._mint_all()
            self._royalties()
            self._list_all()
        except (NetworkError, ChainError) as exc:
            raise BatchIncomplete(self.report(), exc) from exc
        self._emit("done", f"Minted {self.minted} of {len(self.rows)}")
        return self.report()

    def _refuse_minted_elsewhere(self) -> None:
        """A work minted into this collection by another run (or `studio mint`) is an error of its row."""
        mine = self.journal.tokens()
        errors = []
        for row in self.rows:
            if row.row in mine:
                continue
            work = self.library.work_by_sha256(row.sha256)
            if work is None:
                continue
            for token in self.library.tokens_of_work(work.id or 0):
                if token.chain_id == self.target.chain_id and token.collection.lower() == self.target.address.lower():
                    errors.append(RowError(row.row, "file", f"{row.file.name} is already minted in {self.target.name} "
                                                            f"as token {token.token_id}"))
        if errors:
            raise ManifestErrors(self.source, errors)

    # ---- the node, tried again under the run's policy
    def _retry(self, call: Callable[[], Any], action: str) -> Any:
        return self.sender.retrying(call, action)

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.cancelled:
            raise Cancelled("Cancelled. The journal keeps every step; run the same command again to finish.")

    def _emit(self, stage: str, line: str) -> None:
        if self.progress is not None:
            to_list = sum(1 for p in self.prices.values() if p is not None) if hasattr(self, "prices") else 0
            self.progress(BatchProgress(stage, len(self.rows), self.uploaded, self.minted, self.listed, to_list, line))

    # ---- transactions: signed and journaled before broadcast
    def _send(self, kind: str, subject: int, prepared: "PreparedTx", crash_number: int) -> JournalTx:
        """Send through the one path, journaling the signed bytes between signing and broadcasting."""
        self._check_cancel()
        journaled: list[tuple[int, "SignedTx"]] = []

        def journal(signed: "SignedTx") -> None:
            journaled.append((self.journal.record_signed(kind, subject, signed.raw, signed.tx_hash, signed.nonce),
                              signed))
            if kind == "mint":
                _crash_point("after-sign", crash_number)

        self.sender.send(prepared, confirmed=True, on_signed=journal)
        tx_id, signed = journaled[0]
        self.journal.set_tx(tx_id, SENT)
        if kind == "mint":
            _crash_point("after-send", crash_number)
        return JournalTx(tx_id, kind, subject, signed.raw.hex(), signed.tx_hash, signed.nonce, SENT, None, None)

    def _wait(self, tx: JournalTx) -> "TxReceipt":
        from studio.chain.sender import StillPending

        try:
            return self.sender.wait(tx.hash, timeout=self.timeout, poll=0.05, cancel=self.cancel, check=False)
        except Cancelled as exc:
            raise Cancelled("Cancelled. The journal keeps every step; run the same command again to finish.") from exc
        except StillPending as exc:
            raise NetworkError(f"The transaction {tx.hash} (nonce {tx.nonce}) was not mined within {self.timeout:g} s.",
                               hint="It may still be mined; running the command again waits for it and never sends "
                                    "it with a new nonce.") from exc

    def _settle(self, tx: JournalTx) -> None:
        """What became of a transaction an earlier run signed: landed, pending, or unknown to the node."""
        receipt = self.sender.receipt(tx.hash)
        if receipt is None:
            if not self.sender.is_known(tx.hash):
                if self.sender.nonce_taken(tx.hash, tx.nonce):  # it can never land
                    self.journal.set_tx(tx.id, DROPPED, error=f"nonce {tx.nonce} was used by another transaction")
                    return
                self._emit("mint", f"Broadcasting {tx.hash} again (nonce {tx.nonce}, as signed)")
                self.sender.rebroadcast(bytes.fromhex(tx.raw))
                self.journal.set_tx(tx.id, SENT)
            receipt = self._wait(tx)
        self._landed(tx, receipt)

    def _landed(self, tx: JournalTx, receipt: "TxReceipt") -> None:
        if not receipt.succeeded:
            self.journal.set_tx(tx.id, FAILED, block=receipt.block_number, gas_used=receipt.gas_used,
                                fee_wei=receipt.fee_wei, error="reverted")
            self.problems.append(f"The {tx.kind} transaction {tx.hash} reverted.")
            return
        self.journal.set_tx(tx.id, LANDED, block=receipt.block_number, gas_used=receipt.gas_used,
                            fee_wei=receipt.fee_wei)
        if tx.kind == "mint":
            minted = self.contract.minted_in(receipt)
            if minted is None:
                raise ChainError(f"The mint {tx.hash} landed but minted nothing in {self.target.name}.")
            self._record_batch(tx.subject, minted.first_token_id, tx.hash)
        elif tx.kind == "royalty":
            self.journal.mark_row(tx.subject, "royalty_done")
        elif tx.kind == "list":
            self.journal.mark_row(tx.subject, "listed")
            self.listed += 1
            self._emit("list", f"Listed row {tx.subject}")

    def _record_batch(self, batch: int, first_token_id: int, tx_hash: str | None) -> None:
        """Check the chain holds this batch's commitment at ``first_token_id``, then record its tokens."""
        from studio.chain.content import Commitment

        cid, digest, count, _ = self.journal.batches()[batch]
        commitment, index = self._retry(lambda: self.contract.content_of(first_token_id), "Reading a commitment")
        if commitment != Commitment(digest, True, 1) or index != 0:
            raise ChainError(f"Token {first_token_id} of {self.target.name} is not committed to batch {batch} "
                             f"({cid}); nothing more is sent.", hint="Check the collection on a block explorer.")
        self.journal.set_minted(batch, first_token_id)
        rows = [self.by_row[r] for r in self.journal.batch_rows(batch) if r in self.by_row]
        uploaded = self.journal.uploaded()
        works = self.library.add_works([(Work(UNSAVED, str(r.file.resolve()), r.sha256, None, r.name, "", "",
                                              r.file.stat().st_mtime, r.width, r.height), _embedded_manifest(r))
                                        for r in rows])
        now = time.time()
        positions = {r: p for p, r in enumerate(self.journal.batch_rows(batch))}
        self.library.record_tokens([Token(self.target.chain_id, self.target.address,
                                          first_token_id + positions[r.row], w.id, uploaded[r.row][1],
                                          uploaded[r.row][0], tx_hash, self.signer.address, now)
                                    for r, w in zip(rows, works)])
        self.minted += count
        self._emit("mint", f"Batch {batch}: tokens {first_token_id}-{first_token_id + count - 1}")

    def _track(self, tx: JournalTx, *, block: bool = False) -> None:
        """Keep ``tx`` in flight; record every receipt that has arrived (waiting when too many are out)."""
        self.in_flight.append(tx)
        self._drain(wait=block)

    def _drain(self, *, wait: bool) -> None:
        while self.in_flight:
            head = self.in_flight[0]
            must_wait = wait or len(self.in_flight) > self.max_in_flight
            receipt = self._wait(head) if must_wait else self.sender.receipt(head.hash)
            if receipt is None:
                return
            self.in_flight.popleft()
            self._landed(head, receipt)

    # ---- resuming
    def _reconcile(self) -> None:
        for tx in self.journal.txs(SIGNED, SENT):
            self._settle(tx)
        batches = self.journal.batches()
        unminted = {digest: b for b, (_, digest, _, first) in batches.items() if first is None}
        if not unminted:
            return
        start = int(self.journal.meta("start_block") or 0)
        committed = self._retry(lambda: self.contract.content_commitments(from_block=start),
                                "Reading the collection's mints")
        for content in committed:
            batch = unminted.pop(content.digest, None)
            if batch is not None and content.directory:
                self._record_batch(batch, content.first_token_id, content.tx_hash)

    # ---- minting
    def _mint_all(self) -> None:
        from studio.chain.content import Commitment

        batches = self.journal.batches()
        for batch, (_, digest, count, first) in batches.items():  # composed earlier, not on chain
            if first is None:
                self._mint(batch, Commitment(digest, True, count))
        assigned = {r for b in batches for r in self.journal.batch_rows(b)}
        waiting = [r for r in self.rows if r.row not in assigned]
        if not waiting:
            self._drain(wait=True)
            return
        next_batch = max(batches, default=0) + 1
        with ThreadPoolExecutor(self.upload_workers, thread_name_prefix="batch-upload") as pool:
            futures: dict[int, Future] = {r.row: pool.submit(self._upload, r) for r in waiting}
            try:
                for chunk in _chunks(waiting, self.batch_size):
                    files = [futures[r.row].result() for r in chunk]
                    self._check_cancel()
                    commitment = self._store_directory(files)
                    self.journal.add_batch(next_batch, [r.row for r in chunk], str(commitment.cid), commitment.digest)
                    self._mint(next_batch, commitment)
                    next_batch += 1
            except BaseException:
                for future in futures.values():
                    future.cancel()
                raise
        self._drain(wait=True)

    def _mint(self, batch: int, commitment: "Commitment") -> None:
        works = f"{commitment.count} works" if commitment.count != 1 else "a work"
        prepared = self.sender.prepare_request(self.contract.mint_batch_tx(
            self.signer.address, commitment, action=f"Minting {works} in {self.target.name}"))
        self._emit("mint", f"Sending batch {batch}")
        self._track(self._send("mint", batch, prepared, batch))

    def _upload(self, row: ManifestRow) -> bytes:
        """Store the image and its metadata (worker thread); returns the metadata file's bytes."""
        from studio.storage.cid import Cid

        self._check_cancel()
        data = _image_bytes(row)
        if hashlib.sha256(data).hexdigest() != row.sha256:
            raise InputError(f"Row {row.row} ({row.file.name}) changed while the batch ran.",
                             hint="Leave the files alone until the batch is done, then run it again.")
        known = self.journal.uploaded().get(row.row)
        if known is not None and self.store.has(Cid.parse(known[0])):
            metadata, metadata_cid = _metadata(row, known[0], data)
            if metadata_cid == known[1] and self.store.has(Cid.parse(metadata_cid)):
                return metadata
        media = str(self.store.add_path(row.file, cid_version=1))
        metadata, metadata_cid = _metadata(row, media, data)
        stored = str(self.store.add_bytes(metadata, cid_version=1))
        if stored != metadata_cid:
            from studio.errors import StorageError

            raise StorageError(f"{self.store.name} named the metadata of row {row.row} {stored}, not "
                               f"{metadata_cid}.", hint="Check the storage backend's settings (CID version 1).")
        self.journal.set_uploaded(row.row, media, metadata_cid)
        with self._count_lock:
            self.uploaded_now += 1
            self.uploaded += known is None
            count = self.uploaded_now
        _crash_point("after-upload", count)
        return metadata

    def _store_directory(self, files: Sequence[bytes]):
        from studio.fileio import atomic_write_bytes
        from studio.workflows.publish import directory_commitment

        commitment = directory_commitment(files)
        with tempfile.TemporaryDirectory(prefix="studio-batch-") as folder:
            root = Path(folder) / "batch"
            root.mkdir()
            for index, content in enumerate(files):
                atomic_write_bytes(root / str(index), content)
            stored = str(self.store.add_path(root, cid_version=1))
        if stored != commitment.cid:
            from studio.errors import StorageError

            raise StorageError(f"{self.store.name} named a batch folder {stored}, not {commitment.cid}; nothing "
                               "was minted.", hint="Check the storage backend's settings (CID version 1).")
        return commitment

    # ---- after minting: royalties and listings
    def _royalties(self) -> None:
        tokens, done = self.journal.tokens(), self.journal.marked("royalty_done")
        receiver = self.target.royalty_receiver or self.signer.address
        for row in self.rows:
            bps = row.royalty_bps
            if bps is None or bps == self.target.royalty_bps or row.row in done or row.row not in tokens:
                continue
            token_id = tokens[row.row]
            info = self._retry(lambda: self.contract.royalty_info(token_id, 10_000), "Reading a royalty")
            if info.amount_wei == bps:
                self.journal.mark_row(row.row, "royalty_done")
                continue
            prepared = self.sender.prepare_request(self.contract.set_token_royalty_tx(token_id, receiver, bps))
            self._emit("royalty", f"Setting the royalty of token {token_id}")
            self._track(self._send("royalty", row.row, prepared, 0))
        self._drain(wait=True)

    def _list_all(self) -> None:
        from studio.chain.contracts import MarketplaceContract

        tokens, listed = self.journal.tokens(), self.journal.marked("listed")
        todo = [r for r in self.rows if self.prices[r.row] is not None and r.row in tokens and r.row not in listed]
        if not todo:
            return
        market = MarketplaceContract(self.connection, self.marketplace or "")
        approved = self._retry(lambda: self.contract.is_approved_for_all(self.signer.address, market.address),
                               "Reading the marketplace's approval")
        if not approved:
            prepared = self.sender.prepare_request(self.contract.set_approval_for_all_tx(market.address))
            self._track(self._send("approve", 0, prepared, 0), block=True)
        tried = {t.subject for t in self.journal.txs() if t.kind == "list"}
        for row in todo:
            token_id = tokens[row.row]
            if row.row in tried:  # an earlier listing of it failed or was dropped: ask the chain
                listing = self._retry(lambda: market.listing(self.target.address, token_id), "Reading a listing")
                if listing is not None and listing.seller.lower() == self.signer.address.lower():
                    self.journal.mark_row(row.row, "listed")
                    self.listed += 1
                    continue
            price = self.prices[row.row]
            if price is None:  # not in todo: only priced rows are listed
                continue
            prepared = self.sender.prepare_request(market.list_tx(self.target.address, token_id, price))
            self._track(self._send("list", row.row, prepared, 0))
            self.listings_sent += 1
            _crash_point("mid-listing", self.listings_sent)
        self._drain(wait=True)

    # ---- the report
    def report(self) -> BatchReport:
        tokens, uploaded, listed = self.journal.tokens(), self.journal.uploaded(), self.journal.marked("listed")
        txs = self.journal.txs()
        mint_tx = {t.subject: t.hash for t in txs if t.kind == "mint" and t.state == LANDED}
        batch_of = {}
        for batch in self.journal.batches():
            for r in self.journal.batch_rows(batch):
                batch_of[r] = batch
        minted = tuple(MintedRow(r.row, r.file, r.name, tokens[r.row], uploaded[r.row][0], uploaded[r.row][1],
                                 mint_tx.get(batch_of.get(r.row, -1)),
                                 self.prices.get(r.row) if r.row in listed else None)
                       for r in self.rows if r.row in tokens)
        return BatchReport(self.target.chain_id, self.target.address, self.journal.path, len(self.rows), minted,
                           tuple(t for t in txs if t.state in (LANDED, FAILED)), tuple(self.problems))


def _image_bytes(row: ManifestRow) -> bytes:
    """A validated row's image, read again with the manifest's bound (it may have been swapped since)."""
    from studio.safeimage import read_image_file
    from studio.workflows.batch_manifest import MAX_IMAGE_BYTES

    return read_image_file(row.file, what=f"Row {row.row}'s image {row.file.name}", max_bytes=MAX_IMAGE_BYTES)


def _embedded_manifest(row: ManifestRow) -> str | None:
    """The provenance manifest embedded in a row's file (kept with its work: the Gallery's "signed"
    badge and detail pane read it), or None when it carries none or can no longer be read."""
    from studio.provenance.embed import read_embedded

    try:
        data = _image_bytes(row)
        if hashlib.sha256(data).hexdigest() != row.sha256:  # swapped since it was minted: not this work's
            return None
        return read_embedded(data, name=row.file.name).provenance_json
    except (OSError, StudioError):
        return None
