"""The Wallet tab: an empty state offering to create or import a wallet; otherwise the network
switcher with its chain-id status, the lock button, the accounts with balances, the actions
(send, sign, add account, recovery phrase, keystore export), the selected account's WETH with
Wrap… and Unwrap… (on networks with WETH), and the transaction history with
speed up / cancel for pending transactions. All bindings to :class:`WalletState` are in
:meth:`WalletTab.bind`; every dialog is opened non-blocking and kept in ``last_dialog``."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QHBoxLayout, QHeaderView, QLabel,
                               QMessageBox, QPushButton, QSizePolicy, QStackedWidget, QTableView, QTabWidget,
                               QVBoxLayout, QWidget)

from studio.errors import StudioError
from studio.ui.binding import Bindings
from studio.ui.state.wallet import WalletState, network_label
from studio.ui.tabs.create import Banner
from studio.ui import theme
from studio.ui.widgets.empty_state import empty_state_page
from studio.ui.widgets.progress import ProgressStrip

EMPTY_TEXT = ("The studio's wallet signs your mints, listings and sales. Create a new wallet (you get a "
              "recovery phrase to write down) or import one you have: a recovery phrase, a private key or a "
              "keystore file. Keys stay on this computer, encrypted with your password.")


def _section(title: str) -> QLabel:
    label = QLabel(title.upper())
    label.setObjectName("sectionTitle")
    return label


def _table(model) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.setShowGrid(False)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    return view


class WalletTab(QWidget):
    """The widgets of the Wallet tab, observing one :class:`WalletState`."""

    def __init__(self, state: WalletState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.bindings = Bindings(self)
        self.last_dialog: QDialog | None = None
        self._refreshed_once = False
        self.stack = QStackedWidget()
        self.empty_page = self._build_empty_page()
        self.main_page = self._build_main_page()
        self.stack.addWidget(self.empty_page)
        self.stack.addWidget(self.main_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.bind(state)

    # -- building -------------------------------------------------------------------------------

    def _build_empty_page(self) -> QWidget:
        self.create_button = QPushButton("Create a wallet")
        self.create_button.setProperty("accent", True)
        self.import_button = QPushButton("Import…")
        return empty_state_page("Wallet", EMPTY_TEXT, left=[self.import_button], right=[self.create_button])

    def _build_main_page(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(14, 12, 14, 10)
        column.setSpacing(8)

        self.network_combo = QComboBox()
        self.network_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.network_status = QLabel()
        self.network_status.setWordWrap(True)
        self.network_status.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.lock_label = QLabel()
        self.lock_button = QPushButton()
        self.lock_button.setMinimumWidth(110)
        header = QHBoxLayout()
        header.addWidget(QLabel("Network"))
        header.addWidget(self.network_combo)
        header.addWidget(self.network_status, 1)
        header.addWidget(self.lock_label)
        header.addWidget(self.lock_button)
        column.addLayout(header)

        self.error_banner = Banner("errorBanner")
        column.addWidget(self.error_banner)
        self.notice_label = QLabel()
        self.notice_label.setProperty("muted", True)
        self.notice_label.setWordWrap(True)
        column.addWidget(self.notice_label)

        column.addWidget(_section("Accounts"))
        self.accounts_view = _table(self.state.accounts)
        header_view = self.accounts_view.horizontalHeader()
        header_view.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for section, width in ((1, 180), (2, 240)):
            header_view.setSectionResizeMode(section, QHeaderView.ResizeMode.Fixed)
            header_view.resizeSection(section, width)
        self.accounts_view.setMinimumHeight(120)
        column.addWidget(self.accounts_view, 2)

        self.weth_label = QLabel()
        self.weth_label.setToolTip("The selected account's ETH and WETH (what offers are made in)")
        self.wrap_button = QPushButton("Wrap…")
        self.wrap_button.setToolTip("Turn ETH into WETH, one for one, to make offers with")
        self.unwrap_button = QPushButton("Unwrap…")
        self.unwrap_button.setToolTip("Turn WETH back into ETH, one for one")
        self.weth_row = QWidget()
        weth_layout = QHBoxLayout(self.weth_row)
        weth_layout.setContentsMargins(0, 0, 0, 0)
        weth_layout.addWidget(self.weth_label)
        weth_layout.addStretch(1)
        weth_layout.addWidget(self.wrap_button)
        weth_layout.addWidget(self.unwrap_button)
        column.addWidget(self.weth_row)

        self.send_button = QPushButton("Send…")
        self.send_button.setProperty("accent", True)
        self.receive_button = QPushButton("Receive…")
        self.receive_button.setToolTip("The selected account's address, with a QR code")
        self.sign_button = QPushButton("Sign message…")
        self.copy_button = QPushButton("Copy address")
        self.add_account_button = QPushButton("Add account")
        self.import_more_button = QPushButton("Import…")
        self.import_more_button.setToolTip("Add accounts from a phrase, a private key or a keystore file")
        self.fund_button = QPushButton("Fund from devnet")
        self.fund_button.setToolTip("The devnet's test accounts pay 10 ETH to the selected account "
                                    "(devnet ETH: for trying things out, worth nothing)")
        self.phrase_button = QPushButton("Show recovery phrase…")
        self.export_button = QPushButton("Export keystore…")
        self.refresh_button = QPushButton("Refresh")
        actions = QHBoxLayout()
        for button in (self.send_button, self.receive_button, self.sign_button, self.copy_button,
                       self.add_account_button,
                       self.import_more_button, self.fund_button):
            actions.addWidget(button)
        actions.addStretch(1)
        for button in (self.phrase_button, self.export_button, self.refresh_button):
            actions.addWidget(button)
        column.addLayout(actions)

        column.addSpacing(6)
        self.history_account = QComboBox()
        self.history_account.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.history_account.setToolTip("Show the activity and the NFTs of one account, or of all")
        self.history_view = _table(self.state.activity.history)
        history_header = self.history_view.horizontalHeader()
        for i in range(self.state.activity.history.columnCount()):
            history_header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        history_header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)  # the action
        self.speed_up_button = QPushButton("Speed up")
        self.speed_up_button.setToolTip("Resend the pending transaction with higher fees (same nonce)")
        self.cancel_tx_button = QPushButton("Cancel transaction")
        self.cancel_tx_button.setToolTip("Replace the pending transaction by a 0 ETH transfer to yourself")
        self.history_empty = QLabel("No transactions sent on this network yet.")
        self.history_empty.setProperty("muted", True)
        activity = QWidget()
        activity_column = QVBoxLayout(activity)
        activity_column.setContentsMargins(0, 6, 0, 0)
        activity_column.addWidget(self.history_view, 1)
        row = QHBoxLayout()
        row.addWidget(self.history_empty)
        row.addStretch(1)
        row.addWidget(self.speed_up_button)
        row.addWidget(self.cancel_tx_button)
        activity_column.addLayout(row)

        self.nfts_view = _table(self.state.activity.nfts)
        nfts_header = self.nfts_view.horizontalHeader()
        for i in range(self.state.activity.nfts.columnCount()):
            nfts_header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        nfts_header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the collection
        self.nfts_empty = QLabel("No NFTs in the collections the studio knows. Mint in Create, buy in Market, or "
                                 "open a collection in Collections to add it.")
        self.nfts_empty.setProperty("muted", True)
        self.nfts_empty.setWordWrap(True)
        nfts = QWidget()
        nfts_column = QVBoxLayout(nfts)
        nfts_column.setContentsMargins(0, 6, 0, 0)
        nfts_column.addWidget(self.nfts_view, 1)
        nfts_column.addWidget(self.nfts_empty)

        self.lower_tabs = QTabWidget()
        self.lower_tabs.setDocumentMode(True)
        self.lower_tabs.addTab(activity, "Activity")
        self.lower_tabs.addTab(nfts, "NFTs")
        account_pick = QWidget()
        pick_row = QHBoxLayout(account_pick)
        pick_row.setContentsMargins(0, 0, 0, 0)
        pick_row.addWidget(QLabel("Account"))
        pick_row.addWidget(self.history_account)
        self.lower_tabs.setCornerWidget(account_pick, Qt.Corner.TopRightCorner)
        column.addWidget(self.lower_tabs, 4)

        self.progress = ProgressStrip()
        column.addWidget(self.progress)
        return page

    # -- bindings -------------------------------------------------------------------------------

    def bind(self, state: WalletState) -> None:
        """Every connection between the widgets and the view-model, in one place."""
        b = self.bindings
        b.connect(self.create_button.clicked, lambda: self.open_setup("create"))
        b.connect(self.import_button.clicked, lambda: self.open_setup("phrase"))
        b.connect(self.import_more_button.clicked, lambda: self.open_setup("phrase"))
        b.bind(state, "has_wallet", None, lambda has: self.stack.setCurrentIndex(1 if has else 0))
        self._fill_networks()
        b.connect(state.networks_changed, self._fill_networks)
        b.connect(self.network_combo.currentIndexChanged, self._on_network_chosen)
        b.bind(state, "network_key", None, self._show_network)
        b.bind(state, "network_line", None, self.network_status.setText)
        b.bind(state, "network_ok", None, self._colour_status)
        b.bind(state, "unlocked", None, self._show_lock_state)
        b.connect(self.lock_button.clicked, self.toggle_lock)
        b.bind(state, "error", None, self.error_banner.show_text)
        b.connect(self.error_banner.close_button.clicked, state.dismiss_error)
        b.bind(state, "notice", None, self.notice_label.setText)
        b.bind(state, "progress_text", None, self.progress.set_text)
        b.bind(state, "progress_fraction", None, self.progress.set_fraction)
        b.bind(state, "busy", None, self._show_busy)
        b.bind(state, "has_phrase", None, self._show_phrase_actions)
        b.connect(self.accounts_view.selectionModel().selectionChanged, self._on_account_selected)
        b.connect(state.accounts.modelReset, self._select_current_account)
        b.bind(state, "current_account", None, lambda _: self._select_current_account())
        b.connect(self.history_view.selectionModel().selectionChanged, self._update_history_buttons)
        self._fill_history_accounts()
        b.connect(state.accounts.modelReset, self._fill_history_accounts)
        b.connect(self.history_account.currentIndexChanged, self._on_history_account_chosen)
        b.connect(state.activity.history.modelReset, self._update_history_buttons)
        b.connect(self.send_button.clicked, lambda: self.when_unlocked(self.open_send))
        b.connect(self.receive_button.clicked, self.open_receive)
        b.connect(state.activity.nfts.modelReset, self._update_nfts_empty)
        b.connect(self.sign_button.clicked, lambda: self.when_unlocked(self.open_sign_message))
        b.connect(self.copy_button.clicked, self.copy_address)
        b.connect(self.add_account_button.clicked, lambda: self.when_unlocked(self.add_account))
        b.connect(self.phrase_button.clicked, self.open_reveal_phrase)
        b.connect(self.export_button.clicked, self.open_export)
        b.connect(self.refresh_button.clicked, state.refresh)
        b.connect(self.fund_button.clicked, self.fund_from_devnet)
        b.bind(state.weth, "line", None, self.weth_label.setText)
        b.bind(state.weth, "available", None, self.weth_row.setVisible)
        b.connect(self.wrap_button.clicked, lambda: self.when_unlocked(lambda: self.open_weth("wrap")))
        b.connect(self.unwrap_button.clicked, lambda: self.when_unlocked(lambda: self.open_weth("unwrap")))
        b.connect(self.speed_up_button.clicked, self.speed_up)
        b.connect(self.cancel_tx_button.clicked, self.cancel_pending)
        self._update_history_buttons()

    def _fill_history_accounts(self) -> None:
        """The filter's choices, "All accounts" and each account by name; the choice survives a refresh."""
        combo = self.history_account
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("All accounts", "")
        for row in self.state.accounts.rows():
            combo.addItem(row.name, row.address)
        combo.setCurrentIndex(max(0, combo.findData(self.state.activity.account)))
        combo.blockSignals(False)

    def _on_history_account_chosen(self, index: int) -> None:
        self.state.activity.show_of(self.history_account.itemData(index) or "")

    def _fill_networks(self) -> None:
        self.network_combo.blockSignals(True)
        self.network_combo.clear()
        for network in self.state.networks():
            self.network_combo.addItem(network_label(network), network.key)
            if network.is_mainnet:
                index = self.network_combo.count() - 1
                self.network_combo.setItemData(index, QBrush(QColor(theme.ERROR_TEXT)), Qt.ItemDataRole.ForegroundRole)
                self.network_combo.setItemData(index, "Real money: every transfer asks for confirmation",
                                               Qt.ItemDataRole.ToolTipRole)
        self.network_combo.setCurrentIndex(max(0, self.network_combo.findData(self.state.network_key)))
        self.network_combo.blockSignals(False)

    def _show_network(self, key: str) -> None:
        index = self.network_combo.findData(key)
        if index >= 0 and index != self.network_combo.currentIndex():
            self.network_combo.blockSignals(True)
            self.network_combo.setCurrentIndex(index)
            self.network_combo.blockSignals(False)
        self.fund_button.setVisible(self.state.transfers.can_fund_from_devnet)
        mainnet = self.state.network.is_mainnet
        self.network_combo.setStyleSheet(f"QComboBox {{ color: {theme.ERROR_TEXT}; font-weight: 600; }}" if mainnet else "")

    def _on_network_chosen(self, index: int) -> None:
        key = self.network_combo.itemData(index)
        if key:
            try:
                self.state.switch_network(key)
            except StudioError as exc:
                self.state.error = str(exc)

    def _colour_status(self, ok: bool) -> None:
        self.network_status.setStyleSheet(f"color: {theme.OK_TEXT if ok else theme.MUTED};")

    def _show_lock_state(self, unlocked: bool) -> None:
        self.lock_label.setText("● Unlocked" if unlocked else "● Locked")
        self.lock_label.setStyleSheet(f"color: {theme.OK_TEXT if unlocked else theme.WARNING_TEXT};")
        self.lock_button.setText("Lock" if unlocked else "Unlock…")
        self.lock_button.setToolTip("Forget the keys now" if unlocked else "Enter the password to sign")

    def _show_busy(self, busy: bool) -> None:
        self.refresh_button.setEnabled(not busy)
        self.fund_button.setEnabled(not busy)
        self.progress.bar.setVisible(busy)  # the line of text stays: "Up to date.", or what failed

    def _show_phrase_actions(self, has_phrase: bool) -> None:
        self.phrase_button.setEnabled(has_phrase)
        self.add_account_button.setEnabled(has_phrase)
        tip = "" if has_phrase else "This wallet's accounts were imported as keys: there is no phrase."
        self.phrase_button.setToolTip(tip or "The recovery phrase the selected account was made from")
        self.add_account_button.setToolTip(tip or "Derive the next account of the selected account's recovery phrase")

    # -- selection ------------------------------------------------------------------------------

    def _on_account_selected(self) -> None:
        rows = self.accounts_view.selectionModel().selectedRows()
        if rows:
            self.state.select_account(self.state.accounts.row(rows[0].row()).address)

    def _select_current_account(self) -> None:
        row = self.state.accounts.index_of(self.state.current_account) if self.state.current_account else -1
        selection = self.accounts_view.selectionModel()
        if row < 0:
            return
        current = selection.selectedRows()
        if current and current[0].row() == row:
            return
        selection.select(self.state.accounts.index(row, 0),
                         QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)

    def selected_history_hash(self) -> str | None:
        rows = self.history_view.selectionModel().selectedRows()
        return self.state.activity.history.entry(rows[0].row()).tx_hash if rows else None

    def _update_history_buttons(self, *_: object) -> None:
        rows = self.history_view.selectionModel().selectedRows()
        pending = bool(rows) and self.state.activity.history.entry(rows[0].row()).status == "pending"
        self.speed_up_button.setEnabled(pending)
        self.cancel_tx_button.setEnabled(pending)
        self.history_empty.setVisible(self.state.activity.history.rowCount() == 0)

    # -- actions --------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._refreshed_once and self.state.has_wallet:
            self._refreshed_once = True
            self.state.refresh()

    def _open(self, dialog: QDialog) -> QDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.last_dialog = dialog
        dialog.open()
        return dialog

    def open_setup(self, mode: str | None = None) -> QDialog:
        from studio.ui.dialogs.wallet_setup import WalletSetupWizard

        return self._open(WalletSetupWizard(self.state, self, mode=mode))

    def open_unlock(self) -> QDialog:
        from studio.ui.dialogs.unlock import UnlockDialog

        return self._open(UnlockDialog(self.state, self))

    def when_unlocked(self, action: Callable[[], object]) -> None:
        """Run `action` now when unlocked, else after the unlock dialog succeeds."""
        if self.state.wallet.is_unlocked:
            action()
            return
        self.open_unlock().accepted.connect(action)

    def toggle_lock(self) -> None:
        if self.state.wallet.is_unlocked:
            self.state.lock()
        else:
            self.open_unlock()

    def open_send(self) -> QDialog:
        from studio.ui.dialogs.send import SendDialog

        return self._open(SendDialog(self.state, self))

    def open_weth(self, kind: str) -> QDialog | None:
        """The Wrap… or Unwrap… dialog for the selected account (``kind``: "wrap" or "unwrap")."""
        from studio.ui.dialogs.weth import WethDialog

        try:
            return self._open(WethDialog(self.state, kind, self))
        except StudioError as exc:
            self.state.error = str(exc)
            return None

    def open_receive(self) -> QDialog:
        from studio.ui.dialogs.receive import ReceiveDialog

        return self._open(ReceiveDialog(self.state, self))

    def _update_nfts_empty(self) -> None:
        self.nfts_empty.setVisible(self.state.activity.nfts.rowCount() == 0)

    def open_sign_message(self) -> QDialog:
        from studio.ui.dialogs.sign_message import SignMessageDialog

        return self._open(SignMessageDialog(self.state, self))

    def open_reveal_phrase(self) -> QDialog:
        from studio.ui.dialogs.secrets import RevealPhraseDialog

        return self._open(RevealPhraseDialog(self.state, self))

    def open_export(self) -> QDialog | None:
        from studio.ui.dialogs.secrets import ExportKeystoreDialog

        try:
            return self._open(ExportKeystoreDialog(self.state, self.state.current_account, self))
        except StudioError as exc:
            self.state.error = str(exc)
            return None

    def fund_from_devnet(self) -> None:
        self._run_guarded(self.state.transfers.fund_from_devnet)

    def add_account(self) -> None:
        try:
            self.state.keys.add_account()
        except StudioError as exc:
            self.state.error = str(exc)

    def copy_address(self) -> None:
        """Copy the selected account's address (public: safe on the clipboard)."""
        if self.state.current_account:
            QGuiApplication.clipboard().setText(self.state.current_account)
            self.state.flash_notice(f"Copied {self.state.current_account}.")

    def speed_up(self) -> None:
        tx_hash = self.selected_history_hash()
        if tx_hash is None:
            return
        confirmed = True
        if self.state.network.is_mainnet:
            answer = QMessageBox.question(self, "Speed up on a mainnet",
                                          f"Resend this transaction on {self.state.network.name} with higher fees? "
                                          "It spends real money.")
            confirmed = answer == QMessageBox.StandardButton.Yes
            if not confirmed:
                return
        transfers = self.state.transfers
        self.when_unlocked(lambda: self._run_guarded(lambda: transfers.speed_up(tx_hash, confirmed=confirmed)))

    def cancel_pending(self) -> None:
        tx_hash = self.selected_history_hash()
        if tx_hash is not None:
            self.when_unlocked(lambda: self._run_guarded(lambda: self.state.transfers.cancel_pending(tx_hash)))

    def _run_guarded(self, start: Callable[[], object]) -> None:
        try:
            start()
        except StudioError as exc:
            self.state.error = str(exc)
