"""Wrap ETH into WETH, or unwrap WETH back into ETH, for the acting account: an amount (Max fills in
the balance less the gas, or all the WETH), Review… prepares it and opens the one transaction
preview, and only an accepted preview is signed, sent and waited for. Errors stay in the dialog."""
from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from studio.ui.dialogs.send_flow import PreviewedSendDialog
from studio.ui.money import format_eth, short_address
from studio.ui.state.wallet import WalletState
from studio.ui.state.wallet_send import SendOutcome
from studio.ui.state.wallet_weth import WRAP
from studio.ui.workers import Job


class WethDialog(PreviewedSendDialog):
    """Wrap (``kind`` "wrap") or unwrap ("unwrap") an amount for the wallet's acting account."""

    def __init__(self, state: WalletState, kind: str, parent: QWidget | None = None, *,
                 timeout: float = 120.0) -> None:
        super().__init__(state, parent, timeout=timeout)
        self.kind = kind
        self.account = state.current_account
        currency = state.network.currency
        wrap = kind == WRAP
        self.setWindowTitle(f"Wrap {currency} into WETH" if wrap else f"Unwrap WETH into {currency}")
        self.setMinimumWidth(480)

        row = state.account_row(self.account)
        self.balances = QLabel()
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("0.0")
        self.max_button = QPushButton("Max")
        self.max_button.setToolTip("The balance less the largest fee the wrap may cost" if wrap else "All the WETH")
        self.max_button.clicked.connect(self.fill_max)
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount, 1)
        amount_row.addWidget(QLabel(currency if wrap else "WETH"))
        amount_row.addWidget(self.max_button)
        explain = QLabel("Offers are made in WETH, one for one with ETH. Wrapping keeps some ETH back for the fee."
                         if wrap else "WETH turns back into ETH, one for one. Offers you made in WETH stop being "
                                      "fillable if it runs short.")
        explain.setWordWrap(True)
        explain.setProperty("muted", True)
        form = QFormLayout()
        form.addRow("Network", QLabel(state.network.name + ("  ·  MAINNET: real money"
                                                            if state.network.is_mainnet else "")))
        form.addRow("Account", QLabel(f"{row.name}  ·  {short_address(row.address)}"))
        form.addRow("Holds", self.balances)
        form.addRow("Amount", amount_row)

        self._lay_out(explain, form)
        self._bind()

    def _bind(self) -> None:
        self.bindings.bind(self.state.weth, "line", None, self._show_balances)  # the balances as last read

    def _show_balances(self, *_: object) -> None:
        row = self.state.account_row(self.account)
        self.balances.setText(f"{format_eth(row.balance_wei, self.state.network.currency)}  ·  "
                              f"{format_eth(self.state.weth.held(self.account), 'WETH')}")

    # -- the flow (PreviewedSendDialog): Max, review → preview → send and wait ---------------------

    def _start_max(self) -> Job:
        return self.state.weth.max_amount(self.kind, account=self.account)

    def _start_review(self) -> tuple[Job, str]:
        job = self.state.weth.prepare(self.kind, self.amount.text(), account=self.account)
        return job, "Checking the balance, simulating and estimating the fee…"

    def _sent_text(self, outcome: SendOutcome) -> str:
        return "Wrapped" if self.kind == WRAP else "Unwrapped"
