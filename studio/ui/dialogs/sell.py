"""Selling: list a token (a Seaport order until the chosen expiry, or on the escrow marketplace where
Seaport is not deployed) or change its price with the sale's split shown as the price is typed
(royalty, marketplace fee, what the seller receives); list many selected tokens under one signature;
lazy-list an unminted work (a signed mint voucher, no gas). The signatures' previews are in
:mod:`studio.ui.dialogs.signature_preview`.

The dialogs only collect and check what the person typed; the view-model starts the action and
the Market tab shows its preview, progress and outcome.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QFrame, QHBoxLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QPushButton, QScrollArea, QSpinBox, QVBoxLayout, QWidget)

from studio.errors import StudioError
from studio.ui.dialogs.unlock import busy_bar, error_label, show_error
from studio.ui.money import format_eth, short_address
from studio.ui.state.market import HeldToken, MarketState, card_name
from studio.ui.widgets.expiry import ExpiryChooser
from studio.ui.workers import Job, error_message, job_of

if TYPE_CHECKING:
    from studio.chain.contracts import SaleQuote

QUOTE_DELAY_MS = 350


def plain_label(text: str = "", *, muted: bool = False, selectable: bool = False) -> QLabel:
    """A label that never interprets its text as markup (names and addresses come from strangers)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if muted:
        label.setProperty("muted", True)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def opensea_box(state: MarketState, *, shown: bool = True) -> QCheckBox:
    """"Also post to OpenSea": enabled only with a key kept and a network OpenSea serves; otherwise
    disabled, its tooltip saying why."""
    from studio.ui.state.market_opensea import OPENSEA_TIP

    box = QCheckBox("Also post to OpenSea")
    box.setObjectName("openseaBox")
    reason = state.opensea.unavailable() if shown else ""
    box.setEnabled(shown and not reason)
    box.setToolTip(reason or OPENSEA_TIP)
    box.setVisible(shown)
    return box


