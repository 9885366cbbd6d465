"""The collection dialog: deploy a new StudioCollection from the selected account, or import one by address.

New: name, symbol, royalty receiver (the current account unless changed) and percentage, a
description and a cover image → the deployment is simulated in the background → the preview
dialog → only an accepted preview is deployed, with progress. Import: an address, checked to be a
studio collection. Errors stay in the dialog; a locked wallet offers the unlock dialog first.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPlainTextEdit, QPushButton, QTabWidget, QVBoxLayout, QWidget)

from studio.errors import StudioError, WalletLocked
from studio.library.db import Collection, Library
from studio.text import printable
from studio.ui.binding import Bindings
from studio.ui.dialogs.tx_preview import TxPreviewDialog
from studio.ui.dialogs.unlock import UnlockDialog, busy_bar, error_label, show_error
from studio.ui.money import short_address
from studio.ui.state.collection import CollectionDraft, CollectionState
from studio.ui.state.mint import StoreFactory
from studio.ui.state.wallet import WalletState
from studio.ui.workers import Job, JobState

if TYPE_CHECKING:
    from studio.chain.transactions import TxPreview

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp);;All files (*)"
NEW_TAB, IMPORT_TAB = 0, 1


class CollectionDialog(QDialog):
    """Create or import a collection; accepted once it is in the library (``collection`` holds it)."""

    #: The preview dialog was opened (also kept in ``preview_dialog``).
    preview_shown = Signal(object)
    #: The person declined the preview; nothing was deployed.
    preview_declined = Signal()
    #: The unlock dialog was opened because the wallet was locked (also kept in ``unlock_dialog``).
    unlock_shown = Signal(object)
    #: Deploying or importing ended: the Collection, or the exception that stopped it.
    finished_with = Signal(object)

    def __init__(self, wallet: WalletState, library: Library, parent: QWidget | None = None, *,
                 store_factory: StoreFactory | None = None) -> None:
        super().__init__(parent)
        self.wallet = wallet
        self.state = CollectionState(wallet, library, store_factory=store_factory, parent=self)
        self.collection: Collection | None = None
        self.preview_dialog: TxPreviewDialog | None = None
        self.unlock_dialog: UnlockDialog | None = None
        self.setWindowTitle("Collection")
        self.setMinimumWidth(560)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_new(), "New collection")
        self.tabs.addTab(self._build_import(), "Import by address")
        network = QLabel(f"On {wallet.network.name}" + ("  ·  MAINNET: real money" if wallet.network.is_mainnet
                                                          else ""))
        network.setProperty("muted", True)

        self.error = error_label()
        self.busy = busy_bar()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setProperty("muted", True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.go_button = self.buttons.addButton("Review and deploy…", QDialogButtonBox.ButtonRole.ActionRole)
        self.go_button.setProperty("accent", True)
        self.go_button.setDefault(True)
        self.go_button.clicked.connect(self.go)
        self.buttons.rejected.connect(self.reject)
        self.tabs.currentChanged.connect(self._on_tab)

        layout = QVBoxLayout(self)
        layout.addWidget(network)
        layout.addWidget(self.tabs)
        layout.addWidget(self.error)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.bindings = Bindings(self)
        self._bind()

    def _bind(self) -> None:
        state, b = self.state, self.bindings
        b.bind(state, "busy", None, self._set_busy)
        b.bind(state, "progress_text", None, lambda text: self.status.setText(printable(text)))
        b.bind(state, "error", None, lambda text: show_error(self.error, text))

    def _build_new(self) -> QWidget:
        page = QWidget()
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Dawns")
        self.symbol = QLineEdit()
        self.symbol.setPlaceholderText("e.g. DAWN")
        self.symbol.setMaxLength(11)
        self.receiver = QLineEdit()
        self.receiver.setPlaceholderText("0x… (empty: the current account)")
        self.receiver.setText(self.state.default_receiver)
        self.royalty = QDoubleSpinBox()
        self.royalty.setRange(0.0, 10.0)
        self.royalty.setDecimals(2)
        self.royalty.setSingleStep(0.5)
        self.royalty.setSuffix(" %")
        self.royalty.setValue(5.0)
        self.royalty.setToolTip("Paid to the receiver on every resale through a marketplace that honours "
                                "EIP-2981 (at most 10 %).")
        self.description = QPlainTextEdit()
        self.description.setPlaceholderText("A line or two about the collection (kept in the studio's library)")
        self.description.setMaximumHeight(70)
        self.image = QLineEdit()
        self.image.setPlaceholderText("Optional cover image")
        self.choose_image = QPushButton("Choose…")
        self.choose_image.clicked.connect(self._choose_image)
        image_row = QHBoxLayout()
        image_row.addWidget(self.image, 1)
        image_row.addWidget(self.choose_image)
        owner = QLabel(f"Deployed from {short_address(self.wallet.current_account) or 'the selected account'}, "
                       "which will own it: only that account can mint into it.")
        owner.setWordWrap(True)
        owner.setProperty("muted", True)
        form = QFormLayout(page)
        form.addRow("Name", self.name)
        form.addRow("Symbol", self.symbol)
        form.addRow("Royalty", self.royalty)
        form.addRow("Royalty to", self.receiver)
        form.addRow("Description", self.description)
        form.addRow("Image", image_row)
        form.addRow(owner)
        return page

    def _build_import(self) -> QWidget:
        page = QWidget()
        self.address = QLineEdit()
        self.address.setPlaceholderText("0x… address of a collection deployed by Provenance Studio")
        self.import_description = QLineEdit()
        self.import_description.setPlaceholderText("Optional note kept in the library")
        form = QFormLayout(page)
        form.addRow("Address", self.address)
        form.addRow("Note", self.import_description)
        hint = QLabel("The studio checks that the contract is a StudioCollection before remembering it.")
        hint.setWordWrap(True)
        hint.setProperty("muted", True)
        form.addRow(hint)
        return page

    def _on_tab(self, index: int) -> None:
        self.go_button.setText("Review and deploy…" if index == NEW_TAB else "Import")
        show_error(self.error, "")

    def _choose_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a cover image", "", IMAGE_FILTER)
        if path:
            self.image.setText(path)

    def draft(self) -> CollectionDraft:
        image = self.image.text().strip()
        return CollectionDraft(self.name.text(), self.symbol.text(), self.receiver.text(), self.royalty.value(),
                               self.description.toPlainText(), Path(image) if image else None)

    # -- the flow --------------------------------------------------------------------------

    def go(self) -> None:
        """New: validate and simulate, then the preview. Import: check the address on the chain."""
        if self.state.busy:
            return
        show_error(self.error, "")
        try:
            if self.tabs.currentIndex() == IMPORT_TAB:
                job = self.state.import_collection(self.address.text(), self.import_description.text())
                job.to(self).succeeded.connect(self._on_done)
                job.to(self).failed.connect(self.finished_with.emit)
                return
            draft = self.draft()
            job = self.state.preview(draft)
        except WalletLocked:
            self._offer_unlock()
            return
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        job.to(self).succeeded.connect(lambda preview: self._show_preview(draft, preview))
        job.to(self).failed.connect(self.finished_with.emit)

    def _offer_unlock(self) -> None:
        dialog = UnlockDialog(self.wallet, self, reason="The wallet is locked. Enter its password to deploy "
                                                        "the collection from your account.")
        self.unlock_dialog = dialog
        dialog.accepted.connect(self.go)
        dialog.open()
        self.unlock_shown.emit(dialog)

    def _show_preview(self, draft: CollectionDraft, preview: "TxPreview") -> None:
        self.status.setText("Read the preview: nothing is deployed until you sign.")
        dialog = TxPreviewDialog(preview, self, currency=self.wallet.network.currency,
                                 accept_text="Sign and deploy")
        self.preview_dialog = dialog
        dialog.finished.connect(lambda result: self._on_preview_finished(draft, result))
        dialog.open()
        self.preview_shown.emit(dialog)

    def _on_preview_finished(self, draft: CollectionDraft, result: int) -> None:
        if result != QDialog.DialogCode.Accepted:
            self.status.setText("Not deployed: the preview was declined, nothing was signed.")
            self.preview_declined.emit()
            return
        try:
            job = self.state.create(draft)
        except StudioError as exc:
            show_error(self.error, str(exc))
            self.finished_with.emit(exc)
            return
        job.to(self).succeeded.connect(self._on_done)
        job.to(self).failed.connect(self.finished_with.emit)

    def _on_done(self, collection: Collection) -> None:
        self.collection = collection
        self.finished_with.emit(collection)
        self.accept()

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.tabs.setEnabled(not busy)
        self.go_button.setEnabled(not busy)

    @property
    def job(self) -> Job | None:
        return self.state.job

    def done(self, result: int) -> None:
        job = self.state.job
        if job is not None and job.state in (JobState.PENDING, JobState.RUNNING):  # seen to its end
            self.status.setText("Wait for the deployment to finish before closing.")
            return
        super().done(result)
