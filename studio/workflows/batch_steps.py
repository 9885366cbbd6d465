"""The steps of one batch run, after its checks: the journal's replay, the mint pipeline, then the
royalties and listings. :func:`studio.workflows.batch.batch_mint` runs them in that order over one
:class:`RunContext`.

Exactly once: every transaction goes through :class:`~studio.workflows.batch_send.JournaledSends`
(journaled before broadcast); a batch is recorded only once the chain holds its commitment at the
token it names; a royalty or a listing found on chain is marked done, not sent again.
"""
from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from studio.errors import ChainError
from studio.library.db import UNSAVED, Collection, Library, Token, Work
from studio.workflows.batch_journal import SENT, SIGNED, Journal, JournalTx, check_cancel, crash_point
from studio.workflows.batch_manifest import ManifestRow
from studio.workflows.batch_send import JournaledSends
from studio.workflows.batch_uploads import BatchUploads, embedded_manifest

if TYPE_CHECKING:
    from studio.cancel import Cancellable
    from studio.chain.content import Commitment
    from studio.chain.contracts import CollectionContract
    from studio.chain.transactions import Connection, TxReceipt


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass
class RunContext:
    """What every step of one run shares: the rows, the collection, the journal, the sends, and the
    counts the progress line shows (``emit(stage, line)`` reports them)."""

    rows: list[ManifestRow]
    target: Collection
    contract: "CollectionContract"
    account: str  # the signer's address: the collection's owner, who receives the tokens
    journal: Journal
    library: Library
    sends: JournaledSends
    uploads: BatchUploads
    prices: dict[int, int | None]  # row → listing price in wei (None: not listed)
    cancel: "Cancellable | None"
    emit: Callable[[str, str], None]
    minted: int = 0
    listed: int = 0

    def __post_init__(self) -> None:
        self.by_row = {r.row: r for r in self.rows}

    def retry(self, call: Callable[[], Any], action: str) -> Any:
        """The node, tried again under the run's policy."""
        return self.sends.sender.retrying(call, action)


# ---- the journal's replay


def replay_journal(ctx: RunContext, mints: "MintPipeline") -> None:
    """Settle what earlier runs signed or sent, then record the batches the chain holds (a run killed
    between its mint landing and its recording), so that nothing is minted twice."""
    for tx in ctx.journal.txs(SIGNED, SENT):
        ctx.sends.settle(tx)
    batches = ctx.journal.batches()
    unminted = {digest: b for b, (_, digest, _, first) in batches.items() if first is None}
    if not unminted:
        return
    start = int(ctx.journal.meta("start_block") or 0)
    committed = ctx.retry(lambda: ctx.contract.content_commitments(from_block=start),
                          "Reading the collection's mints")
    for content in committed:
        batch = unminted.pop(content.digest, None)
        if batch is not None and content.directory:
            mints.record_batch(batch, content.first_token_id, content.tx_hash)


# ---- the mint pipeline


class MintPipeline:
    """Uploads rows on a pool while earlier batches mint; each batch's folder is stored, journaled
    and minted in one transaction, and recorded when the chain holds its commitment."""

    def __init__(self, ctx: RunContext, *, batch_size: int, upload_workers: int) -> None:
        self.ctx = ctx
        self.batch_size = batch_size
        self.upload_workers = max(1, upload_workers)

    def mint_all(self) -> None:
        from studio.chain.content import Commitment

        ctx = self.ctx
        batches = ctx.journal.batches()
        for batch, (_, digest, count, first) in batches.items():  # composed earlier, not on chain
            if first is None:
                self._mint(batch, Commitment(digest, True, count))
        assigned = {r for b in batches for r in ctx.journal.batch_rows(b)}
        waiting = [r for r in ctx.rows if r.row not in assigned]
        if not waiting:
            ctx.sends.drain(wait=True)
            return
        next_batch = max(batches, default=0) + 1
        with ThreadPoolExecutor(self.upload_workers, thread_name_prefix="batch-upload") as pool:
            futures: dict[int, Future] = {r.row: pool.submit(ctx.uploads.upload, r) for r in waiting}
            try:
                for chunk in chunks(waiting, self.batch_size):
                    files = [futures[r.row].result() for r in chunk]
                    check_cancel(ctx.cancel)
                    commitment = ctx.uploads.store_directory(files)
                    ctx.journal.add_batch(next_batch, [r.row for r in chunk], str(commitment.cid), commitment.digest)
                    self._mint(next_batch, commitment)
                    next_batch += 1
            except BaseException:
                for future in futures.values():
                    future.cancel()
                raise
        ctx.sends.drain(wait=True)

    def _mint(self, batch: int, commitment: "Commitment") -> None:
        ctx = self.ctx
        works = f"{commitment.count} works" if commitment.count != 1 else "a work"
        prepared = ctx.sends.sender.prepare_request(ctx.contract.mint_batch_tx(
            ctx.account, commitment, action=f"Minting {works} in {ctx.target.name}"))
        ctx.emit("mint", f"Sending batch {batch}")
        ctx.sends.track(ctx.sends.send("mint", batch, prepared, batch))

    def landed(self, tx: JournalTx, receipt: "TxReceipt") -> None:
        """A mint landed: record its batch at the first token it minted."""
        minted = self.ctx.contract.minted_in(receipt)
        if minted is None:
            raise ChainError(f"The mint {tx.hash} landed but minted nothing in {self.ctx.target.name}.")
        self.record_batch(tx.subject, minted.first_token_id, tx.hash)

    def record_batch(self, batch: int, first_token_id: int, tx_hash: str | None) -> None:
        """Check the chain holds this batch's commitment at ``first_token_id``, then record its tokens."""
        from studio.chain.content import Commitment

        ctx = self.ctx
        cid, digest, count, _ = ctx.journal.batches()[batch]
        commitment, index = ctx.retry(lambda: ctx.contract.content_of(first_token_id), "Reading a commitment")
        if commitment != Commitment(digest, True, 1) or index != 0:
            raise ChainError(f"Token {first_token_id} of {ctx.target.name} is not committed to batch {batch} "
                             f"({cid}); nothing more is sent.", hint="Check the collection on a block explorer.")
        ctx.journal.set_minted(batch, first_token_id)
        rows = [ctx.by_row[r] for r in ctx.journal.batch_rows(batch) if r in ctx.by_row]
        uploaded = ctx.journal.uploaded()
        with ctx.library.connect():  # a work the library knows (an avatar saved by the studio) is taken as
            # recorded: its file is not read again for its manifest
            works = [ctx.library.work_by_sha256(r.sha256) or ctx.library.add_work(
                Work(UNSAVED, str(r.file.resolve()), r.sha256, None, r.name, "", "", r.file.stat().st_mtime, r.width,
                     r.height), manifest_json=embedded_manifest(r)) for r in rows]
        now = time.time()
        positions = {r: p for p, r in enumerate(ctx.journal.batch_rows(batch))}
        ctx.library.record_tokens([Token(ctx.target.chain_id, ctx.target.address,
                                         first_token_id + positions[r.row], w.id, uploaded[r.row][1],
                                         uploaded[r.row][0], tx_hash, ctx.account, now)
                                   for r, w in zip(rows, works)])
        ctx.minted += count
        ctx.emit("mint", f"Batch {batch}: tokens {first_token_id}-{first_token_id + count - 1}")


