"""Signing a message (EIP-191): write it, review exactly what will be signed and by whom, sign,
and read the signature (not a secret: it can be copied)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QFrame, QHBoxLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget)

from studio.errors import StudioError
from studio.text import printable
from studio.ui.dialogs.unlock import busy_bar, error_label, show_error
from studio.ui.money import short_address
from studio.ui.state.wallet import WalletState
from studio.ui.workers import Job, error_message

if TYPE_CHECKING:
    from studio.chain.transactions import MessagePreview


class SignMessageDialog(QDialog):
    """Message → preview → signature."""

    def __init__(self, state: WalletState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.job: Job | None = None
        self.preview: "MessagePreview | None" = None
        self.setWindowTitle("Sign a message")
        self.setMinimumWidth(560)
        self.account_combo = QComboBox()
        for row in state.accounts.rows():
            self.account_combo.addItem(f"{row.name}  ·  {short_address(row.address)}", row.address)
        self.account_combo.setCurrentIndex(max(0, self.account_combo.findData(state.current_account)))
        self.message = QPlainTextEdit()
        self.message.setPlaceholderText("The text to sign, e.g. a statement that you made a work")
        self.message.setFixedHeight(110)
        self.review_button = QPushButton("Review")
        self.review_button.clicked.connect(self.review)

        self.preview_panel = QFrame()
        self.preview_panel.setObjectName("panel")
        self.preview_kind = QLabel()
        self.preview_signer = QLabel()
        self.preview_text = QPlainTextEdit()
        self.preview_text.setReadOnly(True)
        self.preview_text.setFixedHeight(90)
        preview_form = QFormLayout(self.preview_panel)
        preview_form.setContentsMargins(14, 10, 14, 10)
        preview_form.addRow("Kind", self.preview_kind)
        preview_form.addRow("Signer", self.preview_signer)
        preview_form.addRow("Message", self.preview_text)
        self.preview_panel.setVisible(False)

        self.signature = QLineEdit()
        self.signature.setReadOnly(True)
        self.signature.setPlaceholderText("The signature appears here")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.signature.text()))
        signature_row = QHBoxLayout()
        signature_row.addWidget(self.signature, 1)
        signature_row.addWidget(self.copy_button)

        self.error = error_label()
        self.busy = busy_bar()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.sign_button = self.buttons.addButton("Sign", QDialogButtonBox.ButtonRole.ActionRole)
        self.sign_button.setProperty("accent", True)
        self.sign_button.setEnabled(False)
        self.sign_button.clicked.connect(self.sign)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Account", self.account_combo)
        form.addRow("Message", self.message)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.review_button)
        layout.addWidget(self.preview_panel)
        layout.addWidget(self.error)
        layout.addWidget(self.busy)
        layout.addLayout(signature_row)
        layout.addWidget(self.buttons)
        # what was reviewed is what gets signed: any change asks for a new review
        self.message.textChanged.connect(self._invalidate)
        self.account_combo.currentIndexChanged.connect(self._invalidate)

    def _invalidate(self) -> None:
        self.preview = None
        self.preview_panel.setVisible(False)
        self.sign_button.setEnabled(False)

    def review(self) -> None:
        show_error(self.error, "")
        try:
            preview = self.state.transfers.preview_message(self.message.toPlainText(), self.account_combo.currentData())
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        self.preview = preview
        self.preview_kind.setText(preview.kind)
        self.preview_signer.setText(preview.signer)
        # a pasted message may hide bidi overrides or controls: show them, the bytes signed are unchanged
        self.preview_text.setPlainText(printable(preview.text or "", multiline=True))
        self.preview_panel.setVisible(True)
        self.sign_button.setEnabled(True)

    def sign(self) -> None:
        if self.preview is None or self.job is not None:
            return
        try:
            job = self.state.transfers.sign_message(self.preview.text or "", self.preview.signer)
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        self.job = job
        self.busy.setVisible(True)
        self.sign_button.setEnabled(False)
        job.to(self).succeeded.connect(self._on_signed)
        job.to(self).failed.connect(self._on_failed)

    def _on_signed(self, signature: str) -> None:
        self.job = None
        self.busy.setVisible(False)
        self.signature.setText(signature)
        self.copy_button.setEnabled(True)
        self.sign_button.setEnabled(True)

    def _on_failed(self, exc: BaseException) -> None:
        self.job = None
        self.busy.setVisible(False)
        self.sign_button.setEnabled(True)
        show_error(self.error, error_message(exc))
