"""The Market tab's view-model: what is for sale, what the wallet's accounts hold, offers, their own
Seaport orders, and every market action (buy, list one or many, change price, cancel one or all,
lazy-list, offers, withdraw proceeds).

No widgets here. Reading the market (`refresh`: sync the escrow marketplace's events into the library,
look at every open Seaport order again, then read listings, lazy vouchers, tokens and offers; see
:mod:`studio.ui.state.market_snapshot`) and every action run as background jobs; card details (name,
image thumbnail, artist, royalty, provenance verdict) are fetched by a second job that streams each
card as it is ready (:mod:`studio.ui.state.market_cards`). Every action goes through `trades`
(:mod:`studio.ui.state.market_trades`): what can be refused without a node (a locked wallet, a bad price,
buying one's own listing, too little balance) is refused before any job starts, with a `StudioError` the
tab shows; the rest is handed to its venue, and run by `actions` (:mod:`studio.ui.state.market_actions`).

New listings and offers are Seaport orders (:mod:`studio.ui.state.market_seaport`); the escrow
marketplace's listings and offers made before still show and can be bought, cancelled and withdrawn
(:mod:`studio.ui.state.market_escrow`, with lazy listings). Where a network has no Seaport, new
listings and offers go to the escrow marketplace.

One acting account: every view shows, and every action signs as, the wallet's current account (the
one the Market header's switcher, the Wallet tab and the status bar show). The sync reads every
account of the wallet, so switching is instant; an action on another account's token or offer is
refused with a line saying whose it is, never signed by that account behind the person's back.

Signing from a worker: the market workflows call ``confirm(preview)`` in the middle of their
work, sometimes twice (an approval, then the listing). The worker asks the GUI thread through
a queued signal carrying a :class:`PreviewRequest` and blocks on the request's
``threading.Event`` until the person answers (the tab opens the preview dialog and calls
:meth:`PreviewRequest.answer`); cancelling the job (closing the window) answers "no". Nothing
is signed until the answer is yes.
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from studio.errors import InputError
from studio.ui.binding import Field
from studio.ui.state.wallet import WalletState
from studio.ui.state.market_actions import ActionRunner
from studio.ui.state.market_cards import MarketCards
from studio.ui.state.market_escrow import EscrowActions
from studio.ui.state.market_jobs import PreviewRequest  # noqa: F401  (the tab and tests take it from here)
from studio.ui.state.market_opensea import OpenSeaActions
from studio.ui.state.market_seaport import SeaportActions
from studio.ui.state.market_snapshot import MarketSnapshot, read_snapshot
from studio.ui.state.market_trades import MarketTrades
from studio.ui.widgets.market_tables import (ESCROW, LAZY, LISTING, SEAPORT, HeldToken,  # noqa: F401
                                             HeldTokensModel, ListingsModel, MarketItem, OfferLine, OffersModel,
                                             OrderLine, OrdersModel, card_name, plain_tooltip)
from studio.ui.workers import BackgroundPool, FunctionJob, Job, error_message

if TYPE_CHECKING:
    from studio.library.db import Collection, Library, Work
    from studio.workflows.seaport_market import SeaportVenue

#: How often the market is read again while the tab is visible.
SYNC_INTERVAL_MS = 15_000


# ---- the view-model ------------------------------------------------------------------------


class MarketState(QObject):
    """Everything the Market tab shows and does, over the wallet's session and the library."""

    status_line_changed = Signal(str)
    last_block_changed = Signal(int)
    syncing_changed = Signal(bool)
    busy_changed = Signal(bool)
    progress_text_changed = Signal(str)
    error_changed = Signal(str)
    notice_changed = Signal(str)
    #: A sync ended and the models hold its results.
    synced = Signal()
    #: A worker asks to sign: a PreviewRequest; answer it (the tab opens the preview dialog).
    preview_requested = Signal(object)
    #: An action ended: an ActionOutcome.
    action_succeeded = Signal(object)
    #: An action failed: the exception (its message is in `error` too).
    action_failed = Signal(object)
    #: The person declined a preview: nothing was signed.
    action_declined = Signal()

    status_line = Field("Not read yet.")
    last_block = Field(-1)
    syncing = Field(False)
    busy = Field(False)
    progress_text = Field("")
    error = Field("")
    notice = Field("")

    def __init__(self, wallet_state: WalletState, library: "Library", background: BackgroundPool,
                 parent: QObject | None = None, *, sync_interval_ms: int = SYNC_INTERVAL_MS,
                 tx_timeout: float = 120.0) -> None:
        from studio.library.market import MarketStore
        from studio.library.orders import OrderStore

        super().__init__(parent)
        self.wallet_state = wallet_state
        self.library = library
        self.store = MarketStore(library)
        self.orders_store = OrderStore(library)
        self.background = background
        self.tx_timeout = tx_timeout
        self.listings = ListingsModel(self)
        self.held = HeldTokensModel(self)
        self.offers_made = OffersModel(self)
        self.offers_incoming = OffersModel(self)
        self.my_orders = OrdersModel(self)
        #: Every action: checked, then sent to its venue (Seaport, the escrow marketplace, OpenSea).
        self.trades = MarketTrades(self)
        self.escrow = EscrowActions(self)
        self.seaport = SeaportActions(self)
        self.opensea = OpenSeaActions(self)
        #: The actions under way and the previews they wait on.
        self.actions = ActionRunner(self)
        #: The rows' cards (name, thumbnail, verdict), read in the background.
        self.cards = MarketCards(self)
        self.snapshot: MarketSnapshot | None = None
        self._marketplaces: dict[str, str] = {}
        #: Bumped when the network changes: answers read for the network before are dropped.
        self.generation = 0
        self._sync_job: Job | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(sync_interval_ms)
        self.timer.timeout.connect(self.refresh)
        wallet_state.network_key_changed.connect(self._on_network_changed)
        wallet_state.accounts.modelReset.connect(self._rename_accounts)
        wallet_state.current_account_changed.connect(lambda _address: self._show_acting())
        self._rename_accounts()

    @property
    def models(self) -> tuple[Any, ...]:
        return (self.listings, self.held, self.offers_made, self.offers_incoming, self.my_orders)

    # -- reading the market -------------------------------------------------------------------

    @property
    def network(self) -> Any:
        return self.wallet_state.network

    @property
    def acting_account(self) -> str:
        """The account every view shows and every action signs as: the wallet's current one."""
        return self.wallet_state.current_account

    @property
    def acting_name(self) -> str:
        """The acting account's name in the wallet ("No account" without one)."""
        index = self.wallet_state.accounts.index_of(self.acting_account) if self.acting_account else -1
        return self.wallet_state.accounts.row(index).name if index >= 0 else "No account"

    @property
    def has_seaport(self) -> bool:
        """Whether the network has Seaport (as last read): new listings and offers go there."""
        return self.snapshot is not None and self.snapshot.venue is not None

    def set_visible(self, visible: bool) -> None:
        """The tab shows (sync now, then every few seconds) or hides (stop the timer)."""
        if visible:
            self.timer.start()
            self.refresh()
        else:
            self.timer.stop()

    def refresh(self) -> Job | None:
        """Sync the marketplace's new events into the library, look at the open Seaport orders again, then
        read what the views show. A sync already running is not doubled (None is returned)."""
        if self._sync_job is not None:
            return None
        session, store, orders, network = self.wallet_state.session, self.store, self.orders_store, self.network
        library = self.library
        accounts = [row.address for row in self.wallet_state.accounts.rows()]
        generation = self.generation
        known = self._marketplaces.get(network.key)

        def work(progress: Callable[[Any], None], cancel: Any) -> MarketSnapshot:
            from studio.workflows import market as wm
            from studio.workflows.collections import marketplace_address

            connection = session.connection()
            marketplace = known or marketplace_address(network)
            result = wm.sync_market(connection, marketplace, store, cancel=cancel)
            return read_snapshot(connection, network, marketplace, store, orders, accounts, result.last_block,
                                 library=library, cancel=cancel)

        job = FunctionJob(f"Reading the market on {network.name}", work)
        self._sync_job = job
        self.syncing = True
        job.to(self).succeeded.connect(lambda snapshot: self._on_synced(generation, snapshot))
        job.to(self).failed.connect(lambda exc: self._on_sync_failed(generation, exc))
        job.to(self).ended.connect(lambda: self._sync_ended(job))
        return self.background.start(job)

    def _sync_ended(self, job: Job) -> None:
        if self._sync_job is job:
            self._sync_job = None
            self.syncing = False

    def _on_synced(self, generation: int, snapshot: MarketSnapshot) -> None:
        if generation != self.generation:
            return  # read on the network used before a switch
        self._marketplaces[snapshot.network_key] = snapshot.marketplace
        self.snapshot = snapshot
        self.last_block = snapshot.block
        where = "" if snapshot.venue is not None else " · no Seaport on this network: escrow marketplace only"
        self.status_line = (f"{self.network.name} · read up to block {snapshot.block} · "
                            f"{time.strftime('%H:%M:%S')}{where}")
        for model in self.models:
            model.collection_names = dict(snapshot.names)
        with_card = self.cards.with_card
        self.listings.set_rows([with_card(self._mark_opensea(snapshot.chain_id, i)) for i in snapshot.items])
        self._show_acting()
        self.cards.load(snapshot)
        self.synced.emit()

    def _mark_opensea(self, chain_id: int, item: MarketItem) -> MarketItem:
        if item.order is not None and self.opensea.from_opensea(chain_id, item.order.order_hash):
            return replace(item, from_opensea=True)
        return item

    def _show_acting(self) -> None:
        """Fill the views of the acting account from the last sync (its tokens, offers and orders)."""
        snapshot, me = self.snapshot, self.acting_account.lower()
        held = [t for t in snapshot.held if t.owner.lower() == me] if snapshot else []
        made = [o for o in snapshot.offers_made if o.account.lower() == me] if snapshot else []
        incoming = [o for o in snapshot.offers_incoming if o.account.lower() == me] if snapshot else []
        orders = [o for o in snapshot.orders if o.order.offerer.lower() == me] if snapshot else []
        self.held.set_rows([self.cards.with_card(t) for t in held])
        self.offers_made.set_rows([self.cards.with_card(o) for o in made])
        self.offers_incoming.set_rows([self.cards.with_card(o) for o in incoming])
        self.my_orders.set_rows([self.cards.with_card(o) for o in orders])

    def _on_sync_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self.generation:
            return
        self.status_line = f"{self.network.name} · not read: {error_message(exc)}"
        self.synced.emit()

    def _on_network_changed(self, _key: str) -> None:
        self.generation += 1
        self.snapshot = None
        self.cards.clear()
        self.last_block = -1
        for model in self.models:
            model.currency = self.network.currency
            model.set_rows([])
        self.status_line = f"{self.network.name} · reading the market…"
        if self._sync_job is not None:  # its answer is for the old network; read again after it
            self._sync_job.to(self).ended.connect(self.refresh)
        else:
            self.refresh()

    def _rename_accounts(self) -> None:
        names = {row.address.lower(): row.name for row in self.wallet_state.accounts.rows()}
        for model in self.models:
            model.names = names
            model.layoutChanged.emit()

    # -- what the dialogs need ------------------------------------------------------------------

    def my_collections(self) -> list["Collection"]:
        """Collections on this network owned by the acting account (its lazy listings need one)."""
        me = self.acting_account.lower()
        return [c for c in self.library.collections(self.network.chain_id) if me and c.owner.lower() == me]

    def unminted_works(self, collection: str) -> list["Work"]:
        """Works of the library not minted in `collection` (the lazy-list candidates)."""
        chain_id = self.network.chain_id
        minted = {t.work_id for t in self.library.tokens(chain_id, collection)}
        return [w for w in self.library.works() if w.id not in minted]

    def account_name(self, address: str) -> str:
        return self.listings.who(address)

    def payment_due(self, account: str | None = None) -> int:
        """Wei the escrow marketplace holds for an account (the acting one unless named), as last read."""
        who = (account or self.acting_account or "").lower()
        snapshot = self.snapshot
        return next((wei for owner, wei in (snapshot.payments_due if snapshot else ()) if owner.lower() == who), 0)

    def weth_held(self, account: str | None = None) -> int | None:
        """Wei of WETH an account holds (the acting one unless named), as last read; None without Seaport."""
        who = (account or self.acting_account or "").lower()
        snapshot = self.snapshot
        if snapshot is None or snapshot.venue is None:
            return None
        return next((wei for owner, wei in snapshot.weth if owner.lower() == who), 0)

    def label(self, item: MarketItem) -> str:
        return card_name(item.card, f"token {item.token_id}" if item.token_id is not None else "the unminted work")

    # -- where the actions go, as the last read found it ---------------------------------------

    def marketplace(self) -> str:
        """The escrow marketplace of the network, as the last read found it."""
        marketplace = self._marketplaces.get(self.network.key)
        if marketplace is None:
            raise InputError(f"The market on {self.network.name} has not been read yet.",
                             hint="Wait for the first sync (or press Refresh).")
        return marketplace

    def venue(self) -> "SeaportVenue":
        """Seaport and WETH of the network, as the last read found them."""
        self.marketplace()
        venue = self.snapshot.venue if self.snapshot is not None else None
        if venue is None:
            raise InputError(f"{self.network.name} has no Seaport: listings and offers go to the escrow marketplace "
                             "there.")
        return venue

    def dismiss_error(self) -> None:
        self.error = ""

    def stop(self) -> None:
        """The window closes: stop the timer and answer every open question with no."""
        self.timer.stop()
        self.actions.decline_all()
