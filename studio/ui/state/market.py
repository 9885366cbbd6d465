"""The Market tab's view-model: what is for sale, what the wallet's accounts hold, offers, and every
market action (buy, list, change price, cancel, lazy-list, offers, withdraw proceeds).

No widgets here. Reading the market (`refresh`: sync the marketplace's events into the library,
then read listings, lazy vouchers, tokens and offers) and every action run as background jobs;
card details (name, image thumbnail, artist, royalty, provenance verdict) are fetched by a
second job that streams each card as it is ready. What can be refused without a node (a locked
wallet, a bad price, buying one's own listing, too little balance) is refused before any job
starts, with a `StudioError` the tab shows.

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

import threading
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage

from studio.errors import Cancelled, InputError, StudioError, WalletLocked
from studio.ui.binding import Field
from studio.ui.money import format_eth, parse_eth, short_address
from studio.ui.state.wallet import WalletState
from studio.ui.widgets.market_tables import (LAZY, LISTING, Card, HeldToken, HeldTokensModel, card_name,  # noqa: F401
                                             ListingsModel, MarketItem, OfferLine, OffersModel, plain_tooltip)
from studio.ui.workers import BackgroundPool, FunctionJob, Job, error_message

if TYPE_CHECKING:
    from studio.library.db import Collection, Library, Work
    from studio.library.market import OfferRow, VoucherRow
    from studio.workflows.market import TokenDetails

#: How often the market is read again while the tab is visible.
SYNC_INTERVAL_MS = 15_000
THUMBNAIL = 96


@dataclass(frozen=True)
class MarketSnapshot:
    """What one sync read, for one network."""

    network_key: str
    chain_id: int
    marketplace: str
    block: int
    items: tuple[MarketItem, ...]
    held: tuple[HeldToken, ...]
    offers_made: tuple[OfferLine, ...]
    offers_incoming: tuple[OfferLine, ...]
    payments_due: tuple[tuple[str, int], ...] = ()   # (account, wei the marketplace holds for it)
    collection_names: tuple[tuple[str, str], ...] = ()  # (lower-case address, name) of every collection shown


@dataclass(frozen=True)
class ActionOutcome:
    """A finished action: its words for the status line, and the workflow's result."""

    action: str
    message: str
    result: Any


