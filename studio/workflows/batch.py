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

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from studio.cancel import Cancellable
from studio.errors import ChainError, InputError, NetworkError, StudioError
from studio.library.db import Collection, Library
from studio.retry import RetryPolicy
from studio.workflows.batch_journal import CRASH_ENV, FAILED, LANDED, Journal, JournalTx, journal_path_for
from studio.workflows.batch_manifest import ManifestErrors, ManifestRow, RowError, parse_eth, read_manifest
from studio.workflows.batch_send import JournaledSends
from studio.workflows.batch_steps import Listings, MintPipeline, RunContext, chunks, replay_journal
from studio.workflows.batch_uploads import BatchUploads, image_bytes, row_metadata

if TYPE_CHECKING:
    from studio.chain.networks import Network
    from studio.chain.transactions import Connection, Signer
    from studio.storage.store import ContentStore

#: What callers (studio.api, the `studio batch` command, tests) import from here, the manifest's
#: and the journal's entry points included.
__all__ = ["DEFAULT_BATCH_SIZE", "BatchIncomplete", "BatchPlan", "BatchProgress", "BatchReport", "Journal",
           "ManifestErrors", "ManifestRow", "MintedRow", "PlannedWork", "RetryPolicy", "batch_mint",
           "journal_path_for", "parse_eth", "plan_batch", "read_manifest", "CRASH_ENV"]

DEFAULT_BATCH_SIZE = 100


# ================================================================= results

@dataclass(frozen=True)
class BatchProgress:
    """Counts so far (the studio's progress shape, studio.cancel.Progress: ``fraction`` and ``text``
    for a bar, the counts as details; the CLI adds the ETA)."""

    stage: str  # upload, mint, royalty, list, done
    total: int
    uploaded: int
    minted: int
    listed: int
    to_list: int
    line: str

    @property
    def fraction(self) -> float:
        """Storing a work counts 0.4 of it, minting 0.6, listing (when asked for) one more each."""
        goal = self.total + self.to_list
        return min(1.0, (0.4 * self.uploaded + 0.6 * self.minted + self.listed) / goal) if goal else 1.0

    @property
    def text(self) -> str:
        """'2 of 3 minted, 1/3 listed · <the current step>'."""
        done, verb = (self.uploaded, "stored") if self.stage == "upload" else (self.minted, "minted")
        listed = f", {self.listed}/{self.to_list} listed" if self.to_list else ""
        return f"{done} of {self.total} {verb}{listed} · {self.line}"


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
    for chunk in chunks(rows, batch_size):
        files = []
        for row in chunk:
            media = str(cid_of_path(row.file, cid_version=1))
            metadata, metadata_cid = row_metadata(row, media, image_bytes(row))
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


