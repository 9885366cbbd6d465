"""The flow every dialog that sends one transaction from the wallet follows: Max, then review (checks,
simulation and fee in the background), the preview, then sign, send and wait; the dialog cannot be
closed while a send is under way, so its outcome is always seen. Send and Wrap/Unwrap are such dialogs.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QLayout, QLineEdit, QProgressBar, QPushButton,
                               QVBoxLayout, QWidget)

from studio.errors import StudioError
from studio.ui.binding import Bindings
from studio.ui.dialogs.tx_preview import TxPreviewDialog
from studio.ui.dialogs.unlock import busy_bar, error_label, main_button, show_error, status_label
from studio.ui.money import format_eth
from studio.ui.state.wallet import WalletState
from studio.ui.state.wallet_send import SendOutcome
from studio.ui.workers import Job, error_message

if TYPE_CHECKING:
    from studio.chain.sender import PreparedTx


class PreviewedSendDialog(QDialog):
    """A dialog that sends one transaction through the preview. Subclasses build the widgets named
    below and say how to start the Max and the review jobs, which widgets a send disables and what
    a confirmed send reads as."""

    #: The preview dialog was opened (it is also kept in ``preview_dialog``).
    preview_shown = Signal(object)
    #: Sending ended: a SendOutcome, or the exception that stopped it.
    send_finished = Signal(object)
    #: The person declined the preview; nothing was signed.
    preview_declined = Signal()
    #: Max filled the amount in (wei).
    max_filled = Signal(object)

    # built by the subclass
    amount: QLineEdit
    max_button: QPushButton
    # built by `_lay_out`
    review_button: QPushButton
    busy: QProgressBar
    status: QLabel
    error: QLabel
    buttons: QDialogButtonBox

    def __init__(self, state: WalletState, parent: QWidget | None = None, *, timeout: float = 120.0) -> None:
        super().__init__(parent)
        self.state = state
        self.bindings = Bindings(self)  # each dialog's connections to the wallet, dropped with the dialog
        self.timeout = timeout
        self.job: Job | None = None
        self.max_job: Job | None = None
        self.preview_dialog: TxPreviewDialog | None = None
        self.outcome: SendOutcome | None = None

    def _lay_out(self, *parts: QWidget | QLayout) -> None:
        """Stack the dialog's own ``parts`` (its form) above what every such dialog has: the error line,
        the busy bar, the status line and Close beside Review…"""
        self.error, self.busy, self.status = error_label(), busy_bar(), status_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.review_button = main_button(self.buttons, "Review…", QDialogButtonBox.ButtonRole.ActionRole)
        self.review_button.clicked.connect(self.review)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for part in (*parts, self.error, self.busy, self.status, self.buttons):
            if isinstance(part, QLayout):
                layout.addLayout(part)
            else:
                layout.addWidget(part)

    # -- what each dialog says --------------------------------------------------------------------

    def _start_max(self) -> Job:
        """The job that finds the most that can be sent (raises StudioError on bad input)."""
        raise NotImplementedError

    def _start_review(self) -> tuple[Job, str]:
        """The job that prepares the transaction, and the line shown meanwhile."""
        raise NotImplementedError

    def _busy_widgets(self) -> tuple[QWidget, ...]:
        return (self.review_button, self.amount, self.max_button)

    def _sent_text(self, outcome: SendOutcome) -> str:
        """The first line shown once the transaction is confirmed."""
        raise NotImplementedError

    # -- Max ------------------------------------------------------------------------------------

    def fill_max(self) -> None:
        """Ask for the most that can be sent and put it in the amount."""
        show_error(self.error, "")
        try:
            job = self._start_max()
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
        """Validate, then simulate and estimate in the background; the preview opens when ready."""
        if self.job is not None:
            return
        show_error(self.error, "")
        try:
            job, text = self._start_review()
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        self._run(job, text)
        job.to(self).succeeded.connect(self._show_preview)
        job.to(self).failed.connect(self._on_failed)

    def _run(self, job: Job, text: str) -> None:
        self.job = job
        self._set_busy(True)
        self.status.setText(text)
        job.to(self).progressed.connect(lambda update: self.status.setText(update[1]))

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        for widget in self._busy_widgets():
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
            job = self.state.transfers.send(prepared, confirmed=dialog.confirmed, timeout=self.timeout,
                                            gas=dialog.gas_settings)
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
        self.status.setText(f"{self._sent_text(outcome)}: confirmed in block {receipt.block_number}, fee "
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