class PreviewRequest:
    """A worker's question "sign this?" waiting for the person's answer on the GUI thread."""

    def __init__(self, preview: Any, action: str) -> None:
        self.preview = preview
        self.action = action
        self.accepted = False
        self._event = threading.Event()

    @property
    def is_transaction(self) -> bool:
        """A TxPreview (gas, value); otherwise a typed-data signature (a lazy listing's voucher)."""
        return hasattr(self.preview, "gas_limit")

    @property
    def answered(self) -> bool:
        return self._event.is_set()

    def answer(self, accepted: bool) -> None:
        if not self._event.is_set():
            self.accepted = bool(accepted)
            self._event.set()

    def wait(self, cancel: Any, poll: float = 0.1) -> bool:
        while not self._event.wait(poll):
            if cancel is not None and cancel.cancelled:
                return False
        return self.accepted


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

        super().__init__(parent)
        self.wallet_state = wallet_state
        self.library = library
        self.store = MarketStore(library)
        self.background = background
        self.tx_timeout = tx_timeout
        self.listings = ListingsModel(self)
        self.held = HeldTokensModel(self)
        self.offers_made = OffersModel(self)
        self.offers_incoming = OffersModel(self)
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

    def set_visible(self, visible: bool) -> None:
        """The tab shows (sync now, then every few seconds) or hides (stop the timer)."""
        if visible:
            self.timer.start()
            self.refresh()
        else:
            self.timer.stop()

    def refresh(self) -> Job | None:
        """Sync the marketplace's new events into the library, then read what the views show.
        A sync already running is not doubled (None is returned)."""
        if self._sync_job is not None:
            return None
        session, store, network = self.wallet_state.session, self.store, self.network
        accounts = [row.address for row in self.wallet_state.accounts.rows()]
        generation = self._generation
        known = self._marketplaces.get(network.key)

        def work(progress: Callable[[Any], None], cancel: Any) -> MarketSnapshot:
            from studio.workflows import market as wm
            from studio.workflows.collections import marketplace_address

            connection = session.connection()
            marketplace = known or marketplace_address(network)
            result = wm.sync_market(connection, marketplace, store, cancel=cancel)
            return _read_snapshot(connection, network.key, marketplace, store, accounts, result.last_block)

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
        self.status_line = f"{self.network.name} · read up to block {snapshot.block} · {time.strftime('%H:%M:%S')}"
        for model in (self.listings, self.held, self.offers_made, self.offers_incoming):
            model.collection_names = dict(snapshot.collection_names)
        self.listings.set_rows([self._with_card(i) for i in snapshot.items])
        self._show_acting()
        self._load_cards(snapshot)
        self.synced.emit()

    def _show_acting(self) -> None:
        """Fill the views of the acting account from the last sync (its tokens and its offers)."""
        snapshot, me = self.snapshot, self.acting_account.lower()
        held = [t for t in snapshot.held if t.owner.lower() == me] if snapshot else []
        made = [o for o in snapshot.offers_made if o.account.lower() == me] if snapshot else []
        incoming = [o for o in snapshot.offers_incoming if o.account.lower() == me] if snapshot else []
        self.held.set_rows([self._with_card(t) for t in held])
        self.offers_made.set_rows([self._with_card(o) for o in made])
        self.offers_incoming.set_rows([self._with_card(o) for o in incoming])

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
                signed_bps = _voucher_royalty(item.voucher)
                wanted[item.key] = {"collection": item.collection, "metadata_cid": item.voucher.metadata_cid,
                                    "royalty_bps": signed_bps}
            else:
                wanted[item.key] = {"collection": item.collection, "token_id": item.token_id}
        for held in snapshot.held:
            wanted.setdefault(held.key, {"collection": held.collection, "token_id": held.token_id})
        for line in (*snapshot.offers_made, *snapshot.offers_incoming):
            wanted.setdefault(line.key, {"collection": line.offer.collection, "token_id": line.offer.token_id})
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
                progress((key, Card(details, _thumbnail(details.image))))
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
        for model in (self.listings, self.held, self.offers_made, self.offers_incoming):
            model.set_card(key, card)

    def _on_cards_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.status_line = f"{self.status_line} · token details not read: {error_message(exc)}"

    def _cards_ended(self, job: Job) -> None:
        if self._details_job is job:
            self._details_job = None
            if self.snapshot is not None and any(
                    row.key not in self.cards for row in self.listings.rows() + self.held.rows()):
                self._load_cards(self.snapshot)  # rows that arrived while the job ran

    def _on_network_changed(self, _key: str) -> None:
        self._generation += 1
        self.snapshot = None
        self.cards.clear()
        self.last_block = -1
        for model in (self.listings, self.held, self.offers_made, self.offers_incoming):
            model.currency = self.network.currency
            model.set_rows([])
        self.status_line = f"{self.network.name} · reading the market…"
        if self._sync_job is not None:  # its answer is for the old network; read again after it
            self._sync_job.ended.connect(self.refresh)
        else:
            self.refresh()

    def _rename_accounts(self) -> None:
        names = {row.address.lower(): row.name for row in self.wallet_state.accounts.rows()}
        for model in (self.listings, self.held, self.offers_made, self.offers_incoming):
            model.names = names
            model.layoutChanged.emit()

    # -- what the dialogs need ------------------------------------------------------------------

    def quote(self, collection: str, token_id: int, price_text: str) -> Job:
        """How a price splits (royalty, marketplace fee, what the seller receives); result: a SaleQuote."""
        price = self.parse_price(price_text)
        marketplace = self._marketplace()
        session = self.wallet_state.session

        def work(_progress: Any, _cancel: Any) -> Any:
            from studio.workflows.market import quote_listing

            return quote_listing(session.connection(), marketplace, collection, token_id, price)

        return self.background.start(FunctionJob("Quoting the sale", work))

    def parse_price(self, text: str) -> int:
        price = parse_eth(text, self.network.currency)
        if price <= 0:
            raise InputError("A price must be more than zero.")
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

    # -- actions -------------------------------------------------------------------------------

    def buy(self, item: MarketItem) -> Job:
        """Buy a listed token (at the price shown) or a lazy listing, as the current account."""
        account = self._signing_account("buy")
        if item.seller.lower() == account.lower():
            raise InputError("This is your own listing.", hint="Choose another account to buy it, or cancel it.")
        self._check_balance(account, item.price_wei)
        common = self._common()
        if item.kind == LAZY:
            if item.voucher is None:
                raise InputError("This lazy listing has no voucher to redeem.")
            voucher = item.voucher
            return self._act("buy-voucher", f"Buying {self._label(item)}", account,
                             lambda wm, kw: wm.buy_voucher(
                                 voucher=voucher, **kw, **common),
                             lambda r: f"Bought token {r.token_id} (minted to you) for "
                                       f"{format_eth(r.price_wei, self.network.currency)}.")
        return self._act("buy", f"Buying {self._label(item)}", account,
                         lambda wm, kw: wm.buy_listing(
                             collection=item.collection, token_id=item.token_id, expected_price_wei=item.price_wei,
                             **kw, **common),
                         lambda r: f"Bought token {r.token_id} for {format_eth(r.price_wei, self.network.currency)}.")

    def list_token(self, token: HeldToken, price_text: str) -> Job:
        """List a token the wallet holds at a price (the marketplace is approved for it first if needed)."""
        if token.listed:
            raise InputError(f"Token {token.token_id} is already listed.", hint="Change its price instead.")
        price = self.parse_price(price_text)
        self._signing_account("list a token", token.owner)
        common = self._common()
        return self._act("list", f"Listing token {token.token_id}", token.owner,
                         lambda wm, kw: wm.list_token(
                             collection=token.collection, token_id=token.token_id, price_wei=price, **kw, **common),
                         lambda r: f"Token {r.token_id} is listed at {format_eth(r.price_wei, self.network.currency)}.")

    def change_price(self, token: HeldToken, price_text: str) -> Job:
        if not token.listed:
            raise InputError(f"Token {token.token_id} is not listed.", hint="List it first.")
        price = self.parse_price(price_text)
        if price == token.price_wei:
            raise InputError("That is the price it has now.")
        self._signing_account("change a price", token.owner)
        common = self._common()
        return self._act("change-price", f"Changing the price of token {token.token_id}", token.owner,
                         lambda wm, kw: wm.change_price(
                             collection=token.collection, token_id=token.token_id, price_wei=price, **kw, **common),
                         lambda r: f"Token {r.token_id} now costs {format_eth(r.price_wei, self.network.currency)}.")

    def cancel_listing(self, token: HeldToken) -> Job:
        if not token.listed:
            raise InputError(f"Token {token.token_id} is not listed.")
        self._signing_account("cancel a listing", token.owner)
        common = self._common()
        return self._act("cancel", f"Cancelling the listing of token {token.token_id}", token.owner,
                         lambda wm, kw: wm.cancel_listing(
                             collection=token.collection, token_id=token.token_id, **kw, **common),
                         lambda r: f"Token {r.token_id} is no longer listed; it is back in your account.")

    def lazy_list(self, collection: "Collection", work: "Work", name: str, price_text: str, *,
                  description: str = "", license_id: str = "all-rights-reserved", days: int = 30) -> Job:
        """List a work without minting it: store its image, sign a mint voucher (no gas)."""
        from pathlib import Path

        from studio.workflows.mint import MintItem

        price = self.parse_price(price_text)
        if days < 1:
            raise InputError("A lazy listing stays valid for at least one day.")
        self._signing_account("sign a lazy listing", collection.owner)
        if not Path(work.path).is_file():
            raise InputError(f"The work's file {work.path} is gone.", hint="Choose another work.")
        item = MintItem(Path(work.path), name, description=description, license=license_id)
        store, network = self.store, self.network
        expiry = int(time.time()) + days * 86_400

        def run(wm: Any, kw: dict[str, Any]) -> "VoucherRow":
            from studio.config import load_config
            from studio.workflows.publish import store_from_config

            content_store = store_from_config(load_config(), self.wallet_state.wallet)
            return wm.lazy_list_work(store=store, collection=collection.address, item=item, price_wei=price,
                                     content_store=content_store, expiry=expiry, **kw)

        return self._act("lazy-list", f"Lazily listing {name.strip() or 'the work'}", collection.owner, run,
                         lambda r: f"{name.strip()} is for sale at {format_eth(r.price_wei, network.currency)}; "
                                   "a purchase mints it (you paid no gas).")

    def make_offer(self, collection: str, token_id: int, amount_text: str) -> Job:
        """Offer ETH for a token, as the current account (held in escrow until withdrawn or accepted)."""
        account = self._signing_account("make an offer")
        amount = self.parse_price(amount_text)
        if any(t.collection.lower() == collection.lower() and t.token_id == token_id
               and t.owner.lower() == account.lower() for t in self.held.rows()):
            raise InputError(f"Token {token_id} is yours; an offer is for someone else's token.")
        self._check_balance(account, amount)
        common = self._common()
        return self._act("offer", f"Offering for token {token_id}", account,
                         lambda wm, kw: wm.make_offer(
                             collection=collection, token_id=token_id, amount_wei=amount, **kw, **common),
                         lambda r: f"Offer of {format_eth(r.price_wei, self.network.currency)} on token "
                                   f"{r.token_id} made (in escrow).")

    def withdraw_offer(self, line: OfferLine) -> Job:
        offer = line.offer
        self._signing_account("withdraw an offer", offer.buyer)
        common = self._common()
        return self._act("withdraw-offer", f"Withdrawing the offer on token {offer.token_id}", offer.buyer,
                         lambda wm, kw: wm.withdraw_offer(
                             collection=offer.collection, token_id=offer.token_id, **kw, **common),
                         lambda r: f"Offer withdrawn: {format_eth(r.price_wei, self.network.currency)} is back.")

    def accept_offer(self, line: OfferLine) -> Job:
        """Sell a token the wallet holds to the buyer of an incoming offer, for that offer."""
        offer = line.offer
        holder = line.account or next((t.owner for t in self.held.rows() if t.collection.lower() ==
                                       offer.collection.lower() and t.token_id == offer.token_id), None)
        if holder is None:
            raise InputError(f"Token {offer.token_id} is not in your collection any more.",
                             hint="Refresh the market.")
        holder = self._signing_account("accept an offer", holder)
        common = self._common()
        return self._act("accept-offer", f"Accepting the offer on token {offer.token_id}", holder,
                         lambda wm, kw: wm.accept_offer(
                             collection=offer.collection, token_id=offer.token_id, buyer=offer.buyer,
                             amount_wei=offer.amount_wei, **kw, **common),
                         lambda r: f"Token {r.token_id} sold for {format_eth(r.price_wei, self.network.currency)}.")

    def payment_due(self, account: str | None = None) -> int:
        """Wei the marketplace holds for an account (the acting one unless named), as last read."""
        who = (account or self.acting_account or "").lower()
        snapshot = self.snapshot
        return next((wei for owner, wei in (snapshot.payments_due if snapshot else ()) if owner.lower() == who), 0)

    def withdraw_proceeds(self) -> Job:
        """Collect payments the marketplace holds for the acting account (pull payments)."""
        who = self._signing_account("withdraw payments")
        common = self._common()
        common.pop("store")
        return self._act("withdraw", "Withdrawing payments", who,
                         lambda wm, kw: wm.withdraw_proceeds(**kw, **common),
                         lambda r: f"Withdrew {format_eth(r.price_wei, self.network.currency)}.")

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
        if owner is not None and owner.lower() != address.lower():
            raise InputError(f"This belongs to {self.account_name(owner)}, not to {self.account_name(address)}, "
                             f"who is acting now: nothing was signed.",
                             hint=f"Choose {self.account_name(owner)} in the Market's header to {what}.")
        self._marketplace()
        return self.wallet_state.account_row(address).address

    def _marketplace(self) -> str:
        marketplace = self._marketplaces.get(self.network.key)
        if marketplace is None:
            raise InputError(f"The market on {self.network.name} has not been read yet.",
                             hint="Wait for the first sync (or press Refresh).")
        return marketplace

    def _check_balance(self, account: str, amount_wei: int) -> None:
        balance = self.wallet_state.account_row(account).balance_wei
        if balance is not None and balance < amount_wei:
            currency = self.network.currency
            raise InputError(f"This costs {format_eth(amount_wei, currency)}, but the account holds only "
                             f"{format_eth(balance, currency)}.", hint="Add funds or choose another account.")

    def _common(self) -> dict[str, Any]:
        session = self.wallet_state.session
        return {"marketplace": self._marketplace(), "store": self.store, "network": session.network,
                "history": session.history, "timeout": self.tx_timeout}

    def _label(self, item: MarketItem) -> str:
        return card_name(item.card, f"token {item.token_id}" if item.token_id is not None else "the unminted work")

    def _act(self, action: str, title: str, account: str, run: Callable[[Any, dict[str, Any]], Any],
             describe: Callable[[Any], str]) -> Job:
        """Run a workflow call on the pool with a signer for `account` and a confirm that asks the GUI."""
        session = self.wallet_state.session
        generation = self._generation
        self.wallet_state.wallet.touch()

        def work(progress: Callable[[Any], None], cancel: Any) -> ActionOutcome:
            from studio.workflows import market as wm

            def confirm(preview: Any) -> bool:
                request = PreviewRequest(preview, title)
                self._ask.emit(request)
                accepted = request.wait(cancel)
                if accepted:
                    progress(f"{title}: signing and waiting for the transaction")
                return accepted

            kw = {"connection": session.connection(), "signer": session.contract_signer(account),
                  "confirm": confirm}
            result = run(wm, kw)
            return ActionOutcome(action, describe(result), result)

        job = FunctionJob(title, work)
        self._actions.add(job)
        self.busy = True
        self.error = ""
        self.progress_text = f"{title}…"
        job.progressed.connect(lambda text: setattr(self, "progress_text", str(text)))
        job.succeeded.connect(lambda outcome: self._on_action_done(generation, outcome))
        job.failed.connect(self._on_action_failed)
        job.cancelled.connect(self._on_action_declined)
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