class SellDialog(QDialog):
    """List a token at a price, or change the price of its listing (`change=True`)."""

    def __init__(self, state: MarketState, token: HeldToken, parent: QWidget | None = None, *,
                 change: bool = False) -> None:
        super().__init__(parent)
        self.state = state
        self.token = token
        self.change = change
        self.job: Job | None = None
        self.quote_job: Job | None = None
        self.quote: "SaleQuote | None" = None
        currency = state.network.currency
        name = token.card.details.name if token.card else f"Token {token.token_id}"
        self.setWindowTitle("Change the price" if change else "List for sale")
        self.setMinimumWidth(500)
        #: Seaport unless the token is on the escrow marketplace already, or the network has no Seaport.
        self.escrow = (token.venue == "escrow") if change else not state.has_seaport

        title = plain_label(name)
        title.setObjectName("heroTitle")
        collection = f"{token.collection_name} ({short_address(token.collection)})" if token.collection_name else \
            short_address(token.collection)
        where = plain_label(f"Token #{token.token_id} of {collection} · held by "
                            f"{state.account_name(token.owner)}", muted=True)
        where.setToolTip(f"{token.collection}\n{token.owner}")
        self.price = QLineEdit()
        self.price.setPlaceholderText("0.1")
        if change and token.price_wei:
            self.price.setText(format_eth(token.price_wei, "", exact=True).strip().replace(",", ""))
        price_row = QHBoxLayout()
        price_row.addWidget(self.price, 1)
        price_row.addWidget(QLabel(currency))

        self.royalty_line = plain_label("—")
        self.fee_line = plain_label("—")
        self.proceeds_line = plain_label("—")
        self.proceeds_line.setStyleSheet("font-weight: 600;")
        split = QFrame()
        split.setObjectName("panel")
        split_form = QFormLayout(split)
        split_form.setContentsMargins(14, 10, 14, 10)
        split_form.addRow(plain_label("Royalty", muted=True), self.royalty_line)
        split_form.addRow(plain_label("Marketplace fee", muted=True), self.fee_line)
        split_form.addRow(plain_label("You receive", muted=True), self.proceeds_line)
        self.expiry = ExpiryChooser()
        if self.escrow:
            custody = plain_label("While listed, the escrow marketplace holds the token; cancel the listing to take "
                                  "it back. The first listing of a token also asks you to approve the marketplace "
                                  "for it (a second transaction).", muted=True)
        else:
            custody = plain_label("A Seaport listing is an order you sign: no gas, and the token stays in your wallet "
                                  "until someone buys it. The first listing of a collection asks you to approve "
                                  "Seaport for it once (a transaction); the creator's royalty is part of the "
                                  "order.", muted=True)
        if change:
            custody.setText(f"Listed now at {format_eth(token.price_wei, currency)}." + (
                "" if self.escrow else " Changing it cancels that listing (a transaction), then you sign the new "
                                       "one."))

        self.error = error_label()
        self.busy = busy_bar()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.submit_button: QPushButton = self.buttons.addButton("Change price…" if change else "List…",
                                                                 QDialogButtonBox.ButtonRole.AcceptRole)
        self.submit_button.setProperty("accent", True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Price", price_row)
        if not self.escrow:
            form.addRow("Valid for", self.expiry)
        else:
            self.expiry.setVisible(False)
        self.opensea = opensea_box(state, shown=not self.escrow and not change)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(where)
        layout.addLayout(form)
        layout.addWidget(split)
        layout.addWidget(custody)
        layout.addWidget(self.opensea)
        layout.addWidget(self.error)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)

        self.quote_timer = QTimer(self)
        self.quote_timer.setSingleShot(True)
        self.quote_timer.setInterval(QUOTE_DELAY_MS)
        self.quote_timer.timeout.connect(self.update_quote)
        self.price.textChanged.connect(lambda _text: self.quote_timer.start())
        if self.price.text():
            self.quote_timer.start()

    def update_quote(self) -> Job | None:
        """Ask the marketplace how the typed price splits (in the background); a bad price says why."""
        show_error(self.error, "")
        self.quote_job = None  # an older answer is for another price
        try:
            job = self.state.trades.quote(self.token.collection, self.token.token_id, self.price.text(),
                                          escrow=self.escrow, seller=self.token.owner)
        except StudioError as exc:
            self.quote = None
            for line in (self.royalty_line, self.fee_line, self.proceeds_line):
                line.setText("—")
            if self.price.text().strip():
                show_error(self.error, str(exc))
            return None
        self.quote_job = job
        # Bound methods of the dialog: Qt drops the connection if the dialog is gone before the answer.
        job.to(self).succeeded.connect(self._on_quote)
        job.to(self).failed.connect(self._on_quote_failed)
        return job

    def _on_quote(self, quote: "SaleQuote") -> None:
        if job_of(self.sender()) is not self.quote_job:
            return  # the price changed since
        currency = self.state.network.currency
        self.quote = quote
        own = quote.royalty_receiver is not None and quote.royalty_receiver.lower() == self.token.owner.lower()
        receiver = (" to you (you are the royalty receiver)" if own else
                    f" to {short_address(quote.royalty_receiver)}" if quote.royalty_receiver else "")
        self.royalty_line.setText(f"{format_eth(quote.royalty_wei, currency, exact=True)}{receiver}")
        self.royalty_line.setToolTip(quote.royalty_receiver or "")
        self.fee_line.setText(format_eth(quote.fee_wei, currency, exact=True) if self.escrow or quote.fee_wei else
                              "none (Seaport takes no fee; the studio adds none)")
        if own and quote.royalty_wei:  # the royalty comes back to the seller: they get the price less the fee
            self.proceeds_line.setText(f"{format_eth(quote.proceeds_wei + quote.royalty_wei, currency, exact=True)}"
                                       "  (the full price less the marketplace fee; the royalty is yours)")
        else:
            self.proceeds_line.setText(format_eth(quote.proceeds_wei, currency, exact=True))

    def _on_quote_failed(self, exc: BaseException) -> None:
        if job_of(self.sender()) is self.quote_job:
            show_error(self.error, error_message(exc))

    def submit(self) -> None:
        """Start listing (or the price change); the tab shows the preview. Mistakes stay here."""
        show_error(self.error, "")
        try:
            expiry = {"duration": self.expiry.duration, "until": self.expiry.until} if not self.escrow else {}
            if self.change:
                self.job = self.state.trades.change_price(self.token, self.price.text(), **expiry)
            else:
                self.job = self.state.trades.list_token(self.token, self.price.text(), escrow=self.escrow,
                                                 opensea=self.opensea.isEnabled() and self.opensea.isChecked(),
                                                 **expiry)
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        self.accept()


