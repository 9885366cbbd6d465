"""The preview a person reads before any transaction is signed: network, from, to, call, value, fees,
and what running it on the node showed (what leaves and arrives in the account, approvals, warnings).

Reusable by every dialog that sends (send, mint, list, buy): give it a ``TxPreview``, ``exec()``
or ``open()`` it, and sign only when it was accepted. On a mainnet the "Sign and send" button
stays disabled until the confirmation box is ticked (``confirmed`` is what to pass to ``send``).
With ``editable_gas`` the "Advanced gas" box lets the person set the max fee, priority fee, gas
limit and nonce; ``gas_settings`` holds them (checked against the node when it is sent).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QFrame, QGroupBox, QLabel,
                               QLineEdit, QPushButton, QVBoxLayout, QWidget)

from studio.text import printable
from studio.ui.money import format_eth
from studio.ui.widgets.wrapping_text import WrappingLabel
from studio.ui import theme

if TYPE_CHECKING:
    from studio.chain.sender import GasSettings
    from studio.chain.simulation import AssetChange, ApprovalGrant, Simulation
    from studio.chain.transactions import Detail, Flow, TxPreview


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
    from studio.chain.transactions import call_arguments

    names = {preview.to.lower(): preview.to_name} if preview.to and preview.to_name else {}
    marker = "  ·  MAINNET: real money" if preview.is_mainnet else ""
    rows: list[tuple[str, str]] = [
        ("Network", f"{preview.network} (chain id {preview.chain_id}){marker}"),
        ("From", preview.sender),
        ("To", f"{preview.to_name} ({preview.to})" if preview.to_name else (preview.to or "a new contract"))]
    if preview.call:
        rows.append(("Function", f"{preview.call.contract}.{preview.call.function}"))
    if preview.details:
        rows += detail_rows(preview.details, currency)
    elif preview.call:
        rows += [(f"  {name}", argument_text(name, value, currency, names)) for name, value in
                 call_arguments(preview.call)]
    elif preview.data not in ("", "0x"):
        rows.append(("Data", f"{(len(preview.data) - 2) // 2} bytes, not a studio contract call"))
    rows += flow_rows(preview.flows, currency)
    gwei = format_eth(preview.max_fee_per_gas * 10**9, "gwei", exact=True)
    rows += [("Value", format_eth(preview.value_wei, currency, exact=True)),
             ("Max fee", f"{format_eth(preview.max_fee_wei, currency, exact=True)}  (up to {gwei} per gas)"),
             ("Gas limit", str(preview.gas_limit)),
             ("At most", format_eth(preview.max_total_wei, currency, exact=True))]
    if preview.nonce is not None:
        rows.append(("Nonce", str(preview.nonce)))
    return rows


def detail_rows(details: "tuple[Detail, ...]", currency: str = "ETH") -> list[tuple[str, str]]:
    """A preview's detail lines; amounts (an int is wei of the network's currency, an `Amount` names its own) in ETH."""
    from studio.chain.transactions import Amount

    rows = []
    for label, value in details:
        if isinstance(value, Amount):
            text = format_eth(value.wei, value.currency or currency, exact=True)
        elif isinstance(value, int):
            text = format_eth(value, currency, exact=True)
        else:
            text = value
        rows.append((label, text))
    return rows


def flow_rows(flows: "tuple[Flow, ...]", currency: str = "ETH") -> list[tuple[str, str]]:
    """'You send' / '0.1 ETH and token 3 (when it sells)' rows, amounts in ETH (or in the flow's own
    currency, WETH for an offer)."""
    from studio.chain.transactions import flow_label, flow_text

    return [(flow_label(flow), flow_text(flow, format_eth(flow.amount_wei, flow.currency or currency, exact=True)))
            for flow in flows]


def token_amount(amount: int, decimals: int) -> str:
    """An ERC-20 amount in its own units (every digit kept, no float)."""
    from decimal import Decimal, localcontext

    with localcontext() as context:
        context.prec = 120
        text = f"{Decimal(int(amount)) / (Decimal(10) ** decimals):f}" if decimals else str(int(amount))
    return text.rstrip("0").rstrip(".") if "." in text else text


def change_text(change: "AssetChange", currency: str = "ETH") -> str:
    """One simulated change for people: ``0.1 ETH``, ``2.5 WETH``, ``token #3 of Moons (0xAbc…1234)``."""
    if change.kind == "ETH":
        return format_eth(change.amount, currency, exact=True)
    if change.kind == "ERC-20":
        return f"{token_amount(change.amount, change.decimals)} {change.name}"
    where = f" ({change.counterparty})" if change.counterparty else ""
    side = "to" if change.direction == "sends" else "from"
    return f"token #{change.token_id} of {change.name}" + (f", {side}{where}" if where else "")