class _BatchRun:
    """One run of :func:`batch_mint`: its checks, then the steps of :mod:`studio.workflows.batch_steps`."""

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
        self.upload_workers, self.max_in_flight = upload_workers, max_in_flight
        self.policy, self.timeout = retry, timeout
        self.progress, self.cancel = progress, cancel
        self.problems: list[str] = []
        self.ctx: RunContext | None = None

    def run(self) -> BatchReport:
        from studio.chain.contracts import CollectionContract
        from studio.chain.sender import TxSender
        from studio.workflows.mint import known_collection

        rows = read_manifest(self.source)
        _check_batch_size(self.batch_size)
        target = known_collection(self.library, self.connection, self.collection_ref)
        contract = CollectionContract(self.connection, target.address)
        sender = TxSender.for_signer(self.connection, self.signer, self.network, retry=self.policy, cancel=self.cancel)
        sender.ensure_chain()
        owner = sender.retrying(contract.owner, "Reading the collection's owner")
        if owner.lower() != self.signer.address.lower():
            raise InputError(f"{target.name} belongs to {owner}; {self.signer.address} cannot mint into it.",
                             hint="Use the account that owns the collection (--account).")
        self.journal.bind(chain_id=str(target.chain_id), collection=target.address, account=self.signer.address)
        if self.journal.meta("start_block") is None:
            block = sender.retrying(self.connection.block_number, "Reading the chain's height")
            self.journal.set_meta("start_block", str(block))
        self.journal.add_rows(rows)
        self._refuse_minted_elsewhere(rows, target)
        prices = {r.row: r.price_wei if r.price_wei is not None else self.list_price_wei for r in rows}
        if any(p is not None for p in prices.values()) and self.marketplace is None:
            from studio.workflows.collections import marketplace_address

            self.marketplace = marketplace_address(sender.network)
        sends = JournaledSends(sender, self.journal, max_in_flight=self.max_in_flight, timeout=self.timeout,
                               cancel=self.cancel, emit=self._emit, problems=self.problems)
        ctx = self.ctx = RunContext(rows, target, contract, self.signer.address, self.journal, self.library, sends,
                                    BatchUploads(self.store, self.journal, self.cancel), prices, self.cancel,
                                    self._emit, minted=len(self.journal.tokens()),
                                    listed=len(self.journal.marked("listed")))
        mints = MintPipeline(ctx, batch_size=self.batch_size, upload_workers=self.upload_workers)
        listings = Listings(ctx, self.connection, self.marketplace)
        sends.on_landed = lambda tx, receipt: (mints.landed(tx, receipt) if tx.kind == "mint" else
                                               listings.landed(tx))
        try:
            self._emit("mint", "Checking what earlier runs left")
            replay_journal(ctx, mints)
            mints.mint_all()
            listings.royalties()
            listings.list_all()
        except (NetworkError, ChainError) as exc:
            raise BatchIncomplete(self.report(), exc) from exc
        self._emit("done", f"Minted {ctx.minted} of {len(rows)}")
        return self.report()

    def _refuse_minted_elsewhere(self, rows: list[ManifestRow], target: Collection) -> None:
        """A work minted into this collection by another run (or `studio mint`) is an error of its row."""
        mine = self.journal.tokens()
        errors = []
        for row in rows:
            if row.row in mine:
                continue
            work = self.library.work_by_sha256(row.sha256)
            if work is None:
                continue
            for token in self.library.tokens_of_work(work.id or 0):
                if token.chain_id == target.chain_id and token.collection.lower() == target.address.lower():
                    errors.append(RowError(row.row, "file", f"{row.file.name} is already minted in {target.name} "
                                                            f"as token {token.token_id}"))
        if errors:
            raise ManifestErrors(self.source, errors)

    def _emit(self, stage: str, line: str) -> None:
        ctx = self.ctx
        if self.progress is not None and ctx is not None:
            to_list = sum(1 for p in ctx.prices.values() if p is not None)
            self.progress(BatchProgress(stage, len(ctx.rows), ctx.uploads.uploaded, ctx.minted, ctx.listed, to_list,
                                        line))

    def report(self) -> BatchReport:
        """What the journal holds of this batch: tokens, the transactions that landed or failed, problems."""
        ctx = self.ctx
        assert ctx is not None, "the run's checks passed"
        tokens, uploaded, listed = self.journal.tokens(), self.journal.uploaded(), self.journal.marked("listed")
        txs = self.journal.txs()
        mint_tx = {t.subject: t.hash for t in txs if t.kind == "mint" and t.state == LANDED}
        batch_of = {}
        for batch in self.journal.batches():
            for r in self.journal.batch_rows(batch):
                batch_of[r] = batch
        minted = tuple(MintedRow(r.row, r.file, r.name, tokens[r.row], uploaded[r.row][0], uploaded[r.row][1],
                                 mint_tx.get(batch_of.get(r.row, -1)),
                                 ctx.prices.get(r.row) if r.row in listed else None)
                       for r in ctx.rows if r.row in tokens)
        return BatchReport(ctx.target.chain_id, ctx.target.address, self.journal.path, len(ctx.rows), minted,
                           tuple(t for t in txs if t.state in (LANDED, FAILED)), tuple(self.problems))