class LazyListDialog(QDialog):
    """Lazy listing: choose one of your collections and an unminted work, name it and price it; you
    sign a mint voucher (no gas) and the buyer's purchase mints the token to them."""

    def __init__(self, state: MarketState, parent: QWidget | None = None) -> None:
        from studio.workflows.mint import LICENSES

        super().__init__(parent)
        self.state = state
        self.job: Job | None = None
        self.setWindowTitle("Lazy-list a work")
        self.setMinimumWidth(540)
        currency = state.network.currency
        intro = plain_label("The work is not minted now: you sign a voucher (no gas). Whoever buys it pays the "
                            "price to you and the gas of minting; the token is minted straight to them.",
                            muted=True)
        self.collection_combo = QComboBox()
        for collection in state.my_collections():
            self.collection_combo.addItem(f"{collection.name} ({collection.symbol}) · "
                                          f"{short_address(collection.address)}", collection)
        self.work_combo = QComboBox()
        self.name = QLineEdit()
        self.name.setPlaceholderText("The token's name")
        self.description = QPlainTextEdit()
        self.description.setFixedHeight(70)
        self.description.setPlaceholderText("What buyers read about the work (optional)")
        self.license_combo = QComboBox()
        for license_id, label in LICENSES.items():
            self.license_combo.addItem(label, license_id)
        self.license_combo.setCurrentIndex(self.license_combo.findData("all-rights-reserved"))
        self.price = QLineEdit()
        self.price.setPlaceholderText("0.1")
        price_row = QHBoxLayout()
        price_row.addWidget(self.price, 1)
        price_row.addWidget(QLabel(currency))
        self.days = QSpinBox()
        self.days.setRange(1, 365)
        self.days.setValue(30)
        self.days.setSuffix(" days")
        self.redeemer = QLineEdit()
        self.redeemer.setPlaceholderText("anyone (or one buyer's address, 0x…)")
        form = QFormLayout()
        form.addRow("Collection", self.collection_combo)
        form.addRow("Work", self.work_combo)
        form.addRow("Name", self.name)
        form.addRow("Description", self.description)
        form.addRow("License", self.license_combo)
        form.addRow("Price", price_row)
        form.addRow("Valid for", self.days)
        form.addRow("Only for", self.redeemer)
        self.empty = plain_label("", muted=True)
        self.error = error_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.submit_button: QPushButton = self.buttons.addButton("Sign voucher…",
                                                                 QDialogButtonBox.ButtonRole.AcceptRole)
        self.submit_button.setProperty("accent", True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.empty)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.collection_combo.currentIndexChanged.connect(self._fill_works)
        self.work_combo.currentIndexChanged.connect(self._suggest_name)
        self._fill_works()

    def _fill_works(self) -> None:
        self.work_combo.clear()
        collection = self.collection_combo.currentData()
        if collection is None:
            self.empty.setText(f"{self.state.acting_name} owns no collection on {self.state.network.name}. Create "
                               "one first (Create tab › Mint), or act as the account that owns one (the Market's "
                               "header), then lazy-list its works here.")
        else:
            for work in self.state.unminted_works(collection.address):
                from pathlib import Path

                self.work_combo.addItem(work.title or Path(work.path).name, work)
            self.empty.setText("" if self.work_combo.count() else
                               "Every work in the library is minted in this collection already. Generate a new "
                               "one in the Create tab.")
        self.empty.setVisible(bool(self.empty.text()))
        self.submit_button.setEnabled(self.work_combo.count() > 0)

    def _suggest_name(self) -> None:
        work = self.work_combo.currentData()
        if work is not None and not self.name.isModified():
            self.name.setText(work.title)

    def submit(self) -> None:
        show_error(self.error, "")
        collection, work = self.collection_combo.currentData(), self.work_combo.currentData()
        if collection is None or work is None:
            show_error(self.error, "Choose a collection and a work.")
            return
        try:
            self.job = self.state.trades.lazy_list(collection, work, self.name.text(), self.price.text(),
                                            description=self.description.toPlainText(),
                                            license_id=self.license_combo.currentData(), days=self.days.value(),
                                            redeemer=self.redeemer.text().strip() or None)
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        self.accept()


class BulkListDialog(QDialog):
    """List the selected tokens under one signature (Seaport's bulk order): a price for all of them,
    changeable token by token, and one expiry. No gas after the collections' approvals."""

    def __init__(self, state: MarketState, tokens: list[HeldToken], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.tokens = tokens
        self.job: Job | None = None
        currency = state.network.currency
        self.setWindowTitle("List tokens")
        self.setMinimumWidth(560)
        title = plain_label(f"List {len(tokens)} tokens with one signature")
        title.setObjectName("heroTitle")
        intro = plain_label("One signature lists them all (Seaport's bulk order): no gas, and each token is bought or "
                            "cancelled on its own. Each collection not yet approved for Seaport asks for one "
                            "approval first.", muted=True)
        self.price_all = QLineEdit()
        self.price_all.setPlaceholderText("0.1")
        self.price_all.textChanged.connect(self._fill_prices)
        all_row = QHBoxLayout()
        all_row.addWidget(self.price_all, 1)
        all_row.addWidget(QLabel(currency))
        self.expiry = ExpiryChooser()
        top = QFormLayout()
        top.addRow("Price of each", all_row)
        top.addRow("Valid for", self.expiry)
        rows = QWidget()
        rows_form = QFormLayout(rows)
        self.prices: list[QLineEdit] = []
        for token in tokens:
            edit = QLineEdit()
            edit.setPlaceholderText("the price of each")
            self.prices.append(edit)
            name = card_name(token.card, f"Token {token.token_id}")
            where = token.collection_name or short_address(token.collection)
            rows_form.addRow(plain_label(f"{name} · #{token.token_id} · {where}"), edit)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(rows)
        scroll.setMaximumHeight(260)
        self.error = error_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.submit_button: QPushButton = self.buttons.addButton("Sign listings…",
                                                                 QDialogButtonBox.ButtonRole.AcceptRole)
        self.submit_button.setProperty("accent", True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(top)
        layout.addWidget(scroll)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def _fill_prices(self, text: str) -> None:
        for edit in self.prices:
            if not edit.isModified():
                edit.setText(text)

    def submit(self) -> None:
        show_error(self.error, "")
        try:
            prices = [e.text() or self.price_all.text() for e in self.prices]
            self.job = self.state.trades.list_tokens(self.tokens, prices, duration=self.expiry.duration,
                                                     until=self.expiry.until)
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        self.accept()