def approval_text(grant: "ApprovalGrant") -> str:
    """What an approval lets the spender do, in words."""
    who = f"{grant.spender_name} ({grant.spender})" if grant.spender_name else grant.spender
    if grant.revoked:
        return f"Takes back the approval of {who} over {grant.token_name}"
    if grant.scope == "all":
        return f"{who} may move every token you hold in {grant.token_name}"
    if grant.scope == "token":
        return f"{who} may move token #{grant.token_id} of {grant.token_name}"
    amount = "any amount" if grant.unlimited else token_amount(grant.amount or 0, grant.decimals)
    return f"{who} may spend {amount} of your {grant.token_name}"


def simulation_rows(simulation: "Simulation", currency: str = "ETH") -> list[tuple[str, str]]:
    """The simulation as (label, text) rows: each change of the account, each approval."""
    rows: list[tuple[str, str]] = []
    for change in simulation.changes:
        rows.append(("You send" if change.direction == "sends" else "You receive", change_text(change, currency)))
    for grant in simulation.approvals:
        rows.append(("Approval", approval_text(grant)))
    if not rows:
        rows.append(("Changes", "none: it would fail" if not simulation.succeeded else
                     "no ETH or token leaves or arrives (only the fee is paid)" if simulation.ran else
                     "no ETH or token transfer the call's data shows"))
    return rows


def _gwei_text(wei: int | None) -> str:
    if wei is None:
        return ""
    return f"{wei / 10**9:.9f}".rstrip("0").rstrip(".")


def _parse_gwei(text: str, what: str) -> int | None:
    from decimal import Decimal, InvalidOperation

    from studio.errors import InputError

    cleaned = text.strip().replace(",", "")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned) * 10**9
    except InvalidOperation as exc:
        raise InputError(f"The {what} “{text[:20]}” is not a number of gwei (for example 1.5).") from exc
    if value < 0 or value != value.to_integral_value():
        raise InputError(f"The {what} must be a positive number of gwei with at most 9 decimals.")
    return int(value)


def _parse_count(text: str, what: str) -> int | None:
    from studio.errors import InputError

    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned:
        return None
    if not cleaned.isdigit():
        raise InputError(f"The {what} “{text[:20]}” is not a whole number.")
    return int(cleaned)


