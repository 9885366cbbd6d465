"""The acting account, chosen in one place and the same in every tab: a switcher for the window's header
and one for its status bar, both over the wallet's view-model (``WalletState.current_account``).

Choosing an account here is ``select_account``: the Wallet tab's selection, the Create tab's signer,
the Market's and the Collections' acting account all follow its ``current_account_changed``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QSizePolicy, QWidget

from studio.text import printable
from studio.ui.money import format_eth, short_address

if TYPE_CHECKING:
    from studio.ui.state.wallet import WalletState


class AccountSwitcher(QComboBox):
    """The wallet's accounts (name, short address, balance); choosing one makes it the acting account."""

    def __init__(self, parent: QWidget | None = None, *, compact: bool = False) -> None:
        super().__init__(parent)
        self.compact = compact
        self.state: "WalletState | None" = None
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.setToolTip("The acting account: it signs, sends, buys and lists in every tab")
        self.setAccessibleName("Acting account")
        self.addItem("No wallet", "")
        self.setEnabled(False)
        self.activated.connect(self._chosen)

    def bind(self, state: "WalletState") -> None:
        """Follow ``state``'s accounts and current account from now on."""
        self.state = state
        state.accounts.modelReset.connect(self.refill)
        state.current_account_changed.connect(self._show_current)
        state.has_wallet_changed.connect(self.refill)
        self.refill()

    def refill(self, *_: Any) -> None:
        state = self.state
        if state is None:
            return
        self.blockSignals(True)
        self.clear()
        rows = state.accounts.rows()
        for row in rows:
            text = f"{printable(row.name)} · {short_address(row.address)}"
            if not self.compact and row.balance_wei is not None:
                text += f" · {format_eth(row.balance_wei, state.accounts.currency)}"
            self.addItem(text, row.address)
            self.setItemData(self.count() - 1, f"{printable(row.name)}\n{row.address}", Qt.ItemDataRole.ToolTipRole)
        if not rows:
            self.addItem("No wallet", "")
        self.setEnabled(bool(rows))
        self.blockSignals(False)
        self._show_current(state.current_account)

    def _show_current(self, address: str) -> None:
        index = self.findData(address)
        if index >= 0 and index != self.currentIndex():
            self.blockSignals(True)
            self.setCurrentIndex(index)
            self.blockSignals(False)

    def _chosen(self, index: int) -> None:
        address = self.itemData(index)
        if self.state is not None and address and address != self.state.current_account:
            self.state.select_account(address)

    def choose(self, address: str) -> None:
        """Make ``address`` the acting account, as picking it in the list does."""
        index = self.findData(address)
        if index >= 0:
            self.setCurrentIndex(index)
            self._chosen(index)
