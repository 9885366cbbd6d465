"""The Market tab: what is for sale on the current network (Seaport listings from every account, escrow
listings and lazy listings, with image, name, collection, artist, price, royalty, provenance and end,
searchable and sortable, a Buy and an Offer button each), "My collection" (the wallet's tokens with
List (one, or several under one signature) / Change price / Cancel / Accept best offer), "Offers" (on
your tokens, and your own, in WETH or escrowed ETH) and "My orders" (your Seaport orders, whether each
can still be filled, cancel one or all; cancel all lazy listings). A status line says the network and
the last block read; empty views say what to do. The header names the acting account, with a
switcher: the views show its tokens and offers, and every action signs as it (the same account the
Wallet tab and the status bar show).

Every signature the view-model asks for opens the preview here (`TxPreviewDialog` for transactions,
`SignaturePreviewDialog` for a Seaport order or a lazy listing's voucher); the answer goes back to the
waiting worker. All bindings to :class:`MarketState` are in :meth:`MarketTab.bind`; dialogs open
non-blocking and are kept in ``last_dialog`` / ``preview_dialog``.
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QHBoxLayout, QHeaderView, QInputDialog, QLabel,
                               QLineEdit, QMenu, QPushButton, QStackedWidget, QTableView, QTabWidget, QVBoxLayout, QWidget)

from studio.errors import StudioError
from studio.text import printable
from studio.ui.binding import Bindings
from studio.ui.dialogs.offer import OfferDialog
from studio.ui.dialogs.sell import BulkListDialog, LazyListDialog, SellDialog, plain_label
from studio.ui.dialogs.signature_preview import SignaturePreviewDialog
from studio.ui.dialogs.tx_preview import TxPreviewDialog
from studio.ui.money import format_eth
from studio.ui.state.market import LAZY, HeldToken, MarketItem, MarketState, OfferLine, PreviewRequest
from studio.ui.tabs.create import Banner
from studio.ui.widgets.progress import ProgressStrip
from studio.ui.widgets.market_tables import SORTS, MarketRowsModel, OrderLine

ROW_HEIGHT = 72
EMPTY_LISTINGS = ("Nothing is for sale on {network} yet.\nArtists: list a minted token from “My collection”, or "
                  "“Lazy-list a work…” to sell one without minting it first.")
EMPTY_COLLECTION = ("{account} holds no token on {network}.\nBuy one under “Listings”, mint your works from the "
                    "Create tab, or choose another account above.")
EMPTY_OFFERS = ("{account} has no open offers on {network}.\nMake one with “Offer…” under “Listings”; offers on "
                "its tokens show up here to accept.")
EMPTY_ORDERS = ("{account} has no open Seaport orders on {network}.\nListings and offers you sign show up here, "
                "with whether each can still be filled.")
NO_MATCH = "No listing matches “{query}”."


def _table(model: Any, *, thumbnails: bool = True, many: bool = False) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if many else
                          QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.setShowGrid(False)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
    if thumbnails:
        view.setIconSize(QSize(ROW_HEIGHT - 8, ROW_HEIGHT - 8))
        view.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(0, ROW_HEIGHT + 4)
    return view


def _empty_label() -> QLabel:
    label = plain_label(muted=True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


class _Page(QStackedWidget):
    """A view with its empty state: the table when it has rows, else a line saying what to do."""

    def __init__(self, view: QWidget, empty: QLabel) -> None:
        super().__init__()
        self.view, self.empty = view, empty
        self.addWidget(view)
        self.addWidget(empty)

    def show_rows(self, has_rows: bool) -> None:
        self.setCurrentWidget(self.view if has_rows else self.empty)


class MarketTab(QWidget):
    """The widgets of the Market tab, observing one :class:`MarketState`."""

    #: A preview dialog was opened for a worker's question (TxPreviewDialog or SignaturePreviewDialog).
    preview_shown = Signal(object)

    def __init__(self, state: MarketState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.bindings = Bindings(self)
        self.last_dialog: QDialog | None = None
        self.preview_dialog: QDialog | None = None
        self.buy_buttons: list[QPushButton] = []
        self.offer_buttons: list[QPushButton] = []

        title = QLabel("Market")
        title.setObjectName("heroTitle")
        self.status = plain_label(muted=True)
        self.account_label = QLabel("Acting as")
        self.account_combo = QComboBox()
        self.account_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.account_combo.setToolTip("The account that buys, offers, lists and sells here; its tokens and offers "
                                      "are the ones shown. The Wallet tab and the status bar follow the choice.")
        self.buyer_label = plain_label(muted=True)
        acting = QHBoxLayout()
        acting.addWidget(self.account_label)
        acting.addWidget(self.account_combo)
        acting.addSpacing(8)
        acting.addWidget(self.buyer_label, 1)
        self.refresh_button = QPushButton("Refresh")
        self.lazy_button = QPushButton("Lazy-list a work…")
        self.opensea_button = QPushButton("OpenSea listings…")
        self.withdraw_button = QPushButton("Withdraw payments")
        self.withdraw_button.setToolTip("Collect sale proceeds or royalties the marketplace could not send you.")
        header = QHBoxLayout()
        header.addWidget(title)
        header.addSpacing(12)
        header.addWidget(self.status, 1)
        header.addWidget(self.withdraw_button)
        header.addWidget(self.lazy_button)
        header.addWidget(self.opensea_button)
        header.addWidget(self.refresh_button)

        self.error_banner = Banner("errorBanner")
        self.error_banner.label.setTextFormat(Qt.TextFormat.PlainText)
        self.notice = plain_label()
        self.progress = ProgressStrip()
        self.progress.set_fraction(-1)
        self.progress.setVisible(False)

        self.listings_view = _table(state.listings)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name, collection, artist or token number")
        self.search.setClearButtonEnabled(True)
        self.sort_combo = QComboBox()
        for key, label in SORTS.items():
            self.sort_combo.addItem(label, key)
        self.listings_shown = plain_label(muted=True)  # "3 of 7" while a search narrows them
        self.listings_search, self.listings_sort = self.search, self.sort_combo  # main's names for them
        listings_bar = QHBoxLayout()
        listings_bar.addWidget(self.search, 1)
        listings_bar.addWidget(QLabel("Sort"))
        listings_bar.addWidget(self.sort_combo)
        listings_bar.addWidget(self.listings_shown)
        self.listings_stack = _Page(self.listings_view, _empty_label())
        self.listings_page = self.listings_stack
        listings = QWidget()
        listings_column = QVBoxLayout(listings)
        listings_column.setContentsMargins(0, 6, 0, 0)
        listings_column.addLayout(listings_bar)
        listings_column.addWidget(self.listings_stack, 1)
        self.held_view = _table(state.held, many=True)
        self.held_view.setToolTip("Select several tokens (Ctrl or Shift) to list them with one signature.")
        self.list_button = QPushButton("List…")
        self.change_button = QPushButton("Change price…")
        self.cancel_button = QPushButton("Cancel listing")
        self.accept_best_button = QPushButton("Accept best offer")
        held_buttons = QHBoxLayout()
        for button in (self.list_button, self.change_button, self.cancel_button, self.accept_best_button):
            held_buttons.addWidget(button)
        held_buttons.addStretch(1)
        collection_page = QWidget()
        collection_column = QVBoxLayout(collection_page)
        collection_column.setContentsMargins(0, 6, 0, 0)
        collection_column.addWidget(self.held_view, 1)
        collection_column.addLayout(held_buttons)
        self.collection_page = _Page(collection_page, _empty_label())

        self.incoming_view = _table(state.offers_incoming)
        self.made_view = _table(state.offers_made)
        self.accept_button = QPushButton("Accept offer")
        self.withdraw_offer_button = QPushButton("Withdraw or cancel offer")
        self.withdraw_offer_button.setToolTip("An escrow offer's ETH comes back to you; a Seaport offer is cancelled "
                                              "on chain (your WETH never left your wallet).")
        self.weth_line = plain_label(muted=True)
        offers = QWidget()
        offers_column = QVBoxLayout(offers)
        offers_column.setContentsMargins(0, 6, 0, 0)
        offers_column.addWidget(plain_label("Offers on your tokens", muted=True))
        offers_column.addWidget(self.incoming_view, 1)
        offers_column.addWidget(self.accept_button, 0, Qt.AlignmentFlag.AlignLeft)
        offers_column.addWidget(plain_label("Your offers (Seaport: in your WETH · escrow: your ETH held by the "
                                            "marketplace)", muted=True))
        offers_column.addWidget(self.made_view, 1)
        made_row = QHBoxLayout()
        made_row.addWidget(self.withdraw_offer_button)
        made_row.addWidget(self.weth_line, 1)
        offers_column.addLayout(made_row)
        self.offers_page = _Page(offers, _empty_label())

        self.orders_view = _table(state.my_orders)
        self.cancel_order_button = QPushButton("Cancel order")
        self.cancel_all_button = QPushButton("Cancel all orders…")
        self.cancel_all_button.setToolTip("One transaction cancels every Seaport listing and offer you signed on "
                                          "this network (Seaport's counter moves on).")
        self.cancel_lazy_button = QPushButton("Cancel all lazy listings…")
        self.cancel_lazy_button.setToolTip("One transaction per collection voids every mint voucher you signed for it.")
        self.lazy_menu = QMenu(self)
        self.cancel_lazy_button.setMenu(self.lazy_menu)
        orders_buttons = QHBoxLayout()
        for button in (self.cancel_order_button, self.cancel_all_button, self.cancel_lazy_button):
            orders_buttons.addWidget(button)
        orders_buttons.addStretch(1)
        self.orders_stack = QStackedWidget()  # the orders, or a line saying there are none
        self.orders_empty = _empty_label()
        self.orders_stack.addWidget(self.orders_view)
        self.orders_stack.addWidget(self.orders_empty)
        orders = QWidget()
        orders_column = QVBoxLayout(orders)
        orders_column.setContentsMargins(0, 6, 0, 0)
        orders_column.addWidget(self.orders_stack, 1)
        orders_column.addLayout(orders_buttons)
        self.orders_page = orders

        self.views = QTabWidget()
        self.views.addTab(listings, "Listings")
        self.views.addTab(self.collection_page, "My collection")
        self.views.addTab(self.offers_page, "Offers")
        self.views.addTab(self.orders_page, "My orders")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 10)
        layout.setSpacing(8)
        layout.addLayout(header)
        layout.addLayout(acting)
        layout.addWidget(self.error_banner)
        layout.addWidget(self.notice)
        layout.addWidget(self.views, 1)
        layout.addWidget(self.progress)
        self.bind(state)

    # -- bindings ---------------------------------------------------------------------------------

    def bind(self, state: MarketState) -> None:
        """Every connection between the view-model and the widgets, in one place."""
        b = self.bindings
        # errors and notices may quote token names and metadata from strangers
        b.bind(state, "status_line", None, lambda text: self.status.setText(printable(text)))
        b.bind(state, "error", None, self.error_banner.show_text)  # the banner shows text printable
        b.bind(state, "notice", None, self._show_notice)
        b.bind(state, "busy", None, self._set_busy)
        b.bind(state, "progress_text", None, self.progress.set_text)
        b.connect(self.error_banner.close_button.clicked, state.dismiss_error)
        b.connect(state.preview_requested, self.show_preview)
        b.connect(state.synced, self._update_pages)
        b.connect(state.synced, self._show_payment_due)
        b.connect(state.wallet_state.current_account_changed, lambda _a: self._show_payment_due())
        b.connect(state.wallet_state.current_account_changed, lambda _a: self._update_buyer())
        self._fill_accounts()
        b.connect(state.wallet_state.accounts.modelReset, self._fill_accounts)
        b.connect(self.account_combo.currentIndexChanged, self._on_account_chosen)
        b.connect(state.wallet_state.unlocked_changed, lambda _u: self._update_buyer())
        for model in (state.listings, state.held, state.offers_incoming, state.offers_made, state.my_orders):
            b.connect(model.modelReset, self._update_pages)
        b.connect(state.listings.modelReset, self._add_row_buttons)
        b.connect(self.search.textChanged, state.listings.set_query)
        b.connect(self.sort_combo.currentIndexChanged,
                  lambda _i: state.listings.set_sort(self.sort_combo.currentData()))
        b.connect(self.cancel_order_button.clicked, self.cancel_selected_order)
        b.connect(self.cancel_all_button.clicked, lambda: self._run(lambda: state.trades.cancel_all_orders()))
        b.connect(self.lazy_menu.aboutToShow, self._fill_lazy_menu)
        b.connect(self.refresh_button.clicked, state.refresh)
        b.connect(self.lazy_button.clicked, self.open_lazy_list)
        b.connect(self.opensea_button.clicked, self.open_opensea_listings)
        b.connect(self.withdraw_button.clicked, lambda: self._run(lambda: state.trades.withdraw_proceeds()))
        b.connect(self.list_button.clicked, lambda: self.open_sell(change=False))
        b.connect(self.change_button.clicked, lambda: self.open_sell(change=True))
        b.connect(self.cancel_button.clicked, self.cancel_selected)
        b.connect(self.accept_best_button.clicked, self.accept_best_offer)
        b.connect(self.accept_button.clicked, self.accept_selected_offer)
        b.connect(self.withdraw_offer_button.clicked, self.withdraw_selected_offer)
        for view in (self.held_view, self.incoming_view, self.made_view, self.orders_view):
            b.connect(view.selectionModel().selectionChanged, lambda *_: self._update_buttons())
        self._update_buyer()
        self._update_pages()
        self._show_payment_due()

    def _show_payment_due(self) -> None:
        """The button says what the marketplace holds for the current account; off when nothing. The
        Offers view says how much WETH the account holds (what its Seaport offers are paid from)."""
        due = self.state.payment_due()
        self.withdraw_button.setEnabled(due > 0)
        self.withdraw_button.setText(f"Withdraw {format_eth(due, self.state.network.currency)}" if due else
                                     "Nothing to withdraw")
        weth = self.state.weth_held()
        self.weth_line.setText("" if weth is None else f"You hold {format_eth(weth, 'WETH')}: your Seaport offers "
                                                       "are paid from it when accepted.")

    def _show_notice(self, text: str) -> None:
        self.notice.setText(printable(text, multiline=True))
        self.notice.setVisible(bool(text))

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self._update_buttons()

    def _fill_accounts(self) -> None:
        """The switcher lists the wallet's accounts by name, on the acting one."""
        combo, wallet = self.account_combo, self.state.wallet_state
        combo.blockSignals(True)
        combo.clear()
        for row in wallet.accounts.rows():
            combo.addItem(row.name, row.address)
            combo.setItemData(combo.count() - 1, row.address, Qt.ItemDataRole.ToolTipRole)
        combo.setCurrentIndex(combo.findData(wallet.current_account))
        combo.blockSignals(False)
        has_accounts = combo.count() > 0
        combo.setVisible(has_accounts)
        self.account_label.setVisible(has_accounts)

    def _on_account_chosen(self, index: int) -> None:
        address = self.account_combo.itemData(index)
        if address:
            self.state.wallet_state.select_account(address)

    def _update_buyer(self) -> None:
        wallet = self.state.wallet_state
        index = self.account_combo.findData(wallet.current_account)
        if index >= 0 and index != self.account_combo.currentIndex():
            self.account_combo.blockSignals(True)
            self.account_combo.setCurrentIndex(index)
            self.account_combo.blockSignals(False)
        if not wallet.has_wallet:
            text = "No wallet: create one in the Wallet tab to buy or sell."
        elif not wallet.unlocked:
            text = "The wallet is locked: unlock it in the Wallet tab to buy or sell."
        else:
            text = (f"Buys, offers, listings and sales here are signed by "
                    f"{self.state.account_name(wallet.current_account)}.")
        self.buyer_label.setText(printable(text))
        self._add_row_buttons()

    def _update_pages(self) -> None:
        network = self.state.network.name
        state = self.state
        account = state.acting_name
        query = self.search.text().strip()
        self.listings_page.empty.setText(NO_MATCH.format(query=query) if query and state.listings.all_rows else
                                         EMPTY_LISTINGS.format(network=network) if state.snapshot is not None
                                         else f"Reading the market on {network}…")
        self.collection_page.empty.setText(EMPTY_COLLECTION.format(account=account, network=network))
        self.offers_page.empty.setText(EMPTY_OFFERS.format(account=account, network=network))
        self.orders_empty.setText(EMPTY_ORDERS.format(account=account, network=network))
        self.listings_page.show_rows(state.listings.rowCount() > 0)
        shown, every = state.listings.rowCount(), state.listings.listing_count()
        self.listings_shown.setText(f"{shown} of {every}" if shown != every else f"{every} listed" if every else "")
        self.collection_page.show_rows(state.held.rowCount() > 0)
        self.offers_page.show_rows(state.offers_incoming.rowCount() + state.offers_made.rowCount() > 0)
        self.orders_stack.setCurrentWidget(self.orders_view if state.my_orders.rowCount() else self.orders_empty)
        self.views.setTabText(1, f"My collection ({state.held.rowCount()})")
        self.views.setTabText(2, f"Offers ({state.offers_incoming.rowCount()} in · {state.offers_made.rowCount()} out)")
        self.views.setTabText(3, f"My orders ({state.my_orders.rowCount()})")
        self._show_payment_due()
        self._update_buttons()

    def _add_row_buttons(self) -> None:
        """A Buy and an Offer button in the last column of every listing row."""
        self.buy_buttons, self.offer_buttons = [], []
        me = self.state.wallet_state.current_account.lower()
        column = self.state.listings.columnCount() - 1
        for number, item in enumerate(self.state.listings.rows()):
            cell = QWidget()
            row = QHBoxLayout(cell)
            row.setContentsMargins(4, 0, 4, 0)
            buy = QPushButton(f"Buy · {format_eth(item.price_wei, self.state.network.currency)}")
            buy.setAccessibleName(f"Buy {item.collection_name} token {item.token_id}")
            buy.setProperty("accent", True)
            buy.setMinimumWidth(150)
            own = item.seller.lower() == me
            buy.setEnabled(not own)
            buy.setToolTip("This is your own listing." if own else
                           "Opens the transaction preview; nothing is signed before you confirm.")
            buy.clicked.connect(lambda _=False, i=item: self._run(lambda: self.state.trades.buy(i)))
            offer = QPushButton("Offer…")
            offer.setEnabled(item.kind != LAZY and not own)
            offer.setToolTip("A lazy listing can only be bought (it is not minted yet)." if item.kind == LAZY else
                             "Offer another amount (in WETH, as a Seaport order you sign)." if self.state.has_seaport
                             else "Offer another amount; your ETH waits in escrow.")
            offer.clicked.connect(lambda _=False, i=item: self.open_offer(i))
            row.addWidget(buy)
            row.addWidget(offer)
            self.listings_view.setIndexWidget(self.state.listings.index(number, column), cell)
            self.buy_buttons.append(buy)
            self.offer_buttons.append(offer)
        self.listings_view.resizeColumnToContents(column)

    def _update_buttons(self) -> None:
        tokens = self.selected_tokens()
        token = tokens[0] if len(tokens) == 1 else None
        busy = self.state.busy
        self.list_button.setEnabled(bool(tokens) and not any(t.listed for t in tokens) and not busy and
                                    (len(tokens) == 1 or self.state.has_seaport))
        self.list_button.setText("List…" if len(tokens) < 2 else f"List {len(tokens)} with one signature…")
        self.change_button.setEnabled(token is not None and token.listed and not busy)
        self.cancel_button.setEnabled(token is not None and token.listed and not busy)
        self.accept_best_button.setEnabled(token is not None and token.best_offer is not None and not busy)
        self.accept_button.setEnabled(self._selected(self.incoming_view) is not None and not busy)
        self.withdraw_offer_button.setEnabled(self._selected(self.made_view) is not None and not busy)
        self.cancel_order_button.setEnabled(self._selected(self.orders_view) is not None and not busy)
        self.cancel_all_button.setEnabled(self.state.has_seaport and not busy)
        self.cancel_lazy_button.setEnabled(bool(self.state.my_collections()) and not busy)
        self.update_opensea()

    def update_opensea(self) -> None:
        """OpenSea listings… works with a key kept and a network OpenSea serves; otherwise its tip says why."""
        reason = self.state.opensea.unavailable()
        self.opensea_button.setEnabled(not reason and not self.state.busy)
        self.opensea_button.setToolTip(reason or "Read a collection's listings from OpenSea into the order book "
                                                 "(only orders signed by their seller); they show in Listings marked "
                                                 "\"from OpenSea\".")

    # -- selection ---------------------------------------------------------------------------------

    @staticmethod
    def _selected(view: QTableView) -> Any:
        rows = view.selectionModel().selectedRows()
        model = view.model()
        return model.row(rows[0].row()) if rows and isinstance(model, MarketRowsModel) else None

    def selected_token(self) -> HeldToken | None:
        return self._selected(self.held_view)

    def selected_tokens(self) -> list[HeldToken]:
        rows = sorted(index.row() for index in self.held_view.selectionModel().selectedRows())
        return [self.state.held.row(r) for r in rows if r < self.state.held.rowCount()]

    def select(self, view: QTableView, number: int, *more: int) -> None:
        """Select a row (and, for My collection, more rows with it)."""
        view.clearSelection()
        view.selectRow(number)
        flags = view.selectionModel().SelectionFlag.Select | view.selectionModel().SelectionFlag.Rows
        for extra in more:
            view.selectionModel().select(view.model().index(extra, 0), flags)
        self._update_buttons()

    # -- actions -----------------------------------------------------------------------------------

    def _run(self, start: Callable[[], Any]) -> Any:
        """Start an action; a refusal (locked, bad input) goes to the error banner, nothing runs."""
        self.state.dismiss_error()
        try:
            return start()
        except StudioError as exc:
            self.state.error = str(exc)
            return None

    def _open(self, dialog: QDialog) -> QDialog:
        self.last_dialog = dialog
        dialog.open()
        return dialog

    def open_sell(self, *, change: bool) -> QDialog | None:
        """List the selected token (Change price: of its listing), or the selected tokens under one signature."""
        tokens = self.selected_tokens()
        if not tokens:
            return None
        if len(tokens) > 1 and not change:
            return self._open(BulkListDialog(self.state, tokens, self))
        return self._open(SellDialog(self.state, tokens[0], self, change=change))

    def open_opensea_listings(self) -> QDialog:
        """Ask for a collection's address, then read its OpenSea listings into the order book."""
        ask = QInputDialog(self)
        ask.setWindowTitle("OpenSea listings")
        ask.setLabelText("The collection's contract address (0x…): its listings on OpenSea join the order book, "
                         "each checked to be signed by its seller.")
        listing = self._selected(self.listings_view)
        mine = self.state.my_collections()
        ask.setTextValue(listing.collection if listing is not None else mine[0].address if mine else "")
        ask.textValueSelected.connect(lambda text: self._run(lambda: self.state.opensea.read_listings(text)))
        return self._open(ask)

    def open_offer(self, item: MarketItem) -> OfferDialog:
        name = item.card.details.name if item.card else None
        return self._open(OfferDialog(self.state, item.collection, item.token_id or 0, self, name=name,
                                      listed_price_wei=item.price_wei,
                                      collection_name=item.collection_name))  # type: ignore[return-value]

    def open_lazy_list(self) -> LazyListDialog:
        return self._open(LazyListDialog(self.state, self))  # type: ignore[return-value]

    def cancel_selected(self) -> None:
        token = self.selected_token()
        if token is not None:
            self._run(lambda: self.state.trades.cancel_listing(token))

    def accept_best_offer(self) -> None:
        token = self.selected_token()
        if token is not None and token.best_offer is not None:
            best = token.best_offer
            self._run(lambda: self.state.trades.accept_offer(OfferLine(best, True)))

    def accept_selected_offer(self) -> None:
        line = self._selected(self.incoming_view)
        if line is not None:
            self._run(lambda: self.state.trades.accept_offer(line))

    def withdraw_selected_offer(self) -> None:
        line = self._selected(self.made_view)
        if line is not None:
            self._run(lambda: self.state.trades.withdraw_offer(line))

    def cancel_selected_order(self) -> None:
        line: OrderLine | None = self._selected(self.orders_view)
        if line is not None:
            self._run(lambda: self.state.trades.cancel_order(line))

    def _fill_lazy_menu(self) -> None:
        """One entry per collection of the acting account: cancel every lazy listing of it."""
        self.lazy_menu.clear()
        for collection in self.state.my_collections():
            action = self.lazy_menu.addAction(f"{collection.name} ({collection.symbol})")
            trades = self.state.trades
            action.triggered.connect(lambda _=False, c=collection: self._run(lambda: trades.cancel_all_lazy(c)))

    # -- previews ----------------------------------------------------------------------------------

    def show_preview(self, request: PreviewRequest) -> QDialog:
        """Open the preview of what a worker wants to sign; its answer goes back to the worker."""
        if request.is_transaction:
            dialog: QDialog = TxPreviewDialog(request.preview, self, currency=self.state.network.currency)
        else:
            dialog = SignaturePreviewDialog(request.preview, self, action=request.action,
                                            currency=self.state.network.currency)
        self.preview_dialog = dialog
        dialog.finished.connect(lambda result: request.answer(result == QDialog.DialogCode.Accepted))
        dialog.open()
        self.preview_shown.emit(dialog)
        return dialog

    # -- visibility --------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.state.set_visible(True)

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.state.set_visible(False)