def _voucher_royalty(voucher: "VoucherRow") -> int | None:
    """The royalty a voucher sets for its token (None: the collection's default applies)."""
    from studio.workflows.market import parse_voucher_json

    try:
        signed = parse_voucher_json(voucher.voucher_json)
    except StudioError:
        return None
    return signed.voucher.royalty_bps if signed.voucher.royalty_receiver else None


def _thumbnail(data: bytes | None) -> QImage | None:
    """A small image for the tables (QImage is safe off the GUI thread, QPixmap is not)."""
    if not data:
        return None
    image = QImage.fromData(data)
    if image.isNull():
        return None
    return image.scaled(THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)


def _read_snapshot(connection: Any, network_key: str, marketplace: str, store: Any, accounts: list[str],
                   block: int) -> MarketSnapshot:
    """Listings, lazy listings, the accounts' tokens and offers, from the library after a sync."""
    from studio.workflows.market import incoming_offers

    chain_id = connection.chain_id
    items = [MarketItem(LISTING, chain_id, l.collection, l.token_id, l.seller, l.price_wei)
             for l in store.active_listings(chain_id, marketplace)]
    items += [MarketItem(LAZY, chain_id, v.collection, None, v.artist, v.price_wei, voucher=v)
              for v in store.vouchers(chain_id)]
    items.sort(key=lambda i: (i.price_wei, i.collection.lower(), i.token_id if i.token_id is not None else -1))
    held: list[HeldToken] = []
    made: list[OfferLine] = []
    incoming: list[OfferLine] = []
    for account in accounts:
        offers = incoming_offers(connection, marketplace, store, account, sync=False)
        best: dict[tuple[str, int], "OfferRow"] = {}
        for offer in offers:
            best.setdefault((offer.collection.lower(), offer.token_id), offer)
        for token in store.my_tokens(chain_id, account):
            held.append(HeldToken(account, chain_id, token.collection, token.token_id, token.listed, token.price_wei,
                                  best.get((token.collection.lower(), token.token_id))))
        incoming += [OfferLine(o, True, account=account) for o in offers]
        made += [OfferLine(o, False, account=account) for o in store.offers_by(chain_id, account)]
    from studio.chain.contracts import MarketplaceContract

    market = MarketplaceContract(connection, marketplace)
    due = tuple((account, market.pending_withdrawal(account)) for account in accounts)
    addresses = {a.lower(): a for a in (*(i.collection for i in items), *(t.collection for t in held),
                                        *(o.offer.collection for o in (*made, *incoming)))}
    names = _collection_names(connection, store.library, chain_id, list(addresses.values()))
    return MarketSnapshot(network_key, chain_id, marketplace, block, tuple(items), tuple(held), tuple(made),
                          tuple(incoming), due, tuple(sorted(names.items())))


def _collection_names(connection: Any, library: Any, chain_id: int, addresses: list[str]) -> dict[str, str]:
    """Each collection's name: the library's (made or opened here), else its contract's ``name()``
    (cleaned: a stranger wrote it); a collection that does not answer keeps no name."""
    from studio.chain.erc721 import ERC721Reader, failed
    from studio.library.collections_cache import CollectionsCache
    from studio.workflows.collector import clean_text

    own = {c.address.lower(): c.name for c in library.collections(chain_id)}
    cache = CollectionsCache(library)
    names: dict[str, str] = {}
    for address in addresses:
        key = address.lower()
        opened = cache.collection(chain_id, address)
        name = own.get(key) or (opened.name if opened is not None else "")
        if not name:
            answer = ERC721Reader(connection, address).name()
            name = "" if failed(answer) else clean_text(answer, 80)
        if name:
            names[key] = name
    return names