# ---- after minting: royalties and listings


class Listings:
    """Per-token royalties that differ from the collection's, then listings of the priced rows on
    ``marketplace`` (approved first when needed)."""

    def __init__(self, ctx: RunContext, connection: "Connection", marketplace: str | None) -> None:
        self.ctx = ctx
        self.connection = connection
        self.marketplace = marketplace
        self.listings_sent = 0  # by this run (the crash seam counts these)

    def royalties(self) -> None:
        ctx = self.ctx
        tokens, done = ctx.journal.tokens(), ctx.journal.marked("royalty_done")
        receiver = ctx.target.royalty_receiver or ctx.account
        for row in ctx.rows:
            bps = row.royalty_bps
            if bps is None or bps == ctx.target.royalty_bps or row.row in done or row.row not in tokens:
                continue
            token_id = tokens[row.row]
            info = ctx.retry(lambda: ctx.contract.royalty_info(token_id, 10_000), "Reading a royalty")
            if info.amount_wei == bps:
                ctx.journal.mark_row(row.row, "royalty_done")
                continue
            prepared = ctx.sends.sender.prepare_request(ctx.contract.set_token_royalty_tx(token_id, receiver, bps))
            ctx.emit("royalty", f"Setting the royalty of token {token_id}")
            ctx.sends.track(ctx.sends.send("royalty", row.row, prepared, 0))
        ctx.sends.drain(wait=True)

    def list_all(self) -> None:
        from studio.chain.contracts import MarketplaceContract

        ctx = self.ctx
        tokens, listed = ctx.journal.tokens(), ctx.journal.marked("listed")
        todo = [r for r in ctx.rows if ctx.prices[r.row] is not None and r.row in tokens and r.row not in listed]
        if not todo:
            return
        market = MarketplaceContract(self.connection, self.marketplace or "")
        approved = ctx.retry(lambda: ctx.contract.is_approved_for_all(ctx.account, market.address),
                             "Reading the marketplace's approval")
        if not approved:
            prepared = ctx.sends.sender.prepare_request(ctx.contract.set_approval_for_all_tx(market.address))
            ctx.sends.track(ctx.sends.send("approve", 0, prepared, 0), block=True)
        tried = {t.subject for t in ctx.journal.txs() if t.kind == "list"}
        for row in todo:
            token_id = tokens[row.row]
            if row.row in tried:  # an earlier listing of it failed or was dropped: ask the chain
                listing = ctx.retry(lambda: market.listing(ctx.target.address, token_id), "Reading a listing")
                if listing is not None and listing.seller.lower() == ctx.account.lower():
                    ctx.journal.mark_row(row.row, "listed")
                    ctx.listed += 1
                    continue
            price = ctx.prices[row.row]
            if price is None:  # not in todo: only priced rows are listed
                continue
            prepared = ctx.sends.sender.prepare_request(market.list_tx(ctx.target.address, token_id, price))
            ctx.sends.track(ctx.sends.send("list", row.row, prepared, 0))
            self.listings_sent += 1
            crash_point("mid-listing", self.listings_sent)
        ctx.sends.drain(wait=True)

    def landed(self, tx: JournalTx) -> None:
        """A royalty or a listing landed: mark its row done."""
        if tx.kind == "royalty":
            self.ctx.journal.mark_row(tx.subject, "royalty_done")
        elif tx.kind == "list":
            self.ctx.journal.mark_row(tx.subject, "listed")
            self.ctx.listed += 1
            self.ctx.emit("list", f"Listed row {tx.subject}")
