"""The send dialog: recipient, amount in ETH and speed; Review simulates and shows the preview;
only an accepted preview is signed, sent and waited for, with progress. Errors (a revert, too
little balance, another chain behind the RPC) are shown in the dialog.

The recipient may be an 0x address, one of the wallet's own accounts or a name saved in the address
book (both in the ▾ menu beside it), or an ENS name on a network that has ENS; the line under it
says what it stands for as it is typed. Max fills in the balance less the largest fee; an address
typed by hand can be saved under a name. The preview's Advanced gas box sets fees, limit and nonce."""
from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QCompleter, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QMenu,
                               QPushButton, QToolButton, QWidget)

from studio.errors import StudioError
from studio.ui.dialogs.send_flow import PreviewedSendDialog
from studio.ui.dialogs.unlock import show_error
from studio.ui.money import format_eth, short_address
from studio.ui.state.wallet import WalletState
from studio.ui.state.wallet_send import SPEEDS, SendOutcome
from studio.ui.workers import Job

SPEED_LABELS = {"slow": "Slow (lowest fee)", "normal": "Normal", "fast": "Fast (higher tip)"}


class SendDialog(PreviewedSendDialog):
    """Send ETH from one of the wallet's accounts."""

    def __init__(self, state: WalletState, parent: QWidget | None = None, *, timeout: float = 120.0) -> None:
        super().__init__(state, parent, timeout=timeout)
        currency = state.network.currency
        self.setWindowTitle(f"Send {currency}")
        self.setMinimumWidth(560)

        self.account_combo = QComboBox()
        self._fill_accounts(state.current_account)
        self.recipient = QLineEdit()
        self.recipient.setPlaceholderText("0x… address, one of your accounts, a saved name"
                                          + (" or an ENS name" if self._has_ens() else ""))
        self.recipient_menu = QMenu(self)
        self.recipient_button = QToolButton()
        self.recipient_button.setText("▾")
        self.recipient_button.setToolTip("Your accounts and your address book")
        self.recipient_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recipient_button.setMenu(self.recipient_menu)
        self.recipient_button.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0px; }")  # one ▾
        self.recipient_menu.aboutToShow.connect(self._fill_recipient_menu)
        recipient_row = QHBoxLayout()
        recipient_row.addWidget(self.recipient, 1)
        recipient_row.addWidget(self.recipient_button)
        self.recipient_note = QLabel()
        self.recipient_note.setTextFormat(Qt.TextFormat.PlainText)
        self.recipient_note.setProperty("muted", True)
        self.recipient_note.setWordWrap(True)
        self.save_name = QLineEdit()
        self.save_name.setPlaceholderText("Name for your address book")
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save_recipient)
        self.save_row = QWidget()
        save_layout = QHBoxLayout(self.save_row)
        save_layout.setContentsMargins(0, 0, 0, 0)
        save_layout.addWidget(self.save_name, 1)
        save_layout.addWidget(self.save_button)
        self.save_row.setVisible(False)
        self.recipient.textChanged.connect(self._describe_recipient)
        self._set_completer()
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("0.0")
        self.max_button = QPushButton("Max")
        self.max_button.setToolTip("The balance less the largest fee this transfer may cost")
        self.max_button.clicked.connect(self.fill_max)
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount, 1)
        amount_row.addWidget(QLabel(currency))
        amount_row.addWidget(self.max_button)
        self.speed = QComboBox()
        for speed in SPEEDS:
            self.speed.addItem(SPEED_LABELS[speed], speed)
        self.speed.setCurrentIndex(SPEEDS.index("normal"))
        network = QLabel(f"{state.network.name}" + ("  ·  MAINNET: real money" if state.network.is_mainnet else ""))
        form = QFormLayout()
        form.addRow("Network", network)
        form.addRow("From", self.account_combo)
        form.addRow("To", recipient_row)
        form.addRow("", self.recipient_note)
        form.addRow("", self.save_row)
        form.addRow("Amount", amount_row)
        form.addRow("Speed", self.speed)

        self._lay_out(form)
        self._bind()

    def _bind(self) -> None:
        # the balances, after a send or a refresh
        self.bindings.connect(self.state.accounts.modelReset, self._refill_accounts)

    def _fill_accounts(self, selected: str) -> None:
        """Each account with its balance as the wallet last read it; ``selected`` stays chosen."""
        currency = self.state.network.currency
        self.account_combo.clear()
        for row in self.state.accounts.rows():
            self.account_combo.addItem(f"{row.name}  ·  {short_address(row.address)}  ·  "
                                       f"{format_eth(row.balance_wei, currency)}", row.address)
        self.account_combo.setCurrentIndex(max(0, self.account_combo.findData(selected)))

    def _refill_accounts(self) -> None:
        self._fill_accounts(self.account_combo.currentData() or self.state.current_account)

    # -- the recipient ------------------------------------------------------------------------

    def _has_ens(self) -> bool:
        from studio.chain.ens import has_ens

        return has_ens(self.state.network.chain_id)

    def _fill_recipient_menu(self) -> None:
        """My accounts (all but the one sending) and the address book, each by name."""
        menu = self.recipient_menu
        menu.clear()
        sender = (self.account_combo.currentData() or "").lower()
        mine = [row for row in self.state.accounts.rows() if row.address.lower() != sender]
        title = menu.addAction("My accounts")
        title.setEnabled(False)
        for row in mine:
            menu.addAction(f"{row.name}  ·  {short_address(row.address)}", partial(self.recipient.setText, row.address))
        menu.addSeparator()
        book = menu.addAction("Address book")
        book.setEnabled(False)
        try:
            contacts = self.state.transfers.contacts()
        except StudioError as exc:
            show_error(self.error, str(exc))
            contacts = []
        if not contacts:
            empty = menu.addAction("(no saved names yet: type an address, then Save)")
            empty.setEnabled(False)
        for contact in contacts:
            menu.addAction(f"{contact.name}  ·  {short_address(contact.address)}",
                           partial(self.recipient.setText, contact.address))

    def _set_completer(self) -> None:
        try:
            names = [c.name for c in self.state.transfers.contacts()] + [r.name for r in self.state.accounts.rows()]
        except StudioError:
            names = [r.name for r in self.state.accounts.rows()]
        completer = QCompleter(names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.recipient.setCompleter(completer)

    def _describe_recipient(self, text: str) -> None:
        self.recipient_note.setText(self.state.transfers.describe_recipient(text))
        from studio.ui.money import ADDRESS_PATTERN

        bare = bool(ADDRESS_PATTERN.match(text.strip())) and self.recipient_note.text() == "Not in your address book."
        self.save_row.setVisible(bare)

    def save_recipient(self) -> None:
        """Save the typed address under the typed name."""
        try:
            self.state.transfers.save_contact(self.save_name.text(), self.recipient.text())
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        show_error(self.error, "")
        self.save_name.clear()
        self._set_completer()
        self._describe_recipient(self.recipient.text())

    # -- the flow (PreviewedSendDialog): Max, review → preview → send and wait ---------------------

    def _start_max(self) -> Job:
        return self.state.transfers.max_amount(self.recipient.text(), account=self.account_combo.currentData(),
                                     speed=self.speed.currentData())

    def _start_review(self) -> tuple[Job, str]:
        job = self.state.transfers.prepare_send(self.recipient.text(), self.amount.text(),
                                      account=self.account_combo.currentData(), speed=self.speed.currentData())
        return job, "Simulating and estimating the fee…"

    def _busy_widgets(self) -> tuple[QWidget, ...]:
        return (self.review_button, self.recipient, self.amount, self.account_combo, self.speed, self.max_button,
                self.recipient_button)

    def _sent_text(self, outcome: SendOutcome) -> str:
        return f"Sent {format_eth(outcome.sent.preview.value_wei, self.state.network.currency)}"
