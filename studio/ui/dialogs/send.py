"""The send dialog: recipient, amount in ETH and speed; Review simulates and shows the preview;
only an accepted preview is signed, sent and waited for, with progress. Errors (a revert, too
little balance, another chain behind the RPC) are shown in the dialog."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QVBoxLayout, QWidget)

from studio.errors import StudioError
from studio.ui.dialogs.tx_preview import TxPreviewDialog
from studio.ui.dialogs.unlock import busy_bar, error_label, show_error
from studio.ui.money import format_eth, short_address
from studio.ui.state.wallet import SPEEDS, SendOutcome, WalletState
from studio.ui.workers import Job, error_message

if TYPE_CHECKING:
    from studio.chain.sender import PreparedTx

SPEED_LABELS = {"slow": "Slow (lowest fee)", "normal": "Normal", "fast": "Fast (higher tip)"}


class SendDialog(QDialog):
    """Send ETH from one of the wallet's accounts."""

    #: The preview dialog was opened (it is also kept in ``preview_dialog``).
    preview_shown = Signal(object)
    #: Sending ended: a SendOutcome, or the exception that stopped it.
    send_finished = Signal(object)
    #: The person declined the preview; nothing was signed.
    preview_declined = Signal()

    def __init__(self, state: WalletState, parent: QWidget | None = None, *, timeout: float = 120.0) -> None:
        super().__init__(parent)
        self.state = state
        self.timeout = timeout
        self.job: Job | None = None
        self.preview_dialog: TxPreviewDialog | None = None
        self.outcome: SendOutcome | None = None
        currency = state.network.currency
        self.setWindowTitle(f"Send {currency}")
        self.setMinimumWidth(560)

        self.account_combo = QComboBox()
        self._fill_accounts(state.current_account)
        state.accounts.modelReset.connect(self._refill_accounts)  # balances after a send or a refresh
        self.recipient = QLineEdit()
        self.recipient.setPlaceholderText("0x… address of the recipient")
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("0.0")
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount, 1)
        amount_row.addWidget(QLabel(currency))
        self.speed = QComboBox()
        for speed in SPEEDS:
            self.speed.addItem(SPEED_LABELS[speed], speed)
        self.speed.setCurrentIndex(SPEEDS.index("normal"))
        network = QLabel(f"{state.network.name}" + ("  ·  MAINNET: real money" if state.network.is_mainnet else ""))
        form = QFormLayout()
        form.addRow("Network", network)
        form.addRow("From", self.account_combo)
        form.addRow("To", self.recipient)
        form.addRow("Amount", amount_row)
        form.addRow("Speed", self.speed)

        self.error = error_label()
        self.busy = busy_bar()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setProperty("muted", True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.review_button = self.buttons.addButton("Review…", QDialogButtonBox.ButtonRole.ActionRole)
        self.review_button.setProperty("accent", True)
        self.review_button.setDefault(True)
        self.review_button.clicked.connect(self.review)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def _fill_accounts(self, selected: str) -> None:
        """Each account with its balance as the wallet last read it; ``selected`` stays chosen."""
        currency = self.state.network.currency
        self.account_combo.clear()
        for row in self.state.accounts.rows():
            self.account_combo.addItem(f"{row.name}  ·  {short_address(row.address)}  ·  "
                                       f"{format_eth(row.balance_wei, currency)}", row.address)
        self.account_combo.setCurrentIndex(max(0, self.account_combo.findData(selected)))

    def _refill_accounts(self) -> None:
        self._fill_accounts(self.account_combo.currentData() or self.state.current_account)

    # -- the flow: review → preview → send and wait -------------------------------------------

    def review(self) -> None:
        """Validate, then simulate and estimate in the background; the preview opens when ready."""
        if self.job is not None:
            return
        show_error(self.error, "")
        try:
            job = self.state.prepare_send(self.recipient.text(), self.amount.text(),
                                          account=self.account_combo.currentData(), speed=self.speed.currentData())
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        self._run(job, "Simulating and estimating the fee…")
        job.succeeded.connect(self._show_preview)
        job.failed.connect(self._on_failed)

    def _run(self, job: Job, text: str) -> None:
        self.job = job
        self._set_busy(True)
        self.status.setText(text)
        job.progressed.connect(lambda update: self.status.setText(update[1]))

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        for widget in (self.review_button, self.recipient, self.amount, self.account_combo, self.speed):
            widget.setEnabled(not busy)

    def _show_preview(self, prepared: "PreparedTx") -> None:
        self.job = None
        self.status.setText("Read the preview.")
        dialog = TxPreviewDialog(prepared.preview, self, currency=self.state.network.currency)
        self.preview_dialog = dialog
        dialog.finished.connect(lambda result: self._on_preview_finished(prepared, dialog, result))
        dialog.open()
        self.preview_shown.emit(dialog)

    def _on_preview_finished(self, prepared: "PreparedTx", dialog: TxPreviewDialog, result: int) -> None:
        if result != QDialog.DialogCode.Accepted:
            self._set_busy(False)
            self.status.setText("Not sent: the preview was declined, nothing was signed.")
            self.preview_declined.emit()
            return
        try:
            job = self.state.send(prepared, confirmed=dialog.confirmed, timeout=self.timeout)
        except StudioError as exc:
            self._on_failed(exc)
            return
        self._run(job, "Signing and sending…")
        job.succeeded.connect(self._on_sent)
        job.failed.connect(self._on_failed)

    def _on_sent(self, outcome: SendOutcome) -> None:
        self.job = None
        self.outcome = outcome
        self._set_busy(False)
        receipt, currency = outcome.receipt, self.state.network.currency
        self.status.setText(f"Sent {format_eth(outcome.sent.preview.value_wei, currency)}: confirmed in block "
                            f"{receipt.block_number}, fee {format_eth(receipt.fee_wei, currency, exact=True)}.\n"
                            f"Transaction {receipt.tx_hash}")
        self.amount.clear()
        self.send_finished.emit(outcome)

    def _on_failed(self, exc: BaseException) -> None:
        self.job = None
        self._set_busy(False)
        self.status.setText("")
        show_error(self.error, error_message(exc))
        self.send_finished.emit(exc)

    def done(self, result: int) -> None:
        if self.job is not None:  # a signature or a send is under way: its outcome must be seen
            self.status.setText("Wait for the transaction to finish before closing.")
            return
        super().done(result)
