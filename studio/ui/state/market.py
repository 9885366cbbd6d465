"""The Market tab's view-model: what is for sale, what the wallet's accounts hold, offers, their own
Seaport orders, and every market action (buy, list one or many, change price, cancel one or all,
lazy-list, offers, withdraw proceeds).

No widgets here. Reading the market (`refresh`: sync the escrow marketplace's events into the library,
look at every open Seaport order again, then read listings, lazy vouchers, tokens and offers; see
:mod:`studio.ui.state.market_snapshot`) and every action run as background jobs; card details (name,
image thumbnail, artist, royalty, provenance verdict) are fetched by a second job that streams each
card as it is ready. What can be refused without a node (a locked wallet, a bad price, buying one's
own listing, too little balance) is refused before any job starts, with a `StudioError` the tab shows.

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

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from studio.errors import Cancelled, InputError, WalletLocked
from studio.ui.binding import Field
from studio.ui.money import format_eth, parse_eth, short_address
from studio.ui.state.wallet import WalletState
from studio.ui.state.market_escrow import EscrowActions
from studio.ui.state.market_jobs import ActionOutcome, PreviewRequest, thumbnail, voucher_royalty
from studio.ui.state.market_opensea import OpenSeaActions
from studio.ui.state.market_seaport import SeaportActions
from studio.ui.state.market_snapshot import MarketSnapshot, read_snapshot
from studio.ui.widgets.market_tables import (ESCROW, LAZY, LISTING, SEAPORT, Card, HeldToken,  # noqa: F401
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
    _ask = Signal(object)  # emitted on a worker thread; delivered on the GUI thread

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
        self.escrow = EscrowActions(self)
        self.seaport = SeaportActions(self)
        self.opensea = OpenSeaActions(self)
        self.snapshot: MarketSnapshot | None = None
        self.cards: dict[tuple[str, str, str], Card] = {}
        self.pending_requests: list[PreviewRequest] = []
        self._marketplaces: dict[str, str] = {}
        self._generation = 0
        self._sync_job: Job | None = None
        self._details_job: Job | None = None
        self._actions: set[Job] = set()
        self._fetcher: Any = None
        self._ask.connect(self._on_ask, Qt.ConnectionType.QueuedConnection)
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
        generation = self._generation
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
        job.succeeded.connect(lambda snapshot: self._on_synced(generation, snapshot))
        job.failed.connect(lambda exc: self._on_sync_failed(generation, exc))
        job.ended.connect(lambda: self._sync_ended(job))
        return self.background.start(job)

    def _sync_ended(self, job: Job) -> None:
        if self._sync_job is job:
            self._sync_job = None
            self.syncing = False

    def _on_synced(self, generation: int, snapshot: MarketSnapshot) -> None:
        if generation != self._generation:
            return  # read on the network used before a switch
        self._marketplaces[snapshot.network_key] = snapshot.marketplace
        self.snapshot = snapshot
        self.last_block = snapshot.block
        where = "" if snapshot.venue is not None else " · no Seaport on this network: escrow marketplace only"
        self.status_line = (f"{self.network.name} · read up to block {snapshot.block} · "
                            f"{time.strftime('%H:%M:%S')}{where}")
        for model in self.models:
            model.collection_names = dict(snapshot.names)
        self.listings.set_rows([self._with_card(self._mark_opensea(snapshot.chain_id, i)) for i in snapshot.items])
        self._show_acting()
        self._load_cards(snapshot)
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
        self.held.set_rows([self._with_card(t) for t in held])
        self.offers_made.set_rows([self._with_card(o) for o in made])
        self.offers_incoming.set_rows([self._with_card(o) for o in incoming])
        self.my_orders.set_rows([self._with_card(o) for o in orders])

    def _on_sync_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self.status_line = f"{self.network.name} · not read: {error_message(exc)}"
        self.synced.emit()

    def _with_card(self, row: Any) -> Any:
        card = self.cards.get(row.key)
        return replace(row, card=card) if card is not None else row

    def _load_cards(self, snapshot: MarketSnapshot) -> None:
        """Fetch metadata, thumbnails and verdicts of the cards not read yet, one job streaming them."""
        wanted: dict[tuple[str, str, str], dict[str, Any]] = {}
        for item in snapshot.items:
            if item.kind == LAZY and item.voucher is not None:
                signed_bps = voucher_royalty(item.voucher)
                wanted[item.key] = {"collection": item.collection, "metadata_cid": item.voucher.metadata_cid,
                                    "royalty_bps": signed_bps}
            elif item.token_id is not None:
                wanted[item.key] = {"collection": item.collection, "token_id": item.token_id}
        for held in snapshot.held:
            wanted.setdefault(held.key, {"collection": held.collection, "token_id": held.token_id})
        for line in (*snapshot.offers_made, *snapshot.offers_incoming):
            token = line.token_id if line.token_id is not None else line.offer.token_id
            if token is not None:
                wanted.setdefault(line.key, {"collection": line.offer.collection, "token_id": token})
        for order in snapshot.orders:
            if order.order.token_id is not None and order.order.collection:
                wanted.setdefault(order.key, {"collection": order.order.collection,
                                              "token_id": order.order.token_id})
        missing = {key: spec for key, spec in wanted.items() if key not in self.cards}
        if not missing or self._details_job is not None:
            return
        session, library, generation = self.wallet_state.session, self.library, self._generation
        fetcher = self._card_fetcher()

        def work(progress: Callable[[Any], None], cancel: Any) -> int:
            from studio.workflows.market import token_details

            connection = session.connection()
            for key, spec in missing.items():
                if cancel.cancelled:
                    raise Cancelled()
                details = token_details(connection, fetcher=fetcher, library=library, **spec)
                progress((key, Card(details, thumbnail(details.image))))
            return len(missing)

        job = FunctionJob("Reading token details", work)
        self._details_job = job
        job.progressed.connect(lambda update: self._on_card(generation, *update))
        job.failed.connect(lambda exc: self._on_cards_failed(generation, exc))
        job.ended.connect(lambda: self._cards_ended(job))
        self.background.start(job)

    def _card_fetcher(self) -> Any:
        if self._fetcher is None:
            from studio.config import load_config
            from studio.storage.backends import fetcher_from_config

            self._fetcher = fetcher_from_config(load_config())
        return self._fetcher

    def _on_card(self, generation: int, key: tuple[str, str, str], card: Card) -> None:
        if generation != self._generation:
            return
        self.cards[key] = card
        for model in self.models:
            model.set_card(key, card)

    def _on_cards_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.status_line = f"{self.status_line} · token details not read: {error_message(exc)}"

    def _cards_ended(self, job: Job) -> None:
        if self._details_job is job:
            self._details_job = None
            if self.snapshot is not None and any(
                    row.key not in self.cards for row in self.listings.all_rows + self.held.rows()):
                self._load_cards(self.snapshot)  # rows that arrived while the job ran

    def _on_network_changed(self, _key: str) -> None:
        self._generation += 1
        self.snapshot = None
        self.cards.clear()
        self.last_block = -1
        for model in self.models:
            model.currency = self.network.currency
            model.set_rows([])
        self.status_line = f"{self.network.name} · reading the market…"
        if self._sync_job is not None:  # its answer is for the old network; read again after it
            self._sync_job.ended.connect(self.refresh)
        else:
            self.refresh()

    def _rename_accounts(self) -> None:
        names = {row.address.lower(): row.name for row in self.wallet_state.accounts.rows()}
        for model in self.models:
            model.names = names
            model.layoutChanged.emit()

    # -- what the dialogs need ------------------------------------------------------------------

    def quote(self, collection: str, token_id: int, price_text: str, *, escrow: bool = False,
              seller: str | None = None) -> Job:
        """How a price splits (royalty, marketplace fee, what the seller receives); result: a SaleQuote.
        A Seaport listing pays the creator's royalty as the collection answers it and no fee."""
        price = self.parse_price(price_text)
        marketplace = self.marketplace()
        session = self.wallet_state.session
        escrow = escrow or not self.has_seaport
        seller = seller or self.acting_account

        def work(_progress: Any, _cancel: Any) -> Any:
            if escrow:
                from studio.workflows.market import quote_listing

                return quote_listing(session.connection(), marketplace, collection, token_id, price)
            from studio.workflows.seaport_market import listing_quote

            return listing_quote(session.connection(), collection, token_id, price, seller)

        return self.background.start(FunctionJob("Quoting the sale", work))

    def parse_price(self, text: str, what: str = "A price") -> int:
        price = parse_eth(text, self.network.currency)
        if price <= 0:
            raise InputError(f"{what} must be more than zero.")
        return price

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

    # -- actions: listings ---------------------------------------------------------------------

    def buy(self, item: MarketItem) -> Job:
        """Buy a listing at the price shown (a Seaport order, an escrow listing or a lazy listing), as the
        acting account."""
        account = self._signing_account("buy")
        if item.seller.lower() == account.lower():
            raise InputError("This is your own listing.", hint="Choose another account to buy it, or cancel it.")
        self.check_balance(account, item.price_wei)
        if item.kind == SEAPORT:
            return self.seaport.buy(item, account)
        if item.kind == LAZY:
            return self.escrow.buy_voucher(item, account)
        return self.escrow.buy(item, account)

    def list_token(self, token: HeldToken, price_text: str, *, duration: int | None = None,
                   until: int | None = None, escrow: bool = False, opensea: bool = False) -> Job:
        """List a token the wallet holds: a Seaport order until `until` (or `duration` seconds; 7 days by
        default; Seaport approved for the collection first if needed), or on the escrow marketplace.
        `opensea`: also post the signed order to OpenSea (checked before anything is signed)."""
        if token.listed:
            raise InputError(f"Token {token.token_id} is already listed.", hint="Change its price instead.")
        price = self.parse_price(price_text)
        self._signing_account("list a token", token.owner)
        if escrow or not self.has_seaport:
            if opensea:
                raise InputError("OpenSea takes Seaport orders, not escrow listings.")
            return self.escrow.list_token(token, price)
        publish = self.opensea.publisher() if opensea else None
        return self.seaport.list_tokens([token], [price], duration=duration, until=until, publish=publish)

    def list_tokens(self, tokens: list[HeldToken], price_texts: list[str], *, duration: int | None = None,
                    until: int | None = None) -> Job:
        """List many tokens with one signature (Seaport's bulk order), each at its price."""
        if not tokens:
            raise InputError("Select the tokens to list.")
        if len(price_texts) != len(tokens):
            raise InputError("Give each token a price.")
        if not self.has_seaport:
            raise InputError(f"{self.network.name} has no Seaport: list tokens one by one on the escrow marketplace.")
        prices = [self.parse_price(text, f"The price of token {t.token_id}") for t, text in zip(tokens, price_texts)]
        owners = {t.owner.lower() for t in tokens}
        for token in tokens:
            if token.listed:
                raise InputError(f"Token {token.token_id} is already listed.", hint="Leave it out of the selection.")
        self._signing_account("list tokens", tokens[0].owner if len(owners) == 1 else "")
        return self.seaport.list_tokens(tokens, prices, duration=duration, until=until)

    def change_price(self, token: HeldToken, price_text: str, *, duration: int | None = None,
                     until: int | None = None) -> Job:
        if not token.listed:
            raise InputError(f"Token {token.token_id} is not listed.", hint="List it first.")
        price = self.parse_price(price_text)
        if price == token.price_wei:
            raise InputError("That is the price it has now.")
        self._signing_account("change a price", token.owner)
        if token.venue == SEAPORT:
            return self.seaport.change_price(token, price, duration=duration, until=until)
        return self.escrow.change_price(token, price)

    def cancel_listing(self, token: HeldToken) -> Job:
        if not token.listed:
            raise InputError(f"Token {token.token_id} is not listed.")
        self._signing_account("cancel a listing", token.owner)
        if token.venue == SEAPORT:
            return self.seaport.cancel_listing(token)
        return self.escrow.cancel_listing(token)

    def lazy_list(self, collection: "Collection", work: "Work", name: str, price_text: str, *,
                  description: str = "", license_id: str = "all-rights-reserved", days: int = 30,
                  redeemer: str | None = None) -> Job:
        """List a work without minting it: store its image, sign a mint voucher (no gas)."""
        price = self.parse_price(price_text)
        self._signing_account("sign a lazy listing", collection.owner)
        return self.escrow.lazy_list(collection, work, name, price, description=description, license_id=license_id,
                                     days=days, redeemer=redeemer or None)

    def cancel_all_lazy(self, collection: "Collection") -> Job:
        """Void every mint voucher of one of the acting account's collections (one transaction)."""
        self._signing_account("cancel its lazy listings", collection.owner)
        return self.escrow.cancel_all_lazy(collection)

    # -- actions: offers and orders -------------------------------------------------------------

    def make_offer(self, collection: str, token_id: int | None, amount_text: str, *, duration: int | None = None,
                   until: int | None = None, escrow: bool = False, opensea: bool = False) -> Job:
        """Offer for a token (or, with `token_id` None, for any token of the collection) as the acting
        account: a Seaport order in WETH by default, or ETH held by the escrow marketplace. `opensea`: also
        post the signed offer to OpenSea (one token's offer; checked before anything is signed)."""
        account = self._signing_account("make an offer")
        amount = self.parse_price(amount_text, "An offer")
        if token_id is not None and any(t.collection.lower() == collection.lower() and t.token_id == token_id
                                        and t.owner.lower() == account.lower() for t in self.held.rows()):
            raise InputError(f"Token {token_id} is yours; an offer is for someone else's token.")
        if escrow or not self.has_seaport:
            if token_id is None:
                raise InputError("The escrow marketplace takes offers for one token, not for a collection.")
            expiry = until if until is not None else (int(time.time()) + duration if duration else None)
            return self.escrow.make_offer(collection, token_id, amount, account, expiry)
        if opensea and token_id is None:
            raise InputError("OpenSea takes collection offers by its own collection slug; the studio keeps them in "
                             "its own order book.", hint="Untick \"Also post to OpenSea\", or offer for one token.")
        publish = self.opensea.publisher() if opensea else None
        return self.seaport.make_offer(collection, token_id, amount, account, duration=duration, until=until,
                                       publish=publish)

    def withdraw_offer(self, line: OfferLine) -> Job:
        """Take back one's own offer: withdraw an escrow offer's ETH, or cancel a Seaport offer."""
        offer = line.offer
        self._signing_account("withdraw an offer", offer.buyer)
        if offer.venue == SEAPORT and offer.order is not None:
            return self.seaport.cancel_order(OrderLine(offer.order))
        return self.escrow.withdraw_offer(line)

    def accept_offer(self, line: OfferLine) -> Job:
        """Sell a token the wallet holds to the buyer of an incoming offer, for that offer."""
        offer = line.offer
        token_id = line.token_id if line.token_id is not None else offer.token_id
        holder = line.account or next((t.owner for t in self.held.rows() if t.collection.lower() ==
                                       offer.collection.lower() and t.token_id == token_id), None)
        if holder is None:
            raise InputError(f"Token {token_id} is not in your collection any more.", hint="Refresh the market.")
        holder = self._signing_account("accept an offer", holder)
        if offer.venue == SEAPORT:
            return self.seaport.accept_offer(line, holder)
        return self.escrow.accept_offer(line, holder)

    def cancel_order(self, line: OrderLine) -> Job:
        """Cancel one of the acting account's Seaport orders on chain."""
        self._signing_account("cancel an order", line.order.offerer)
        return self.seaport.cancel_order(line)

    def cancel_all_orders(self) -> Job:
        """Cancel every Seaport listing and offer the acting account signed (one transaction)."""
        account = self._signing_account("cancel all orders")
        self.venue()
        return self.seaport.cancel_all(account)

    def withdraw_proceeds(self) -> Job:
        """Collect payments the escrow marketplace holds for the acting account (pull payments)."""
        return self.escrow.withdraw_proceeds(self._signing_account("withdraw payments"))

    # -- plumbing of actions ---------------------------------------------------------------------

    def _signing_account(self, what: str, owner: str | None = None) -> str:
        """The acting account, which signs; refused while locked, and when what is acted on (a token,
        an offer, a collection) belongs to another account (``owner``): switch to it first."""
        if not self.wallet_state.wallet.is_unlocked:
            raise WalletLocked("The wallet is locked.", hint=f"Unlock it to {what}.")
        address = self.acting_account
        if not address or self.wallet_state.accounts.index_of(address) < 0:
            raise InputError(f"{short_address(address) or 'No account'} is not an account of this wallet.",
                             hint="Choose one of the wallet's accounts.")
        if owner == "":
            raise InputError("The selection holds tokens of several accounts; one signature lists one account's.")
        if owner is not None and owner.lower() != address.lower():
            raise InputError(f"This belongs to {self.account_name(owner)}, not to {self.account_name(address)}, "
                             f"who is acting now: nothing was signed.",
                             hint=f"Choose {self.account_name(owner)} in the Market's header to {what}.")
        self.marketplace()
        return self.wallet_state.account_row(address).address

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

    def check_balance(self, account: str, amount_wei: int) -> None:
        balance = self.wallet_state.account_row(account).balance_wei
        if balance is not None and balance < amount_wei:
            currency = self.network.currency
            raise InputError(f"This costs {format_eth(amount_wei, currency)}, but the account holds only "
                             f"{format_eth(balance, currency)}.", hint="Add funds or choose another account.")

    def act(self, action: str, title: str, account: str, run: Callable[[dict[str, Any]], Any],
            describe: Callable[[Any], str]) -> Job:
        """Run a workflow call on the pool with a signer for `account` and a confirm that asks the GUI
        (``run(kw)``: kw holds the connection, the signer and the confirm)."""
        session = self.wallet_state.session
        generation = self._generation
        self.wallet_state.wallet.touch()

        def work(progress: Callable[[Any], None], cancel: Any) -> ActionOutcome:
            def confirm(preview: Any) -> bool:
                request = PreviewRequest(preview, title)
                self._ask.emit(request)
                accepted = request.wait(cancel)
                if accepted:
                    progress(f"{title}: signing" + ("" if hasattr(preview, "details") and not
                                                    hasattr(preview, "gas_limit") else
                                                    " and waiting for the transaction"))
                return accepted

            kw = {"connection": session.connection(), "signer": session.contract_signer(account),
                  "confirm": confirm}
            result = run(kw)
            return ActionOutcome(action, describe(result), result)

        job = FunctionJob(title, work)
        job.succeeded.connect(lambda outcome: self._on_action_done(generation, outcome))
        job.cancelled.connect(self._on_action_declined)
        return self.start_action(job)

    def start_action(self, job: FunctionJob) -> Job:
        """Run an action's job on the pool: the tab shows it busy with its progress, and its failure in
        the error banner (its result is for the caller to connect)."""
        self._actions.add(job)
        self.busy = True
        self.error = ""
        self.progress_text = f"{job.title}…"
        job.progressed.connect(lambda text: setattr(self, "progress_text", str(text)))
        job.failed.connect(self._on_action_failed)
        job.ended.connect(lambda: self._action_ended(job))
        return self.background.start(job)

    def _on_ask(self, request: PreviewRequest) -> None:
        self.pending_requests.append(request)
        self.progress_text = f"{request.action}: read the preview."
        self.preview_requested.emit(request)

    def _on_action_done(self, generation: int, outcome: ActionOutcome) -> None:
        self.notice = outcome.message
        self.action_succeeded.emit(outcome)
        if generation == self._generation:
            self.refresh()
        self.wallet_state.refresh()

    def _on_action_failed(self, exc: BaseException) -> None:
        self.error = error_message(exc)
        self.action_failed.emit(exc)

    def _on_action_declined(self) -> None:
        self.notice = "Nothing was signed or sent: the preview was declined."
        self.action_declined.emit()

    def _action_ended(self, job: Job) -> None:
        self._actions.discard(job)
        self.pending_requests = [r for r in self.pending_requests if not r.answered]
        self.busy = bool(self._actions)
        if not self._actions:
            self.progress_text = ""

    def dismiss_error(self) -> None:
        self.error = ""

    def stop(self) -> None:
        """The window closes: stop the timer and answer every open question with no."""
        self.timer.stop()
        for request in self.pending_requests:
            request.answer(False)