class TxPreviewDialog(QDialog):
    """Shows one TxPreview as a form; accepted means “sign and send it”."""

    def __init__(self, preview: "TxPreview", parent: QWidget | None = None, *, currency: str = "ETH",
                 accept_text: str = "Sign and send", editable_gas: bool = False) -> None:
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
        self.simulation_labels: dict[str, list[str]] = {}
        self.warning_labels: list[QLabel] = []
        if preview.simulation is not None:
            layout.addWidget(self._simulation_panel(preview.simulation, currency))
        self.gas_box: QGroupBox | None = None
        self.gas_error = QLabel()
        if editable_gas:
            layout.addWidget(self._gas_box(preview))

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

    def _simulation_panel(self, simulation: "Simulation", currency: str) -> QWidget:
        """What running it showed: the account's changes and approvals, then each warning."""
        box = QFrame()
        box.setObjectName("panel")
        column = QVBoxLayout(box)
        column.setContentsMargins(16, 10, 16, 10)
        heading = QLabel("In your account" + ("" if simulation.ran else " (from the call's data)"))
        heading.setObjectName("sectionTitle")
        source = QLabel(simulation.source)
        source.setProperty("muted", True)
        source.setWordWrap(True)
        column.addWidget(heading)
        column.addWidget(source)
        form = QFormLayout()
        form.setHorizontalSpacing(18)
        for label, text in simulation_rows(simulation, currency):
            value = WrappingLabel(printable(text, multiline=True))
            value.setStyleSheet(f"color: {theme.ERROR_TEXT if label == 'You send' else theme.OK_TEXT};"
                                " font-weight: 600;" if label in ("You send", "You receive") else "")
            key = QLabel(label)
            key.setProperty("muted", True)
            form.addRow(key, value)
            self.simulation_labels.setdefault(label, []).append(value.text())
        column.addLayout(form)
        for warning in simulation.warnings:
            banner = QLabel("⚠ " + printable(warning, multiline=True))
            banner.setTextFormat(Qt.TextFormat.PlainText)
            banner.setWordWrap(True)
            banner.setObjectName("simulationWarning")
            banner.setStyleSheet(f"color: {theme.WARNING_TEXT}; font-weight: 600;")
            column.addWidget(banner)
            self.warning_labels.append(banner)
        return box

    def _gas_box(self, preview: "TxPreview") -> QWidget:
        """Advanced gas: max fee and priority fee in gwei, gas limit, nonce (blank keeps the studio's)."""
        box = QGroupBox("Advanced gas")
        box.setCheckable(True)
        box.setChecked(False)
        form = QFormLayout(box)
        self.max_fee_edit = QLineEdit(_gwei_text(preview.max_fee_per_gas))
        self.tip_edit = QLineEdit(_gwei_text(preview.max_priority_fee_per_gas))
        self.tip_edit.setEnabled(preview.max_priority_fee_per_gas is not None)
        self.gas_limit_edit = QLineEdit(str(preview.gas_limit))
        self.nonce_edit = QLineEdit("" if preview.nonce is None else str(preview.nonce))
        self.nonce_edit.setPlaceholderText("next (blank); a pending one's nonce replaces it")
        form.addRow("Max fee (gwei)", self.max_fee_edit)
        form.addRow("Priority fee (gwei)", self.tip_edit)
        form.addRow("Gas limit", self.gas_limit_edit)
        form.addRow("Nonce", self.nonce_edit)
        self.gas_error.setWordWrap(True)
        self.gas_error.setStyleSheet(f"color: {theme.ERROR_TEXT};")
        self.gas_error.setVisible(False)
        form.addRow(self.gas_error)
        self.gas_box = box
        return box

    def read_gas(self) -> "GasSettings | None":
        """The advanced gas as typed (None when the box is off or nothing changed); InputError for text
        that is not a number. The node checks the numbers when the transaction is sent."""
        from studio.chain.sender import GasSettings

        if self.gas_box is None or not self.gas_box.isChecked():
            return None
        p = self.preview
        max_fee = _parse_gwei(self.max_fee_edit.text(), "max fee")
        tip = _parse_gwei(self.tip_edit.text(), "priority fee") if self.tip_edit.isEnabled() else None
        limit = _parse_count(self.gas_limit_edit.text(), "gas limit")
        nonce = _parse_count(self.nonce_edit.text(), "nonce")
        settings = GasSettings(None if max_fee == p.max_fee_per_gas else max_fee,
                               None if tip == p.max_priority_fee_per_gas else tip,
                               None if limit == p.gas_limit else limit, nonce)
        return None if settings.empty else settings

    @property
    def gas_settings(self) -> "GasSettings | None":
        """What the person set in Advanced gas when they accepted (None: the studio's choice)."""
        return getattr(self, "_gas_settings", None)

    @property
    def confirmed(self) -> bool:
        """True when a mainnet preview's box is ticked (always True elsewhere): pass it to ``send``."""
        return self.confirm_box is None or self.confirm_box.isChecked()

    def answer(self) -> "bool | GasSettings":
        """What a workflow's ``confirm`` returns for this dialog once it was accepted: the advanced
        gas when set, else True (`TxSender.transact` applies the settings before signing)."""
        return self.gas_settings or True

    def accept(self) -> None:
        if not self.confirmed:
            return
        from studio.errors import StudioError

        try:
            self._gas_settings = self.read_gas()
        except StudioError as exc:
            self.gas_error.setText(str(exc))
            self.gas_error.setVisible(True)
            return
        super().accept()
