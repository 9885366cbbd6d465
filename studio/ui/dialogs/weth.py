"""Wrap ETH into WETH, or unwrap WETH back into ETH, for the acting account: an amount (Max fills in
the balance less the gas, or all the WETH), Review… prepares it and opens the one transaction
preview, and only an accepted preview is signed, sent and waited for. Errors stay in the dialog."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, \
    QVBoxLayout, QWidget

from studio.errors import StudioError
from studio.ui.dialogs.tx_preview import TxPreviewDialog
from studio.ui.dialogs.unlock import busy_bar, error_label, show_error
from studio.ui.money import format_eth, short_address
from studio.ui.state.wallet import SendOutcome, WalletState
from studio.ui.state.wallet_weth import WRAP
from studio.ui.workers import Job, error_message

if TYPE_CHECKING:
    from studio.chain.sender import PreparedTx


class WethDialog(QDialog):
    """Wrap (``kind`` "wrap") or unwrap ("unwrap") an amount for the wallet's acting account."""

    #: The preview dialog was opened (also kept in ``preview_dialog``).
    preview_shown = Signal(object)
    #: The transaction ended: a SendOutcome, or the exception that stopped it.
    send_finished = Signal(object)
    #: The person declined the preview; nothing was signed.
    preview_declined = Signal()
    #: Max filled the amount in (wei).
    max_filled = Signal(object)

    def __init__(self, state: WalletState, kind: str, parent: QWidget | None = None, *,
                 timeout: float = 120.0) -> None:
        super().__init__(parent)
        self.state, self.kind, self.timeout = state, kind, timeout
        self.account = state.current_account
        self.job: Job | None = None
        self.max_job: Job | None = None
        self.preview_dialog: TxPreviewDialog | None = None
        self.outcome: SendOutcome | None = None
        currency = state.network.currency
        wrap = kind == WRAP
        self.setWindowTitle(f"Wrap {currency} into WETH" if wrap else f"Unwrap WETH into {currency}")
        self.setMinimumWidth(480)

        row = state.account_row(self.account)
        self.balances = QLabel()
        self._show_balances()
        state.weth.line_changed.connect(self._show_balances)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("0.0")
        self.max_button = QPushButton("Max")
        self.max_button.setToolTip("The balance less the largest fee the wrap may cost" if wrap else "All the WETH")
        self.max_button.clicked.connect(self.fill_max)
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount, 1)
        amount_row.addWidget(QLabel(currency if wrap else "WETH"))
        amount_row.addWidget(self.max_button)
        explain = QLabel("Offers are made in WETH, one for one with ETH. Wrapping keeps some ETH back for the fee."
                         if wrap else "WETH turns back into ETH, one for one. Offers you made in WETH stop being "
                                      "fillable if it runs short.")
        explain.setWordWrap(True)
        explain.setProperty("muted", True)
        form = QFormLayout()
        form.addRow("Network", QLabel(state.network.name + ("  ·  MAINNET: real money"
                                                            if state.network.is_mainnet else "")))
        form.addRow("Account", QLabel(f"{row.name}  ·  {short_address(row.address)}"))
        form.addRow("Holds", self.balances)
        form.addRow("Amount", amount_row)

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
        layout.addWidget(explain)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def _show_balances(self, *_: object) -> None:
        row = self.state.account_row(self.account)
        self.balances.setText(f"{format_eth(row.balance_wei, self.state.network.currency)}  ·  "
                              f"{format_eth(self.state.weth.held(self.account), 'WETH')}")

    def fill_max(self) -> None:
        show_error(self.error, "")
        try:
            job = self.state.weth.max_amount(self.kind, account=self.account)
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        self.max_button.setEnabled(False)
        job.to(self).succeeded.connect(self._on_max)
        job.to(self).failed.connect(lambda exc: show_error(self.error, error_message(exc)))
        job.to(self).ended.connect(lambda: self.max_button.setEnabled(True))
        self.max_job = job

    def _on_max(self, wei: int) -> None:
        self.amount.setText(format_eth(wei, "", exact=True).strip().replace(",", ""))
        self.max_filled.emit(wei)

    # -- review → preview → send and wait -------------------------------------------------------

    def review(self) -> None:
        if self.job is not None:
            return
        show_error(self.error, "")
        try:
            job = self.state.weth.prepare(self.kind, self.amount.text(), account=self.account)
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        self._run(job, "Checking the balance, simulating and estimating the fee…")
        job.to(self).succeeded.connect(self._show_preview)
        job.to(self).failed.connect(self._on_failed)

    def _run(self, job: Job, text: str) -> None:
        self.job = job
        self._set_busy(True)
        self.status.setText(text)
        job.to(self).progressed.connect(lambda update: self.status.setText(update[1]))

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        for widget in (self.review_button, self.amount, self.max_button):
            widget.setEnabled(not busy)

    def _show_preview(self, prepared: "PreparedTx") -> None:
        self.job = None
        self.status.setText("Read the preview.")
        dialog = TxPreviewDialog(prepared.preview, self, currency=self.state.network.currency, editable_gas=True)
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
            job = self.state.send(prepared, confirmed=dialog.confirmed, timeout=self.timeout, gas=dialog.gas_settings)
        except StudioError as exc:
            self._on_failed(exc)
            return
        self._run(job, "Signing and sending…")
        job.to(self).succeeded.connect(self._on_sent)
        job.to(self).failed.connect(self._on_failed)

    def _on_sent(self, outcome: SendOutcome) -> None:
        self.job = None
        self.outcome = outcome
        self._set_busy(False)
        receipt, currency = outcome.receipt, self.state.network.currency
        done = "Wrapped" if self.kind == WRAP else "Unwrapped"
        self.status.setText(f"{done}: confirmed in block {receipt.block_number}, fee "
                            f"{format_eth(receipt.fee_wei, currency, exact=True)}.\nTransaction {receipt.tx_hash}")
        self.amount.clear()
        self.send_finished.emit(outcome)

    def _on_failed(self, exc: BaseException) -> None:
        self.job = None
        self._set_busy(False)
        self.status.setText("")
        show_error(self.error, error_message(exc))
        self.send_finished.emit(exc)

    def done(self, result: int) -> None:
        if self.job is not None:  # a send is under way: its outcome must be seen
            self.status.setText("Wait for the transaction to finish before closing.")
            return
        super().done(result)
