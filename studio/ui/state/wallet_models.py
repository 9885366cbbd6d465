"""The Wallet tab's table models: its accounts with balances, and the transactions it sent."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from studio.text import printable
from studio.ui.money import format_eth, short_address
from studio.ui.table_model import RowsTableModel

if TYPE_CHECKING:
    from studio.chain.history import HistoryEntry


@dataclass(frozen=True)
class AccountRow:
    """One account line: name, address, balance (None while unknown or when the node failed)."""

    address: str
    name: str
    path: str | None
    balance_wei: int | None = None
    phrase: int | None = None  # which of the wallet's recovery phrases (0: the first); None: an imported key


class AccountsModel(RowsTableModel):
    """The wallet's accounts for a table: name, short address, balance."""

    COLUMNS = ("Name", "Address", "Balance")
    currency = "ETH"  # the current network's, set by the view-model
    AddressRole = Qt.ItemDataRole.UserRole + 1

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (printable(row.name), short_address(row.address), format_eth(row.balance_wei, self.currency))[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            source = "imported key" if not row.path else f"derived on {row.path}" + (
                f" of recovery phrase {row.phrase + 1}" if row.phrase else "")
            return f"{printable(row.name)}\n{row.address}\n{printable(source)}"
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == self.AddressRole:
            return row.address
        return None

    def rows(self) -> list[AccountRow]:
        return list(self._rows)

    def row(self, index: int) -> AccountRow:
        return self._rows[index]

    def index_of(self, address: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.address.lower() == address.lower()), -1)



class HistoryModel(RowsTableModel):
    """Sent transactions, newest first: time, from (the account's name), action, to, value, status, hash."""

    COLUMNS = ("Time", "From", "Action", "To", "Value", "Status", "Hash")
    currency = "ETH"  # the current network's, set by the view-model
    names: dict[str, str] = {}  # the wallet's account names by lower-case address, set by the view-model

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            from studio.chain.sender import history_status

            when = _dt.datetime.fromtimestamp(entry.created_at).strftime("%Y-%m-%d %H:%M")
            sender = self.names.get(entry.sender.lower()) or short_address(entry.sender)
            return (when, printable(sender), printable(entry.description), short_address(entry.recipient) or "new contract",
                    format_eth(entry.value_wei, self.currency), history_status(entry.status),
                    short_address(entry.tx_hash))[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"Hash {entry.tx_hash}", f"From {entry.sender}", f"To {entry.recipient or 'new contract'}",
                     f"Nonce {entry.nonce}"]
            if entry.block_number is not None:
                lines.append(f"Block {entry.block_number}, gas used {entry.gas_used}")
            if entry.replaced_by:
                lines.append(f"Replaced by {entry.replaced_by}")
            return "\n".join(lines)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def entry(self, row: int) -> "HistoryEntry":
        return self._rows[row]

    def entries(self) -> list["HistoryEntry"]:
        return list(self._rows)


class NftsModel(RowsTableModel):
    """The tokens the wallet's accounts hold (``Holding`` rows): account, collection, token, status."""

    COLUMNS = ("Account", "Collection", "Token", "Status")
    currency = "ETH"
    names: dict[str, str] = {}  # the wallet's account names by lower-case address, set by the view-model

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        held = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            status = (f"listed at {format_eth(held.listed_price_wei, self.currency)} on {held.listed_on}"
                      if held.listed_price_wei is not None else "held")
            if held.work_id is not None:
                status += " · your work"
            return (printable(self.names.get(held.owner.lower()) or short_address(held.owner)),
                    printable(held.collection_name), f"#{held.token_id}", status)[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{printable(held.collection_name)}\n{held.collection}\nToken {held.token_id}\nHeld by {held.owner}"
        return None

    def holding(self, row: int) -> Any:
        return self._rows[row]
