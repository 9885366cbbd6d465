"""A batch's transactions, journaled: each is signed, recorded in the journal, and only then
broadcast; up to ``max_in_flight`` wait for their receipts at once, each recorded as it lands.

What an earlier run signed or sent is replayed through :meth:`JournaledSends.settle`: a
transaction that landed is recorded; a pending one is waited for; one the node does not know is
broadcast again *as signed* (same nonce), never re-made with a new nonce while the first may still
land; one whose nonce the account has used for something else can never land and is retired.
"""
from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Callable

from studio.errors import Cancelled, NetworkError
from studio.workflows.batch_journal import (CANCELLED_TEXT, DROPPED, FAILED, LANDED, SENT, Journal, JournalTx,
                                            check_cancel, crash_point)

if TYPE_CHECKING:
    from studio.cancel import Cancellable
    from studio.chain.sender import PreparedTx, SignedTx, TxSender
    from studio.chain.transactions import TxReceipt

#: Called with each transaction that landed and succeeded, after the journal recorded it.
Landed = Callable[[JournalTx, "TxReceipt"], None]


class JournaledSends:
    """Sends through the one path of :class:`~studio.chain.sender.TxSender`, journaling the signed
    bytes between signing and broadcasting, and keeps the transactions in flight."""

    def __init__(self, sender: "TxSender", journal: Journal, *, max_in_flight: int, timeout: float,
                 cancel: "Cancellable | None", emit: Callable[[str, str], None], problems: list[str]) -> None:
        self.sender = sender
        self.journal = journal
        self.max_in_flight = max(1, max_in_flight)
        self.timeout = timeout
        self.cancel = cancel
        self.emit = emit
        self.problems = problems  # a reverted transaction is said here; the run goes on
        self.in_flight: deque[JournalTx] = deque()
        self.on_landed: Landed = lambda _tx, _receipt: None

    def send(self, kind: str, subject: int, prepared: "PreparedTx", crash_number: int) -> JournalTx:
        """Sign, journal, broadcast; the crash seam's ``after-sign`` and ``after-send`` steps are mints'."""
        check_cancel(self.cancel)
        journaled: list[tuple[int, "SignedTx"]] = []

        def journal(signed: "SignedTx") -> None:
            journaled.append((self.journal.record_signed(kind, subject, signed.raw, signed.tx_hash, signed.nonce),
                              signed))
            if kind == "mint":
                crash_point("after-sign", crash_number)

        self.sender.send(prepared, confirmed=True, on_signed=journal)
        tx_id, signed = journaled[0]
        self.journal.set_tx(tx_id, SENT)
        if kind == "mint":
            crash_point("after-send", crash_number)
        return JournalTx(tx_id, kind, subject, signed.raw.hex(), signed.tx_hash, signed.nonce, SENT, None, None)

    def track(self, tx: JournalTx, *, block: bool = False) -> None:
        """Keep ``tx`` in flight; record every receipt that has arrived (waiting when too many are out)."""
        self.in_flight.append(tx)
        self.drain(wait=block)

    def drain(self, *, wait: bool) -> None:
        """Record the receipts of the transactions in flight, oldest first: all of them when ``wait``."""
        while self.in_flight:
            head = self.in_flight[0]
            must_wait = wait or len(self.in_flight) > self.max_in_flight
            receipt = self.wait(head) if must_wait else self.sender.receipt(head.hash)
            if receipt is None:
                return
            self.in_flight.popleft()
            self._landed(head, receipt)

    def wait(self, tx: JournalTx) -> "TxReceipt":
        from studio.chain.sender import StillPending

        try:
            return self.sender.wait(tx.hash, timeout=self.timeout, poll=0.05, cancel=self.cancel, check=False)
        except Cancelled as exc:
            raise Cancelled(CANCELLED_TEXT) from exc
        except StillPending as exc:
            raise NetworkError(f"The transaction {tx.hash} (nonce {tx.nonce}) was not mined within {self.timeout:g} s.",
                               hint="It may still be mined; running the command again waits for it and never sends "
                                    "it with a new nonce.") from exc

    def settle(self, tx: JournalTx) -> None:
        """What became of a transaction an earlier run signed: landed, pending, or unknown to the node."""
        receipt = self.sender.receipt(tx.hash)
        if receipt is None:
            if not self.sender.is_known(tx.hash):
                if self.sender.nonce_taken(tx.hash, tx.nonce):  # it can never land
                    self.journal.set_tx(tx.id, DROPPED, error=f"nonce {tx.nonce} was used by another transaction")
                    return
                self.emit("mint", f"Broadcasting {tx.hash} again (nonce {tx.nonce}, as signed)")
                self.sender.rebroadcast(bytes.fromhex(tx.raw))
                self.journal.set_tx(tx.id, SENT)
            receipt = self.wait(tx)
        self._landed(tx, receipt)

    def _landed(self, tx: JournalTx, receipt: "TxReceipt") -> None:
        if not receipt.succeeded:
            self.journal.set_tx(tx.id, FAILED, block=receipt.block_number, gas_used=receipt.gas_used,
                                fee_wei=receipt.fee_wei, error="reverted")
            self.problems.append(f"The {tx.kind} transaction {tx.hash} reverted.")
            return
        self.journal.set_tx(tx.id, LANDED, block=receipt.block_number, gas_used=receipt.gas_used,
                            fee_wei=receipt.fee_wei)
        self.on_landed(tx, receipt)
