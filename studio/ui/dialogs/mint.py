"""The mint dialog: from selected works to tokens, one page per step.

Form (collection, and per work: name, description, traits, license, royalty) → Summary (storage
backend, the CIDs computed locally, the estimated fee) → Mint: uploading, minting, waiting, with
Cancel; the transaction's preview opens before anything is signed → Result (token ids,
transaction, CIDs) or what failed and that the work can be minted again.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QFormLayout, QFrame, QGridLayout, QHBoxLayout,
                               QHeaderView, QLabel, QListWidget, QListWidgetItem, QPlainTextEdit, QProgressBar,
                               QPushButton, QStackedWidget, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from studio.library.db import Library
from studio.text import printable
from studio.ui.dialogs.tx_preview import TxPreviewDialog
from studio.ui.dialogs.mint_common import (MintFlowDialog, muted_label, open_with_library, section_label,
                                           selectable_label, title_label)
from studio.ui.dialogs.mint_form import WorkEditor
from studio.ui.dialogs.unlock import busy_bar, error_label, show_error
from studio.ui.images import load_thumbnail
from studio.ui.state.mint import (DONE, ESTIMATING, FAILED, FORM, MINTING, RETRY_TEXT, SENT_TEXT, SENT_TITLE, STEPS,
                                  SUMMARY, MintState, StoreFactory)
from studio.ui.money import format_eth, short_address
from studio.ui.state.wallet import WalletState
from studio.ui import theme

if TYPE_CHECKING:
    from studio.chain.transactions import TxPreview
    from studio.library.db import Collection
    from studio.workflows.mint import MintEstimate, MintResult

NEW_COLLECTION = "__new__"
FORM_PAGE, SUMMARY_PAGE, PROGRESS_PAGE, RESULT_PAGE = range(4)
PAGES = {FORM: FORM_PAGE, ESTIMATING: FORM_PAGE, SUMMARY: SUMMARY_PAGE, MINTING: PROGRESS_PAGE, DONE: RESULT_PAGE,
         FAILED: RESULT_PAGE}


def result_lines(result: "MintResult", currency: str = "ETH", names: dict[Path, str] | None = None) -> list[str]:
    """The result page's text: each token (named as in the form, by file) with its CIDs, the
    transaction and its fee."""
    lines = []
    for minted in result.minted:
        token, path = minted.token, Path(minted.work.path)
        name = (names or {}).get(path.resolve()) or minted.work.title or path.name
        note = "  (minted by an earlier attempt)" if minted.recovered else ""
        lines += [f"Token {token.token_id}: {name}{note}",
                  f"    metadata  ipfs://{token.metadata_cid}", f"    image     ipfs://{token.media_cid}"]
    if result.tx_hash:
        lines.append(f"Transaction {result.tx_hash}")
    if result.fee_wei is not None:
        lines.append(f"Fee paid {format_eth(result.fee_wei, currency, exact=True)}")
    lines.append(f"Collection {result.collection} (chain {result.chain_id})")
    lines += [f"Warning: {problem}" for problem in result.problems]
    return lines


class MintDialog(MintFlowDialog):
    """Mint the given works into one of the network's collections."""

    #: The transaction's preview was opened (also kept in ``preview_dialog``).
    preview_shown = Signal(object)

    def __init__(self, wallet: WalletState, library: Library, paths: Sequence[Path], parent: QWidget | None = None,
                 *, store_factory: StoreFactory | None = None) -> None:
        super().__init__(wallet, library, parent, store_factory=store_factory)
        self.state = MintState(wallet, library, [Path(p) for p in paths], store_factory=store_factory, parent=self)
        self.preview_dialog: TxPreviewDialog | None = None
        self._current = -1
        count = len(self.state.drafts)
        self.setWindowTitle(f"Mint {count} work{'s' if count != 1 else ''}")
        self.setMinimumSize(860, 600)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_form())
        self.pages.addWidget(self._build_summary())
        self.pages.addWidget(self._build_progress())
        self.pages.addWidget(self._build_result())
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
        for draft in self.state.drafts:
            pixmap = QPixmap.fromImage(load_thumbnail(draft.path, 72))
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

    # -- building: summary, progress, result ----------------------------------------------------

    def _build_summary(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(8)
        column.addWidget(title_label("Summary"))
        column.addWidget(muted_label("Computed on this machine: nothing is uploaded or signed yet."))
        panel = QFrame()
        panel.setObjectName("panel")
        self.summary_form = QFormLayout(panel)
        self.summary_form.setContentsMargins(14, 12, 14, 12)
        self.summary_form.setHorizontalSpacing(18)
        self.summary_labels: dict[str, QLabel] = {}
        for key in ("Collection", "Network", "Storage", "Minted as", "Committed to", "Estimated fee"):
            label = selectable_label()
            self.summary_labels[key] = label
            key_label = QLabel(key)
            key_label.setProperty("muted", True)
            self.summary_form.addRow(key_label, label)
        column.addWidget(panel)
        self.cid_table = QTableWidget(0, 4)
        self.cid_table.setHorizontalHeaderLabels(["Work", "Token URI", "Image CID", "Metadata CID"])
        header = self.cid_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for section in (1, 2, 3):
            header.setSectionResizeMode(section, QHeaderView.ResizeMode.Stretch)
        self.cid_table.verticalHeader().setVisible(False)
        self.cid_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.cid_table.setWordWrap(False)
        self.cid_table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        column.addWidget(section_label("Tokens"))
        column.addWidget(self.cid_table, 1)
        self.summary_hint = muted_label("Mint… stores the files first, then shows the transaction for you to sign.")
        self.back_button = QPushButton("Back")
        self.mint_button = QPushButton("Mint…")
        self.mint_button.setProperty("accent", True)
        self.mint_button.setToolTip("Uploads the files, then shows the transaction to sign")
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary_hint, 1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.mint_button)
        column.addLayout(buttons)
        return page

    def _build_progress(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(10)
        column.addWidget(title_label("Minting"))
        self.step_labels: dict[str, QLabel] = {}
        grid = QGridLayout()
        for row, (key, text) in enumerate(STEPS.items()):
            label = QLabel(text)
            self.step_labels[key] = label
            grid.addWidget(label, row, 0)
        column.addLayout(grid)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_status = selectable_label()
        self.progress_status.setProperty("muted", True)
        column.addWidget(self.progress_bar)
        column.addWidget(self.progress_status)
        column.addStretch(1)
        self.stop_button = QPushButton("Cancel")
        self.stop_button.setToolTip("Stop before the transaction is signed; what was uploaded is kept")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)
        column.addLayout(buttons)
        return page

    def _build_result(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(8)
        self.result_title = title_label("")
        self.result_intro = selectable_label()
        self.result_text = QPlainTextEdit()
        self.result_text.setReadOnly(True)
        self.result_text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        column.addWidget(self.result_title)
        column.addWidget(self.result_intro)
        column.addWidget(self.result_text, 1)
        self.retry_button = QPushButton("Try again")
        self.retry_button.setProperty("accent", True)
        self.edit_button = QPushButton("Back to the form")
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.close_button)
        column.addLayout(buttons)
        return page

    # -- binding ---------------------------------------------------------------------------------

    def bind(self) -> None:
        """Every connection between these widgets and the view-model, in one place."""
        state = self.state
        self._fill_collections(state.collections)
        state.collections_changed.connect(self._fill_collections)
        state.collection_address_changed.connect(self._select_collection)
        self.collection_combo.activated.connect(self._on_collection_chosen)
        self.works.currentRowChanged.connect(self._show_draft)
        self.editor.edited.connect(self._save_editor)
        self.cancel_button.clicked.connect(self.reject)
        self.next_button.clicked.connect(self.next)
        self.back_button.clicked.connect(state.back_to_form)
        self.mint_button.clicked.connect(self.mint)
        self.stop_button.clicked.connect(state.cancel)
        self.retry_button.clicked.connect(self.mint)
        self.edit_button.clicked.connect(state.back_to_form)
        self.close_button.clicked.connect(self.accept)

        state.stage_changed.connect(self._show_stage)
        state.step_changed.connect(self._show_step)
        state.busy_changed.connect(self._show_busy)
        state.progress_text_changed.connect(self._show_progress_text)
        state.progress_fraction_changed.connect(
            lambda fraction: self.progress_bar.setValue(int(max(0.0, fraction) * 1000)))
        state.error_changed.connect(lambda text: show_error(self.error, text))
        state.notice_changed.connect(self._show_notice)
        state.estimated.connect(self._show_estimate)
        state.minted.connect(self._show_result)
        state.gate.requested.connect(self._show_preview)
        self._show_stage(state.stage)
        self._show_busy(state.busy)

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
        dialog = TxPreviewDialog(preview, self, currency=self.wallet.network.currency, accept_text="Sign and mint")
        self.preview_dialog = dialog
        dialog.finished.connect(lambda result: self.state.answer_preview(
            result == QDialog.DialogCode.Accepted and dialog.confirmed))
        dialog.open()
        self.preview_shown.emit(dialog)

    # -- showing the state ----------------------------------------------------------------------

    def _show_stage(self, stage: str) -> None:
        self.pages.setCurrentIndex(PAGES[stage])
        if stage in (MINTING, DONE, FAILED):
            show_error(self.error, "")  # the failure page says it in full
        if stage == FAILED:
            self._show_failure()
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

    def _show_step(self, step: str) -> None:
        keys = list(STEPS)
        current = keys.index(step) if step in keys else -1
        for index, key in enumerate(keys):
            label = self.step_labels[key]
            if index < current:
                label.setText(f"✓  {STEPS[key]}")
                label.setStyleSheet("")
            elif index == current:
                label.setText(f"▶  {STEPS[key]}…")
                label.setStyleSheet("font-weight: 600;")
            else:
                label.setText(f"○  {STEPS[key]}")
                label.setStyleSheet(f"color: {theme.MUTED};")

    def _show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def _show_estimate(self, estimate: "MintEstimate") -> None:
        state, currency = self.state, self.wallet.network.currency
        collection = state.collection
        labels = self.summary_labels
        labels["Collection"].setText(printable(f"{collection.name} ({collection.symbol})  {collection.address}")
                                     if collection else "")
        labels["Network"].setText(f"{self.wallet.network.name} (chain id {self.wallet.network.chain_id})")
        labels["Storage"].setText(f"{estimate.storage}: the image, then its metadata, are stored there before "
                                  "minting")
        count = len(estimate.tokens)
        labels["Minted as"].setText(f"a batch of {count} tokens in one transaction" if estimate.batch else
                                    "one token")
        labels["Committed to"].setText(f"ipfs://{estimate.commitment_cid}  (the folder of the tokens' metadata)"
                                       if estimate.batch else f"ipfs://{estimate.commitment_cid}  (its metadata)")
        fee = f"at most {format_eth(estimate.max_fee_wei, currency, exact=True)}"
        if estimate.royalty_transactions:
            fee += (f", plus {estimate.royalty_transactions} transaction"
                    f"{'s' if estimate.royalty_transactions != 1 else ''} for per-token royalties")
        labels["Estimated fee"].setText(fee)
        self.cid_table.setRowCount(count)
        for row, token in enumerate(estimate.tokens):
            for column, text in enumerate((token.name, token.token_uri, token.media_cid, token.metadata_cid)):
                item = QTableWidgetItem(printable(text))
                item.setToolTip(printable(text))
                self.cid_table.setItem(row, column, item)
        self.cid_table.resizeRowsToContents()

    def _show_result(self, result: "MintResult") -> None:
        count = len(result.minted)
        self.result_title.setText(f"Minted {count} token{'s' if count != 1 else ''}")
        self.result_title.setStyleSheet("")
        self.result_intro.setText("The tokens are recorded in the studio's library. Transaction, token ids and "
                                  "CIDs:")
        names = {draft.path.resolve(): draft.name.strip() for draft in self.state.drafts}
        self.result_text.setPlainText("\n".join(printable(line) for line in
                                                result_lines(result, self.wallet.network.currency, names)))
        self.retry_button.setVisible(False)
        self.edit_button.setVisible(False)
        self.close_button.setDefault(True)

    def _show_failure(self) -> None:
        sent = self.state.failure_sent
        self.result_title.setText(SENT_TITLE if sent else "The mint did not go through")
        self.result_title.setStyleSheet(f"color: {theme.WARNING_TEXT if sent else theme.ERROR_TEXT};")
        self.result_intro.setText(SENT_TEXT if sent else RETRY_TEXT)
        self.result_text.setPlainText(self.state.error)
        self.retry_button.setVisible(True)
        self.edit_button.setVisible(True)
        self.retry_button.setDefault(True)

    # -- closing ----------------------------------------------------------------------------------

    def done(self, result: int) -> None:
        if self.job_running():
            self.notice.setText("Minting is under way: press Cancel to stop it before it is signed, or wait for "
                                "the transaction.")
            self.notice.setVisible(True)
            return
        self.state.gate.close()
        super().done(result)


def open_mint_dialog(wallet: WalletState, paths: Sequence[Path], parent: QWidget | None = None, *,
                     library: Library | None = None) -> MintDialog:
    """Open the mint dialog for ``paths`` (the Create tab's “Mint…”); a library opened here closes with it."""
    return open_with_library(lambda used: MintDialog(wallet, used, paths, parent), library)
