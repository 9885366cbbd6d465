"""The Wallet's activity: the transactions its accounts sent (read with each refresh) and the NFTs they
hold on the current network (read from the library), for one account or for all of them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from studio.ui.binding import Field
from studio.ui.state.wallet_models import HistoryModel, NftsModel
from studio.ui.workers import Job

if TYPE_CHECKING:
    from studio.chain.history import HistoryEntry
    from studio.ui.state.wallet import Report, WalletState


class WalletActivity(QObject):
    """The history and NFTs models of one :class:`WalletState`, and whose they show."""

    account_changed = Signal(str)
    #: The NFTs model holds what the accounts hold (after `load_nfts`).
    nfts_loaded = Signal()

    #: Whose transactions and NFTs show: an account's address, or "" for every account.
    account = Field("")

    def __init__(self, state: "WalletState") -> None:
        super().__init__(state)
        self.state = state
        self.history = HistoryModel(self)
        self.nfts = NftsModel(self)
        self._entries: list["HistoryEntry"] = []  # every account's; `history` shows the filtered ones
        self._nft_generation = 0

    def forget_account(self, addresses: list[str]) -> None:
        """Show every account again when the one shown left the wallet (`addresses`: those it has)."""
        if self.account and self.account not in addresses:
            self.show_of("")

    def set_entries(self, entries: list["HistoryEntry"]) -> None:
        """Every account's transactions, as a refresh read them."""
        self._entries = list(entries)
        self._show()

    def show_of(self, address: str) -> None:
        """Show the transactions and NFTs of one account (its address), or of every account ("")."""
        self.account = address
        self._show()

    def _show(self) -> None:
        wanted = self.account.lower()
        self.history.set_rows([e for e in self._entries if not wanted or e.sender.lower() == wanted])
        self.load_nfts()

    def load_nfts(self) -> Job:
        """What the accounts (the one shown, or all) hold on this network, from the library: the
        studio's mints, the collections opened in Collections and the market's events."""
        state = self.state
        self._nft_generation += 1
        generation = self._nft_generation
        owners = [self.account] if self.account else [r.address for r in state.accounts.rows()]
        chain_id = state.network.chain_id
        library = state.ensure_library()

        def work(_report: "Report", _cancel: Any) -> list[Any]:
            from studio.library.holdings import holdings

            return holdings(library, chain_id, owners)

        job = state.start_job("Reading the accounts' NFTs", work, quiet=True)
        job.to(self).succeeded.connect(lambda rows: self._on_nfts(generation, rows))
        job.to(self).failed.connect(state.show_failure)
        return job

    def _on_nfts(self, generation: int, rows: list[Any]) -> None:
        if generation == self._nft_generation:
            self.nfts.set_rows(rows)
            self.nfts_loaded.emit()
