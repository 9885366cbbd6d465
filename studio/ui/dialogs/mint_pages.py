"""The mint dialog's pages after the form: the summary (what will be minted, its CIDs and fee,
computed locally), the progress of a running mint (its steps), and the result (the tokens, or what
failed and whether the mint may still land).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QFormLayout, QFrame, QGridLayout, QHBoxLayout, QHeaderView, QLabel,
                               QPlainTextEdit, QProgressBar, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from studio.text import printable
from studio.ui import theme
from studio.ui.dialogs.mint_common import muted_label, section_label, selectable_label, title_label
from studio.ui.money import format_eth
from studio.ui.state.mint import RETRY_TEXT, SENT_TEXT, SENT_TITLE, STEPS

if TYPE_CHECKING:
    from studio.chain.networks import Network
    from studio.library.db import Collection
    from studio.workflows.mint import MintEstimate, MintResult


def result_lines(result: "MintResult", currency: str = "ETH", names: dict[int, str] | None = None) -> list[str]:
    """The result page's text: each token (named as in the form, by work id) with its CIDs, the
    transaction and its fee."""
    lines = []
    for minted in result.minted:
        token, path = minted.token, Path(minted.work.path)
        name = (names or {}).get(minted.work.id) or minted.work.title or path.name
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


class SummaryPage(QWidget):
    """The summary: collection, network, storage, how the tokens are committed, the fee, every CID."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
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

    def show_estimate(self, estimate: "MintEstimate", collection: "Collection | None", network: "Network") -> None:
        """Fill the page from the estimate the state computed."""
        currency = network.currency
        labels = self.summary_labels
        labels["Collection"].setText(printable(f"{collection.name} ({collection.symbol})  {collection.address}")
                                     if collection else "")
        labels["Network"].setText(f"{network.name} (chain id {network.chain_id})")
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



class ProgressPage(QWidget):
    """A running mint: its steps (done, current, to come), a progress bar and the latest line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
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

    def show_step(self, step: str) -> None:
        """Mark the steps before ``step`` done and ``step`` current."""
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



class ResultPage(QWidget):
    """The end: the tokens minted, or what failed (and whether the sent mint may still land)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
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
        self.list_button = QPushButton("List now…")
        self.list_button.setProperty("accent", True)
        self.list_button.setToolTip("Put the minted tokens up for sale: the list dialog opens for each in turn")
        self.list_button.setVisible(False)
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.list_button)
        buttons.addWidget(self.close_button)
        column.addLayout(buttons)

    def show_result(self, result: "MintResult", currency: str, names: dict[int, str]) -> None:
        """The tokens minted (named as in the form, by work id), their CIDs, the transaction and its fee."""
        count = len(result.minted)
        self.result_title.setText(f"Minted {count} token{'s' if count != 1 else ''}")
        self.result_title.setStyleSheet("")
        self.result_intro.setText("The tokens are recorded in the studio's library. Transaction, token ids and "
                                  "CIDs:")
        self.result_text.setPlainText("\n".join(printable(line) for line in
                                                result_lines(result, currency, names)))
        self.retry_button.setVisible(False)
        self.edit_button.setVisible(False)
        self.close_button.setDefault(True)


    def show_failure(self, sent: bool, error: str) -> None:
        """What failed; ``sent``: the mint was broadcast and may still land."""
        self.result_title.setText(SENT_TITLE if sent else "The mint did not go through")
        self.result_title.setStyleSheet(f"color: {theme.WARNING_TEXT if sent else theme.ERROR_TEXT};")
        self.result_intro.setText(SENT_TEXT if sent else RETRY_TEXT)
        self.result_text.setPlainText(error)
        self.retry_button.setVisible(True)
        self.edit_button.setVisible(True)
        self.list_button.setVisible(False)
        self.retry_button.setDefault(True)
