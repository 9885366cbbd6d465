"""The preview a person reads before any transaction is signed: network, from, to, call, value, fees.

Reusable by every dialog that sends (send, mint, list, buy): give it a ``TxPreview``, ``exec()``
or ``open()`` it, and sign only when it was accepted. On a mainnet the "Sign and send" button
stays disabled until the confirmation box is ticked (``confirmed`` is what to pass to ``send``).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QFrame, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from studio.text import printable
from studio.ui.money import format_eth
from studio.ui.widgets.wrapping_text import WrappingLabel
from studio.ui import theme

if TYPE_CHECKING:
    from studio.chain.transactions import TxPreview


MONEY_ARGUMENTS = {"price", "amount", "value", "priceWei", "amountWei", "newPrice"}


def argument_text(name: str, value: Any, currency: str = "ETH", names: dict[str, str] | None = None) -> str:
    """One decoded argument for people: amounts in ETH, basis points in %, a zero royalty receiver as
    the collection's default, known addresses by name, bytes as hex."""
    from studio.chain.transactions import _show

    field = name.rsplit(".", 1)[-1]
    if isinstance(value, int) and not isinstance(value, bool):
        if field in MONEY_ARGUMENTS:
            return format_eth(value, currency, exact=True)
        if field.endswith("Bps"):
            return f"{value / 100:g} %"
        if field == "expiry":
            return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(value))
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        if int(value, 16) == 0 and "royalty" in field.lower():
            return "collection default"
        known = (names or {}).get(value.lower())
        return f"{known} ({value})" if known else value
    return _show(value)


def preview_rows(preview: "TxPreview", currency: str = "ETH") -> list[tuple[str, str]]:
    """The rows a person reads: network, from, to, what the call does (its details, or its arguments
    by name), what each party sends and receives, value and fees; every amount in ETH."""
    from studio.chain.transactions import call_arguments, flow_label, flow_text

    names = {preview.to.lower(): preview.to_name} if preview.to and preview.to_name else {}
    marker = "  ·  MAINNET: real money" if preview.is_mainnet else ""
    rows: list[tuple[str, str]] = [
        ("Network", f"{preview.network} (chain id {preview.chain_id}){marker}"),
        ("From", preview.sender),
        ("To", f"{preview.to_name} ({preview.to})" if preview.to_name else (preview.to or "a new contract"))]
    if preview.call:
        rows.append(("Function", f"{preview.call.contract}.{preview.call.function}"))
    if preview.details:
        rows += [(label, format_eth(value, currency, exact=True) if isinstance(value, int) else value)
                 for label, value in preview.details]
    elif preview.call:
        rows += [(f"  {name}", argument_text(name, value, currency, names)) for name, value in
                 call_arguments(preview.call)]
    elif preview.data not in ("", "0x"):
        rows.append(("Data", f"{(len(preview.data) - 2) // 2} bytes, not a studio contract call"))
    rows += [(flow_label(flow), flow_text(flow, format_eth(flow.amount_wei, currency, exact=True)))
             for flow in preview.flows]
    gwei = format_eth(preview.max_fee_per_gas * 10**9, "gwei", exact=True)
    rows += [("Value", format_eth(preview.value_wei, currency, exact=True)),
             ("Max fee", f"{format_eth(preview.max_fee_wei, currency, exact=True)}  (up to {gwei} per gas)"),
             ("Gas limit", str(preview.gas_limit)),
             ("At most", format_eth(preview.max_total_wei, currency, exact=True))]
    if preview.nonce is not None:
        rows.append(("Nonce", str(preview.nonce)))
    return rows


class TxPreviewDialog(QDialog):
    """Shows one TxPreview as a form; accepted means “sign and send it”."""

    def __init__(self, preview: "TxPreview", parent: QWidget | None = None, *, currency: str = "ETH",
                 accept_text: str = "Sign and send") -> None:
        super().__init__(parent)
        self.preview = preview
        self.setWindowTitle("Review before signing")
        self.setMinimumWidth(620)
        self.setMaximumWidth(760)  # long values wrap; the dialog never grows past a laptop screen
        title = QLabel(printable(preview.action))
        title.setTextFormat(Qt.TextFormat.PlainText)
        title.setObjectName("heroTitle")
        intro = QLabel("Nothing is signed until you press the button below. Check every line.")
        intro.setProperty("muted", True)
        intro.setWordWrap(True)

        self.form = QFormLayout()
        self.form.setHorizontalSpacing(18)
        self.form.setVerticalSpacing(6)
        self.value_labels: dict[str, WrappingLabel] = {}
        for label, text in preview_rows(preview, currency):
            # names come from contracts and files: never markup, never a control character obeyed; a
            # signature or calldata wraps instead of widening the dialog
            value = WrappingLabel(printable(text, multiline=True))
            if label == "Network" and preview.is_mainnet:
                value.setStyleSheet(f"color: {theme.ERROR_TEXT}; font-weight: 600;")
            elif label.startswith("  "):
                value.setStyleSheet(f"color: {theme.MUTED};")
            if label in ("Value", "At most") or label.startswith("You "):
                value.setStyleSheet("font-weight: 600;")
            key = QLabel(label.strip() if not label.startswith("  ") else f"   {label.strip()}")
            key.setProperty("muted", True)
            self.form.addRow(key, value)
            self.value_labels[label.strip()] = value

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(intro)
        panel = QFrame()
        panel.setObjectName("panel")
        panel.setLayout(self.form)
        self.form.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(panel)

        self.confirm_box: QCheckBox | None = None
        if preview.is_mainnet:
            warning = QFrame()
            warning.setObjectName("warningBanner")
            notice = QLabel(f"{preview.network} is a mainnet: this spends real money and cannot be undone.")
            notice.setWordWrap(True)
            inner = QVBoxLayout(warning)
            inner.setContentsMargins(10, 6, 10, 6)
            inner.addWidget(notice)
            layout.addWidget(warning)
            self.confirm_box = QCheckBox(f"I checked the recipient and the amount; send it on {preview.network}.")
            layout.addWidget(self.confirm_box)

        self.buttons = QDialogButtonBox()
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.sign_button: QPushButton = self.buttons.addButton(accept_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_button.setProperty("accent", True)
        self.cancel_button.setDefault(True)  # Enter never signs by accident
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        if self.confirm_box is not None:
            self.sign_button.setEnabled(False)
            self.confirm_box.toggled.connect(self.sign_button.setEnabled)

    @property
    def confirmed(self) -> bool:
        """True when a mainnet preview's box is ticked (always True elsewhere): pass it to ``send``."""
        return self.confirm_box is None or self.confirm_box.isChecked()

    def accept(self) -> None:
        if not self.confirmed:
            return
        super().accept()
