"""What a signature commits to, read before it is made: a Seaport order (a listing or an offer: what is
listed or offered, at what price, until when, and who receives what once someone fills it, in ETH or
WETH) or a lazy listing's mint voucher (its EIP-712 domain and fields). Accepted means "sign it".

Signing sends nothing and costs no gas; the dialog says so, and what the signature lets others do.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.text import printable
from studio.ui.dialogs.sell import plain_label
from studio.ui.dialogs.tx_preview import detail_rows, flow_rows
from studio.ui.money import format_eth
from studio.ui.widgets.wrapping_text import WrappingLabel

if TYPE_CHECKING:
    from studio.chain.transactions import MessagePreview

ORDER_INTRO = ("Signing costs no gas and sends nothing. Until it ends (or you cancel it), anyone may fill this "
               "order through Seaport: the amounts below then move in one transaction, paid by whoever fills it.")
VOUCHER_INTRO = ("Signing costs no gas and sends nothing. Anyone holding this voucher can buy the work at the price "
                 "below until it expires; the purchase mints it to them.")


class SignaturePreviewDialog(QDialog):
    """What a signature commits to (a Seaport order's lines and flows, or a voucher's EIP-712 fields);
    accepted means "sign it". No transaction and no gas."""

    def __init__(self, preview: "MessagePreview", parent: QWidget | None = None, *, action: str = "",
                 currency: str = "ETH") -> None:
        super().__init__(parent)
        self.preview = preview
        self.setWindowTitle("Review before signing")
        self.setMinimumWidth(620)
        self.setMaximumWidth(760)
        is_order = bool(preview.details or preview.flows)
        title = plain_label(preview.action or action or ("Sign an order" if is_order else "Sign a mint voucher"))
        title.setObjectName("heroTitle")
        intro = plain_label(ORDER_INTRO if is_order else VOUCHER_INTRO, muted=True)
        self.form = QFormLayout()
        self.form.setHorizontalSpacing(18)
        self.value_labels: dict[str, WrappingLabel] = {}

        def add(label: str, text: str) -> WrappingLabel:
            key = QLabel(label)
            key.setProperty("muted", True)
            value = WrappingLabel(printable(text, multiline=True))  # a digest or an address wraps, never markup
            if label.startswith("You "):
                value.setStyleSheet("font-weight: 600;")
            self.form.addRow(key, value)
            self.value_labels[label] = value
            return value

        add("Kind", preview.kind)
        add("Signer", preview.signer)
        fields = dict(preview.fields)
        self.field_labels: dict[str, WrappingLabel] = {}
        if is_order:
            domain = dict(preview.domain)
            add("Signed for", f"{domain.get('name', '')} {domain.get('version', '')} at "
                              f"{domain.get('verifyingContract', '')} on chain {domain.get('chainId', '')}")
            for label, text in detail_rows(preview.details, currency):
                add(label, text)
            add("You send now", "nothing (no gas)")
            for label, text in flow_rows(preview.flows, currency):
                add(label, text)
        else:
            for entries in (preview.domain, preview.fields):
                for key, value in entries:
                    self.field_labels[key] = add(VOUCHER_LABELS.get(key, key), voucher_field_text(key, value,
                                                                                                  fields))
            price = str(fields.get("price", ""))
            if price.isdigit():  # what moves, and when: nothing now; the price when someone buys it
                amount = format_eth(int(price), currency, exact=True)
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
                  "expiry": "Valid until", "redeemer": "Only this buyer", "epoch": "Voucher epoch"}


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
    if key == "redeemer" and _zero_address(text):
        return "anyone"
    if key == "royaltyBps" and text.isdigit():
        return "collection default" if _zero_address(str((fields or {}).get("royaltyReceiver", ""))) else \
            f"{int(text) / 100:g} %"
    return text


def _zero_address(text: str) -> bool:
    return len(text) == 42 and text.startswith("0x") and text[2:].strip("0") == ""
