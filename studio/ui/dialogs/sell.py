"""Selling: list a token or change its price with the sale's split shown as the price is typed
(royalty, marketplace fee, what the seller receives); lazy-list an unminted work (a signed mint
voucher, no gas); and the preview of a voucher signature (EIP-712 typed data, no transaction).

The dialogs only collect and check what the person typed; the view-model starts the action and
the Market tab shows its preview, progress and outcome.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QFrame, QHBoxLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from studio.errors import StudioError
from studio.ui.dialogs.unlock import busy_bar, error_label, show_error
from studio.ui.money import format_eth, short_address
from studio.ui.state.market import HeldToken, MarketState
from studio.ui.widgets.wrapping_text import WrappingLabel
from studio.ui.workers import Job, error_message

if TYPE_CHECKING:
    from studio.chain.contracts import SaleQuote
    from studio.chain.transactions import MessagePreview

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

        title = plain_label(name)
        title.setObjectName("heroTitle")
        where = plain_label(f"Token #{token.token_id} of {short_address(token.collection)} · held by "
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
        custody = plain_label("While listed, the marketplace holds the token; cancel the listing to take it back. "
                              "The first listing of a token also asks you to approve the marketplace for it "
                              "(a second transaction).", muted=True)
        if change:
            custody.setText(f"Listed now at {format_eth(token.price_wei, currency)}.")

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
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(where)
        layout.addLayout(form)
        layout.addWidget(split)
        layout.addWidget(custody)
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
            job = self.state.quote(self.token.collection, self.token.token_id, self.price.text())
        except StudioError as exc:
            self.quote = None
            for line in (self.royalty_line, self.fee_line, self.proceeds_line):
                line.setText("—")
            if self.price.text().strip():
                show_error(self.error, str(exc))
            return None
        self.quote_job = job
        # Bound methods of the dialog: Qt drops the connection if the dialog is gone before the answer.
        job.succeeded.connect(self._on_quote)
        job.failed.connect(self._on_quote_failed)
        return job

    def _on_quote(self, quote: "SaleQuote") -> None:
        if self.sender() is not self.quote_job:
            return  # the price changed since
        currency = self.state.network.currency
        self.quote = quote
        own = quote.royalty_receiver is not None and quote.royalty_receiver.lower() == self.token.owner.lower()
        receiver = (" to you (you are the royalty receiver)" if own else
                    f" to {short_address(quote.royalty_receiver)}" if quote.royalty_receiver else "")
        self.royalty_line.setText(f"{format_eth(quote.royalty_wei, currency, exact=True)}{receiver}")
        self.royalty_line.setToolTip(quote.royalty_receiver or "")
        self.fee_line.setText(format_eth(quote.fee_wei, currency, exact=True))
        if own and quote.royalty_wei:  # the royalty comes back to the seller: they get the price less the fee
            self.proceeds_line.setText(f"{format_eth(quote.proceeds_wei + quote.royalty_wei, currency, exact=True)}"
                                       "  (the full price less the marketplace fee; the royalty is yours)")
        else:
            self.proceeds_line.setText(format_eth(quote.proceeds_wei, currency, exact=True))

    def _on_quote_failed(self, exc: BaseException) -> None:
        if self.sender() is self.quote_job:
            show_error(self.error, error_message(exc))

    def submit(self) -> None:
        """Start listing (or the price change); the tab shows the preview. Mistakes stay here."""
        show_error(self.error, "")
        try:
            if self.change:
                self.job = self.state.change_price(self.token, self.price.text())
            else:
                self.job = self.state.list_token(self.token, self.price.text())
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
        form = QFormLayout()
        form.addRow("Collection", self.collection_combo)
        form.addRow("Work", self.work_combo)
        form.addRow("Name", self.name)
        form.addRow("Description", self.description)
        form.addRow("License", self.license_combo)
        form.addRow("Price", price_row)
        form.addRow("Valid for", self.days)
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
            self.job = self.state.lazy_list(collection, work, self.name.text(), self.price.text(),
                                            description=self.description.toPlainText(),
                                            license_id=self.license_combo.currentData(), days=self.days.value())
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        self.accept()


class SignaturePreviewDialog(QDialog):
    """What a voucher signature commits to (EIP-712 domain and fields); accepted means "sign it".

    No transaction and no gas: the signature lets a buyer mint the work at the signed price."""

    def __init__(self, preview: "MessagePreview", parent: QWidget | None = None, *, action: str = "") -> None:
        super().__init__(parent)
        self.preview = preview
        self.setWindowTitle("Review before signing")
        self.setMinimumWidth(620)
        title = plain_label(action or "Sign a mint voucher")
        title.setObjectName("heroTitle")
        intro = plain_label("Signing costs no gas and sends nothing. Anyone holding this voucher can buy the work "
                            "at the price below until it expires; the purchase mints it to them.", muted=True)
        self.form = QFormLayout()
        self.form.setHorizontalSpacing(18)

        def add(label: str, text: str) -> WrappingLabel:
            key = QLabel(label)
            key.setProperty("muted", True)
            value = WrappingLabel(text)  # a digest or an address wraps instead of being cut off
            self.form.addRow(key, value)
            return value

        add("Kind", preview.kind)
        add("Signer", preview.signer)
        fields = dict(preview.fields)
        self.field_labels: dict[str, WrappingLabel] = {}
        for entries in (preview.domain, preview.fields):
            for key, value in entries:
                self.field_labels[key] = add(VOUCHER_LABELS.get(key, key), voucher_field_text(key, value, fields))
        price = str(fields.get("price", ""))
        if price.isdigit():  # what moves, and when: nothing now; the price when someone buys it
            amount = format_eth(int(price), exact=True)
            for who, text in (("You send", "nothing now (no gas)"),
                              ("The buyer sends", f"{amount} (when bought; they also pay the minting gas)"),
                              ("You receive", f"{amount} (when bought)"),
                              ("The buyer receives", "the token, minted to them (when bought)")):
                add(who, text)
        panel = QFrame()
        panel.setObjectName("panel")
        panel.setLayout(self.form)
        self.form.setContentsMargins(16, 12, 16, 12)
        self.buttons = QDialogButtonBox()
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.sign_button: QPushButton = self.buttons.addButton("Sign", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_button.setProperty("accent", True)
        self.cancel_button.setDefault(True)  # Enter never signs by accident
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(panel)
        layout.addWidget(self.buttons)


#: The EIP-712 domain's and the voucher's field names, as people read them.
VOUCHER_LABELS = {"name": "Domain", "version": "Domain version", "chainId": "Chain id",
                  "verifyingContract": "Collection", "contentDigest": "Content (metadata SHA-256)", "price": "Price",
                  "royaltyReceiver": "Royalty receiver", "royaltyBps": "Royalty", "nonce": "Nonce",
                  "expiry": "Valid until"}


def voucher_field_text(key: str, value: Any, fields: dict[str, Any] | None = None) -> str:
    """A voucher field for people: the price in ETH, the expiry as a date, the royalty as a share or
    "collection default" (a zero receiver: the collection's own royalty applies)."""
    text = str(value)
    if key == "price" and text.isdigit():
        return format_eth(int(text), exact=True)
    if key == "expiry" and text.isdigit():
        import datetime as dt

        return dt.datetime.fromtimestamp(int(text), dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if key == "royaltyReceiver" and _zero_address(text):
        return "collection default"
    if key == "royaltyBps" and text.isdigit():
        return "collection default" if _zero_address(str((fields or {}).get("royaltyReceiver", ""))) else \
            f"{int(text) / 100:g} %"
    return text


def _zero_address(text: str) -> bool:
    return len(text) == 42 and text.startswith("0x") and text[2:].strip("0") == ""
