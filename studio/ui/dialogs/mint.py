"""The mint dialog: from selected works to tokens, one page per step.

Form (collection, and per work: name, description, traits, license, royalty) → Summary (storage
backend, the CIDs computed locally, the estimated fee) → Mint: uploading, minting, waiting, with
Cancel; the transaction's preview opens before anything is signed → Result (token ids,
transaction, CIDs) or what failed and that the work can be minted again.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QComboBox, QDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QStackedWidget, QVBoxLayout, QWidget)

from studio.library.db import Library
from studio.paths import studio_paths
from studio.text import printable
from studio.ui.dialogs.mint_common import MintFlowDialog, muted_label, open_with_library, title_label
from studio.ui.dialogs.mint_form import WorkEditor
from studio.ui.dialogs.mint_pages import ProgressPage, ResultPage, SummaryPage, result_lines
from studio.ui.dialogs.tx_preview import TxPreviewDialog
from studio.ui.dialogs.unlock import busy_bar, error_label, show_error
from studio.ui.images import load_thumbnail
from studio.ui.money import short_address
from studio.ui.state.mint import DONE, ESTIMATING, FAILED, FORM, MINTING, SUMMARY, MintState, StoreFactory
from studio.ui.state.wallet import WalletState
from studio.workflows.library import thumbnail_path

if TYPE_CHECKING:
    from studio.chain.transactions import TxPreview
    from studio.library.db import Collection
    from studio.workflows.mint import MintResult

#: ``result_lines`` moved to mint_pages with the result page; importable from here as before.
__all__ = ["FORM_PAGE", "NEW_COLLECTION", "PROGRESS_PAGE", "RESULT_PAGE", "SUMMARY_PAGE", "MintDialog",
           "open_mint_dialog", "result_lines"]

NEW_COLLECTION = "__new__"
FORM_PAGE, SUMMARY_PAGE, PROGRESS_PAGE, RESULT_PAGE = range(4)
PAGES = {FORM: FORM_PAGE, ESTIMATING: FORM_PAGE, SUMMARY: SUMMARY_PAGE, MINTING: PROGRESS_PAGE, DONE: RESULT_PAGE,
         FAILED: RESULT_PAGE}


class MintDialog(MintFlowDialog):
    """Mint the given works into one of the network's collections."""

    #: The transaction's preview was opened (also kept in ``preview_dialog``).
    preview_shown = Signal(object)
    #: “List now” at the end of a mint: the minted tokens, as [(owner, chain id, collection, token id)].
    list_requested = Signal(object)

    def __init__(self, wallet: WalletState, library: Library, work_ids: Sequence[int],
                 parent: QWidget | None = None, *, store_factory: StoreFactory | None = None) -> None:
        super().__init__(wallet, library, parent, store_factory=store_factory)
        self.state = MintState(wallet, library, work_ids, store_factory=store_factory, parent=self)
        self.preview_dialog: TxPreviewDialog | None = None
        self._current = -1
        count = len(self.state.drafts)
        self.setWindowTitle(f"Mint {count} work{'s' if count != 1 else ''}")
        self.setMinimumSize(860, 600)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_form())
        self.summary_page, self.progress_page, self.result_page = SummaryPage(), ProgressPage(), ResultPage()
        self.pages.addWidget(self.summary_page)
        self.pages.addWidget(self.progress_page)
        self.pages.addWidget(self.result_page)
        # the pages' widgets, by the names scripts and tests use
        summary, progress, result = self.summary_page, self.progress_page, self.result_page
        self.summary_labels, self.cid_table = summary.summary_labels, summary.cid_table
        self.back_button, self.mint_button = summary.back_button, summary.mint_button
        self.step_labels, self.progress_bar = progress.step_labels, progress.progress_bar
        self.progress_status, self.stop_button = progress.progress_status, progress.stop_button
        self.result_title, self.result_intro, self.result_text = result.result_title, result.result_intro, \
            result.result_text
        self.retry_button, self.edit_button, self.close_button = result.retry_button, result.edit_button, \
            result.close_button
        self.list_button = result.list_button
        self.error = error_label()
        self.notice = muted_label()
        self.notice.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(10)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.notice)
        layout.addWidget(self.error)
        self.bind()
        self.works.setCurrentRow(0)

    # -- building: the form ---------------------------------------------------------------------

    def _build_form(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(8)
        column.addWidget(title_label("Mint"))
        account = short_address(self.wallet.current_account) or "no account"
        column.addWidget(muted_label(f"From {account} on {self.wallet.network.name}. Each work becomes a token "
                                     "whose metadata (name, description, traits, license) is stored with the image."))

        self.collection_combo = QComboBox()
        self.collection_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.collection_combo.setMinimumContentsLength(30)
        row = QHBoxLayout()
        row.addWidget(QLabel("Collection"))
        row.addWidget(self.collection_combo, 1)
        column.addLayout(row)

        self.works = QListWidget()
        self.works.setIconSize(QSize(72, 72))
        self.works.setFixedWidth(220)
        self.works.setSpacing(2)
        cache = studio_paths().cache_dir
        for draft in self.state.drafts:
            cached = thumbnail_path(cache, draft.work.sha256)  # the Gallery's, when it made one
            pixmap = QPixmap.fromImage(load_thumbnail(cached if cached.is_file() else draft.path, 72))
            icon = QIcon(pixmap)
            icon.addPixmap(pixmap, QIcon.Mode.Selected)  # the picture itself, not tinted by the selection
            item = QListWidgetItem(icon, printable(draft.name))
            item.setToolTip(printable(draft.path))
            self.works.addItem(item)

        self.editor = WorkEditor()
        editor = self.editor
        # the editor's fields, by the names scripts and tests use
        self.name_edit, self.description_edit, self.traits = editor.name_edit, editor.description_edit, editor.traits
        self.license_combo, self.own_royalty, self.royalty = editor.license_combo, editor.own_royalty, editor.royalty

        middle = QHBoxLayout()
        middle.addWidget(self.works)
        middle.addWidget(editor, 1)
        column.addLayout(middle, 1)

        self.form_busy = busy_bar()
        self.form_status = muted_label()
        self.cancel_button = QPushButton("Cancel")
        self.next_button = QPushButton("Next: summary")
        self.next_button.setProperty("accent", True)
        self.next_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.form_status, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.next_button)
        column.addWidget(self.form_busy)
        column.addLayout(buttons)
        return page

    # -- binding ---------------------------------------------------------------------------------

    def bind(self) -> None:
        """Every connection between these widgets and the view-model, in one place (dropped with the
        dialog)."""
        state, b = self.state, self.bindings
        self.bind_collections()
        b.connect(self.collection_combo.activated, self._on_collection_chosen)
        b.connect(self.works.currentRowChanged, self._show_draft)
        b.connect(self.editor.edited, self._save_editor)
        b.connect(self.cancel_button.clicked, self.reject)
        b.connect(self.next_button.clicked, self.next)
        b.connect(self.back_button.clicked, state.back_to_form)
        b.connect(self.mint_button.clicked, self.mint)
        b.connect(self.stop_button.clicked, state.cancel)
        b.connect(self.retry_button.clicked, self.mint)
        b.connect(self.edit_button.clicked, state.back_to_form)
        b.connect(self.close_button.clicked, self.accept)
        b.connect(self.list_button.clicked, self.list_now)

        b.connect(state.stage_changed, self._show_stage)
        b.connect(state.step_changed, self.progress_page.show_step)
        b.connect(state.busy_changed, self._show_busy)
        b.connect(state.progress_text_changed, self._show_progress_text)
        b.connect(state.progress_fraction_changed,
                  lambda fraction: self.progress_bar.setValue(int(max(0.0, fraction) * 1000)))
        b.connect(state.error_changed, lambda text: show_error(self.error, text))
        b.connect(state.notice_changed, self._show_notice)
        b.connect(state.estimated,
                  lambda estimate: self.summary_page.show_estimate(estimate, state.collection, self.wallet.network))
        b.connect(state.minted, self._show_result)
        b.connect(state.gate.requested, self._show_preview)
        self._show_stage(state.stage)
        self._show_busy(state.busy)
        show_error(self.error, state.error)  # e.g. works gone from the library since they were chosen

    # -- the form --------------------------------------------------------------------------------

    def _fill_collections(self, collections: list["Collection"]) -> None:
        self.collection_combo.clear()
        me = self.wallet.current_account.lower()
        for collection in collections:
            mine = "" if collection.owner.lower() == me else f"  ·  owned by {short_address(collection.owner)}"
            self.collection_combo.addItem(printable(f"{collection.name} ({collection.symbol})  ·  "  # from the chain
                                                    f"{short_address(collection.address)}{mine}"), collection.address)
            self.collection_combo.setItemData(self.collection_combo.count() - 1, collection.address,
                                              Qt.ItemDataRole.ToolTipRole)
        self.collection_combo.addItem("New collection…", NEW_COLLECTION)
        self._select_collection(self.state.collection_address)

    def _select_collection(self, address: str) -> None:
        index = self.collection_combo.findData(address) if address else -1
        self.collection_combo.setCurrentIndex(index)
        self.editor.show_collection(self.state.collection)

    def _on_collection_chosen(self, index: int) -> None:
        address = self.collection_combo.itemData(index)
        if address == NEW_COLLECTION:
            self._select_collection(self.state.collection_address)  # until the new one exists
            self.new_collection()
            return
        self.state.collection_address = address
        self._select_collection(address)

    def _show_draft(self, index: int) -> None:
        self._current = index
        if index >= 0:
            self.editor.show_draft(self.state.drafts[index], self.state.collection)

    def _save_editor(self, *_args: Any) -> None:
        """Write the editor's fields into the current work's draft."""
        if self._current < 0:
            return
        self.state.update_draft(self._current, **self.editor.values())
        item = self.works.item(self._current)
        if item is not None:
            item.setText(printable(self.name_edit.text()) or "(no name)")

    def set_traits(self, traits: Sequence[tuple[str, str]]) -> None:
        """Fill the current work's traits table (what typing in it does, for scripts and tests)."""
        self.editor.set_traits(traits)

    # -- the flow -------------------------------------------------------------------------------

    def next(self) -> None:
        """Form → summary: check the form, then compute the CIDs and the fee in the background."""
        self._save_editor()
        if self.unlocked_or_ask(self.next):
            self.state.estimate_mint()

    def mint(self) -> None:
        """Summary → minting: upload, show the preview, mint and wait."""
        if self.unlocked_or_ask(self.mint):
            self.state.mint()

    def _show_preview(self, preview: "TxPreview") -> None:
        dialog = TxPreviewDialog(preview, self, currency=self.wallet.network.currency, accept_text="Sign and mint",
                                 editable_gas=True)
        self.preview_dialog = dialog
        dialog.finished.connect(lambda result: self.state.answer_preview(
            result == QDialog.DialogCode.Accepted and dialog.confirmed, dialog.gas_settings))
        dialog.open()
        self.preview_shown.emit(dialog)

    # -- showing the state ----------------------------------------------------------------------

    def _show_stage(self, stage: str) -> None:
        self.pages.setCurrentIndex(PAGES[stage])
        if stage in (MINTING, DONE, FAILED):
            show_error(self.error, "")  # the failure page says it in full
        if stage == FAILED:
            self.result_page.show_failure(self.state.failure_sent, self.state.error)
        if stage in (FORM, SUMMARY):
            self.notice.setVisible(bool(self.state.notice))

    def _show_busy(self, busy: bool) -> None:
        estimating = busy and self.state.stage == ESTIMATING
        self.form_busy.setVisible(estimating)
        for widget in (self.next_button, self.collection_combo, self.works):
            widget.setEnabled(not estimating)
        self.editor.set_editing_enabled(not estimating)
        self.stop_button.setEnabled(busy)

    def _show_progress_text(self, text: str) -> None:
        self.form_status.setText(text if self.state.stage == ESTIMATING else "")
        self.progress_status.setText(text)

    def _show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def _show_result(self, result: "MintResult") -> None:
        names = {draft.work.id: draft.name.strip() for draft in self.state.drafts}
        self.result_page.show_result(result, self.wallet.network.currency, names)
        self.minted_tokens = [(m.token.owner, result.chain_id, result.collection, m.token.token_id)
                              for m in result.minted]
        self.list_button.setVisible(bool(self.minted_tokens))
        self.list_button.setDefault(bool(self.minted_tokens))
        self.close_button.setDefault(not self.minted_tokens)

    def list_now(self) -> None:
        """Close the mint and open the list flow for the tokens it minted."""
        tokens = list(getattr(self, "minted_tokens", []))
        if tokens:
            self.list_requested.emit(tokens)
            self.accept()

    # -- closing ----------------------------------------------------------------------------------

    def done(self, result: int) -> None:
        if self.job_running():
            self.notice.setText("Minting is under way: press Cancel to stop it before it is signed, or wait for "
                                "the transaction.")
            self.notice.setVisible(True)
            return
        self.state.gate.close()
        super().done(result)


def open_mint_dialog(wallet: WalletState, work_ids: Sequence[int], parent: QWidget | None = None, *,
                     library: Library | None = None) -> MintDialog:
    """Open the mint dialog for the library's works ``work_ids`` (the Create tab's and the Gallery's
    “Mint…”); a library opened here closes with it."""
    return open_with_library(lambda used: MintDialog(wallet, used, work_ids, parent), library)
