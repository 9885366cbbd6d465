"""The Collections view-model: open any ERC-721 collection by address, browse its tokens page by page,
see one token's details, and buy or make an offer through the Market tab's flows. No widgets here.

Every read runs on the background pool: opening a collection, each page of token cards (streamed
card by card), "My collection". Opening another collection (or My collection) cancels what the
previous one still had running, and answers that arrive late are dropped by a generation counter.
:class:`TokenGridModel` is virtualized: it knows how many tokens there are and asks for a page only
when the view paints a row of it. Buying and offering go through :class:`MarketState` (its preview
requests are answered by the Market tab's dialogs), so there is one way to spend money.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage

from studio.errors import Cancelled, InputError, StudioError
from studio.text import printable
from studio.ui import theme
from studio.ui.money import format_eth, short_address
from studio.ui.state.wallet import WalletState
from studio.ui.workers import BackgroundPool, FunctionJob, Job, error_message

if TYPE_CHECKING:
    from studio.library.db import Library
    from studio.ui.state.market import MarketState
    from studio.workflows.collector import CollectionView, TokenCard

PAGE = 24
THUMBNAIL = 150
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
MY_COLLECTION = "My collection"


class TokenGridModel(QAbstractListModel):
    """The tokens of the open collection (or of My collection): cards arrive page by page."""

    CardRole = Qt.ItemDataRole.UserRole + 1
    ErrorRole = Qt.ItemDataRole.UserRole + 2

    #: The view painted a row whose page is not read yet: (first row, count).
    page_wanted = Signal(int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.currency = "ETH"
        self._count = 0
        self._cards: dict[int, "TokenCard"] = {}
        self._thumbnails: dict[int, QImage] = {}
        self._asked: set[int] = set()

    def reset(self, count: int) -> None:
        self.beginResetModel()
        self._count = count
        self._cards.clear()
        self._thumbnails.clear()
        self._asked.clear()
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def card(self, row: int) -> "TokenCard | None":
        return self._cards.get(row)

    def loaded(self) -> int:
        return len(self._cards)

    def set_card(self, row: int, card: "TokenCard", thumbnail: QImage | None) -> None:
        if not 0 <= row < self._count:
            return
        self._cards[row] = card
        if thumbnail is not None and not thumbnail.isNull():
            self._thumbnails[row] = thumbnail
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def forget_page(self, first: int) -> None:
        """A page that was not read (cancelled or failed) may be asked for again."""
        self._asked.discard(first // PAGE)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._count:
            return None
        row = index.row()
        card = self._cards.get(row)
        if card is None:
            self._want(row)
            if role == Qt.ItemDataRole.DisplayRole:
                return "Loading…"
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return caption(card, self.currency)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnails.get(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            from studio.ui.widgets.market_tables import plain_tooltip

            return plain_tooltip(printable(card.problem or card.name))  # Qt would guess markup in a raw tooltip
        if role == Qt.ItemDataRole.BackgroundRole and not card.ok:
            return QBrush(QColor(theme.ERROR_BG))
        if role == Qt.ItemDataRole.ForegroundRole and not card.ok:
            return QBrush(QColor(theme.ERROR_TEXT))
        if role == self.CardRole:
            return card
        if role == self.ErrorRole:
            return card.problem
        return None

    def _want(self, row: int) -> None:
        page = row // PAGE
        if page not in self._asked:
            self._asked.add(page)
            self.page_wanted.emit(page * PAGE, min(PAGE, self._count - page * PAGE))


def caption(card: "TokenCard", currency: str = "ETH") -> str:
    """A grid cell's text: name, owner and price, or the reason an error card has no content."""
    if not card.ok:  # each line is one field: a name or a reason cannot add a line of its own
        reason = card.problem or ""
        return f"⚠ {printable(card.name)}\n{printable(reason[:180])}{'…' if len(reason) > 180 else ''}"
    lines = [printable(card.name[:40]), printable(f"Owner {short_address(card.owner)}") if card.owner
             else "Owner unknown"]
    if card.listing_price_wei is not None:
        lines.append(f"For sale · {format_eth(card.listing_price_wei, currency)}")
    return "\n".join(lines)


def _png(data: bytes) -> QImage:
    """A PNG the collector workflow encoded, decoded as PNG only (a null image if it is not one)."""
    image = QImage()
    image.loadFromData(data, "PNG")
    return image


def _thumbnail(data: bytes | None) -> QImage | None:
    """QImage from the PNG the collector workflow encoded (QImage is safe off the GUI thread)."""
    if not data:
        return None
    image = _png(data)
    if image.isNull():
        return None
    return image.scaled(THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)


NOTHING_OPEN = ("Paste a collection's address (0x…) above and press Open collection, pick one you opened before "
                "from Recent collections, or press My collection to see the tokens your accounts hold.")


class CollectorState(QObject):
    """What the Collections view shows and does, over the wallet's network and the library."""

    collection_changed = Signal(object)    # CollectionView | None (None: My collection or nothing)
    title_changed = Signal(str)
    status_changed = Signal(str)
    loading_changed = Signal(bool)
    error_changed = Signal(str)
    detail_changed = Signal(object)        # TokenCard | None
    detail_image_changed = Signal(object)  # QImage (null when there is none)
    recent_changed = Signal(object)        # list[OpenedCollection]
    #: A page finished reading: (first row, count).
    page_loaded = Signal(int, int)
    #: The open collection's page (banner, numbers, trait counts): a CollectionPage, or None.
    collection_page_changed = Signal(object)
    #: The trait filter changed: {trait: {values}} (empty: every token).
    trait_filter_changed = Signal(object)
    #: The shown token's activity (list[TokenEvent]) and provenance (ProvenanceReport | None).
    activity_changed = Signal(object)
    provenance_changed = Signal(object)

    def __init__(self, wallet_state: WalletState, library: "Library", background: BackgroundPool,
                 market_state: "MarketState | None" = None, parent: QObject | None = None, *,
                 fetcher: Any = None) -> None:
        super().__init__(parent)
        self.wallet_state = wallet_state
        self.library = library
        self.background = background
        self.market_state = market_state
        self.model = TokenGridModel(self)
        self.model.page_wanted.connect(self._read_page)
        self.view: "CollectionView | None" = None
        self.detail: "TokenCard | None" = None
        self.recent: list[Any] = []
        self._refs: list[tuple[str, int]] | None = None  # My collection's tokens (None: a collection is open)
        self._fetcher = fetcher
        self._marketplace: str | None = None
        self.page: Any = None  # the open collection's CollectionPage, once read
        self.trait_filter: dict[str, set[str]] = {}
        self.activity: list[Any] = []
        self.provenance: Any = None
        self._detail_generation = 0
        self._generation = 0
        self._jobs: set[Job] = set()
        self._status = NOTHING_OPEN
        self._error = ""
        self._title = "No collection open"
        wallet_state.network_key_changed.connect(self._on_network_changed)

    # -- properties the tab shows -------------------------------------------------------------

    @property
    def status(self) -> str:
        return self._status

    def _set_status(self, text: str) -> None:
        self._status = text
        self.status_changed.emit(text)

    @property
    def error(self) -> str:
        return self._error

    def _set_error(self, text: str) -> None:
        self._error = text
        self.error_changed.emit(text)

    @property
    def title(self) -> str:
        return self._title

    @property
    def loading(self) -> bool:
        return bool(self._jobs)

    # -- opening ------------------------------------------------------------------------------

    def open_collection(self, address: str) -> Job:
        """Open a collection by address on the wallet's network (what was loading before stops)."""
        address = address.strip()
        if not _ADDRESS.match(address):
            raise InputError(f"“{address[:60]}” is not a contract address.",
                             hint="Paste the collection's address: 0x followed by 40 hexadecimal characters.")
        generation = self._begin(f"Opening {short_address(address)}…")
        session, library, network = self.wallet_state.session, self.library, self.wallet_state.network

        def work(progress: Callable[[Any], None], cancel: Any) -> tuple["CollectionView", str | None, list[Any]]:
            from studio.workflows import collector as wc

            connection = session.connection()
            view = wc.open_collection(address, connection=connection, library=library,
                                      progress=lambda f, text: progress(text), cancel=cancel)
            return view, _marketplace_or_none(network), wc.recent_collections(library, connection.chain_id)

        job = self._start(f"Opening {short_address(address)}", work, generation)
        job.to(self).succeeded.connect(lambda result: self._on_opened(generation, *result))
        return job

    def show_my_collection(self) -> Job:
        """The tokens the wallet's accounts hold in the collections the studio knows."""
        owners = [row.address for row in self.wallet_state.accounts.rows()]
        if not owners:
            raise InputError("The wallet has no accounts yet.", hint="Create or import a wallet first.")
        generation = self._begin("Reading your collection…")
        session, library, network = self.wallet_state.session, self.library, self.wallet_state.network

        def work(progress: Callable[[Any], None], cancel: Any) -> tuple[list[tuple[str, int]], str | None]:
            from studio.workflows import collector as wc

            marketplace = _marketplace_or_none(network)
            refs = wc.my_collection(connection=session.connection(), library=library, owners=owners,
                                    marketplace=marketplace, progress=lambda f, text: progress(text), cancel=cancel)
            return refs, marketplace

        job = self._start("Reading your collection", work, generation)
        job.to(self).succeeded.connect(lambda result: self._on_my_collection(generation, *result))
        return job

    def load_recent(self) -> None:
        """The recently opened collections of this network (from the library; no node call)."""
        from studio.workflows.collector import recent_collections

        self.recent = recent_collections(self.library, self.wallet_state.network.chain_id)
        self.recent_changed.emit(self.recent)

    def _begin(self, status: str) -> int:
        self.cancel()
        self._generation += 1
        self.view, self._refs, self.detail = None, None, None
        self.page, self.trait_filter = None, {}
        self.collection_page_changed.emit(None)
        self.trait_filter_changed.emit({})
        self.model.currency = self.wallet_state.network.currency
        self.model.reset(0)
        self.detail_changed.emit(None)
        self.load_history(None)  # the last token's activity and provenance go with it
        self._set_error("")
        self._set_status(status)
        return self._generation

    def _on_opened(self, generation: int, view: "CollectionView", marketplace: str | None, recent: list[Any]) -> None:
        if generation != self._generation:
            return
        self.view, self._marketplace = view, marketplace
        self._title = view.title
        self.title_changed.emit(self._title)
        self.recent = recent
        self.recent_changed.emit(recent)
        self.collection_changed.emit(view)
        source = "ERC721Enumerable" if view.enumerable else "its transfer history"
        notes = f" · {' '.join(view.notes)}" if view.notes else ""
        self._set_status(f"{view.token_count} tokens (listed from {source}){notes}")
        self.model.reset(view.token_count)
        self.load_collection_page()

    def load_collection_page(self) -> Job | None:
        """Read the open collection's page: banner, creator, royalty, items, owners, floor, volume,
        listed count and trait counts (metadata not cached yet is read now)."""
        view, generation = self.view, self._generation
        if view is None:
            return None
        session, library, marketplace = self.wallet_state.session, self.library, self._marketplace
        fetcher = self._card_fetcher()

        def work(progress: Callable[[Any], None], cancel: Any) -> Any:
            from studio.workflows.collection_page import collection_page

            return collection_page(view, connection=session.connection(), library=library, fetcher=fetcher,
                                   marketplace=marketplace, progress=lambda f, text: progress(text), cancel=cancel)

        job = self._start(f"Reading the page of {view.title}", work, generation, quiet=True)
        job.to(self).succeeded.connect(lambda page: self._on_page(generation, page))
        return job

    def _on_page(self, generation: int, page: Any) -> None:
        if generation == self._generation:
            self.page = page
            self.collection_page_changed.emit(page)

    def set_trait_filter(self, trait: str, value: str, on: bool) -> None:
        """Show only tokens with the checked trait values (values of one trait widen, traits narrow)."""
        view = self.view
        if view is None:
            return
        values = self.trait_filter.setdefault(trait, set())
        (values.add if on else values.discard)(value)
        if not values:
            del self.trait_filter[trait]
        self.trait_filter_changed.emit({k: set(v) for k, v in self.trait_filter.items()})
        self._generation += 1  # cards of the unfiltered grid still arriving are dropped
        self.detail = None
        self.detail_changed.emit(None)
        self.load_history(None)
        if not self.trait_filter:
            self._refs = None
            self._set_status(f"{view.token_count} tokens")
            self.model.reset(view.token_count)
            return
        from studio.workflows.collection_page import tokens_with_traits

        ids = tokens_with_traits(self.library, view.chain_id, view.address, self.trait_filter)
        self._refs = [(view.address, token_id) for token_id in ids]
        chosen = "; ".join(f"{trait}: {', '.join(sorted(values))}" for trait, values in sorted(self.trait_filter.items()))
        self._set_status(f"{len(ids)} of {view.token_count} tokens have {chosen}")
        self.model.reset(len(ids))

    def clear_trait_filter(self) -> None:
        for trait, values in list(self.trait_filter.items()):
            for value in list(values):
                self.set_trait_filter(trait, value, False)

    def _on_my_collection(self, generation: int, refs: list[tuple[str, int]], marketplace: str | None) -> None:
        if generation != self._generation:
            return
        self._refs, self._marketplace = refs, marketplace
        self._title = MY_COLLECTION
        self.title_changed.emit(self._title)
        self.collection_changed.emit(None)
        self._set_status(f"Your accounts hold {len(refs)} tokens in the collections the studio knows." if refs else
                         "Your accounts hold no tokens in the collections the studio knows yet. Open a collection "
                         "by address to add it.")
        self.model.reset(len(refs))

    # -- pages --------------------------------------------------------------------------------

    def _read_page(self, first: int, count: int) -> None:
        generation = self._generation
        view, refs = self.view, self._refs
        if view is None and refs is None:
            return
        session, library, marketplace = self.wallet_state.session, self.library, self._marketplace
        fetcher = self._card_fetcher()

        def work(progress: Callable[[Any], None], cancel: Any) -> int:
            from studio.workflows import collector as wc

            connection = session.connection()

            def streamed(position: int, card: "TokenCard") -> None:  # cards arrive as they are ready
                progress((first + position, card, _thumbnail(card.image)))

            if refs is not None:  # My collection, or a collection filtered by its traits
                wc.read_cards(refs[first:first + count], connection=connection, library=library, fetcher=fetcher,
                              marketplace=marketplace, on_card=streamed, cancel=cancel)
            elif view is not None:
                wc.token_page(view, first, count, connection=connection, library=library, fetcher=fetcher,
                              marketplace=marketplace, on_card=streamed, cancel=cancel)
            return count

        job = self._start(f"Reading tokens {first + 1}–{first + count}", work, generation, quiet=True)
        outlet = job.to(self)
        outlet.progressed.connect(lambda update: self._on_card(generation, *update))
        outlet.succeeded.connect(lambda _n: self._page_done(generation, first, count))
        outlet.failed.connect(lambda _exc: self.model.forget_page(first) if generation == self._generation else None)
        outlet.cancelled.connect(lambda: self.model.forget_page(first) if generation == self._generation else None)

    def _on_card(self, generation: int, row: int, card: "TokenCard", thumbnail: QImage | None) -> None:
        if generation != self._generation:
            return
        self.model.set_card(row, card, thumbnail)
        if self.detail is not None and self.detail.key == card.key:
            self._show(card)

    def _page_done(self, generation: int, first: int, count: int) -> None:
        if generation == self._generation:
            self.page_loaded.emit(first, count)

    def _card_fetcher(self) -> Any:
        if self._fetcher is None:
            from studio.config import load_config
            from studio.storage.backends import fetcher_from_config

            self._fetcher = fetcher_from_config(load_config())
        return self._fetcher

    # -- the detail pane ----------------------------------------------------------------------

    def select(self, row: int) -> None:
        card = self.model.card(row)
        self._show(card)
        self.load_history(card)

    def load_history(self, card: "TokenCard | None") -> Job | None:
        """Read the token's activity (mint, transfers, listings, sales, offers, with prices and times)
        and its provenance (the verified manifest, the signer, the on-chain commitment)."""
        self._detail_generation += 1
        generation = self._detail_generation
        self.activity, self.provenance = [], None
        self.activity_changed.emit([])
        self.provenance_changed.emit(None)
        if card is None:  # a token whose metadata cannot be read still has a history on the chain
            return None
        session, library, network = self.wallet_state.session, self.library, self.wallet_state.network
        start = getattr(self.view, "address", None)
        fetcher = self._card_fetcher()

        def work(_progress: Callable[[Any], None], cancel: Any) -> tuple[list[Any], Any]:
            from studio.library.collections_cache import CollectionsCache
            from studio.workflows.collection_page import token_activity, token_provenance

            connection = session.connection()
            opened = CollectionsCache(library).collection(connection.chain_id, card.collection)
            events = token_activity(card.token_id, collection=card.collection, connection=connection,
                                    library=library, start_block=opened.start_block if opened else 0, cancel=cancel)
            report = token_provenance(library, network, card.collection, card.token_id, fetcher=fetcher,
                                      registry=session.registry, connect=lambda _network: connection)
            return events, report

        job = self._start(f"Reading the history of token {card.token_id}", work, self._generation, quiet=True)
        job.to(self).succeeded.connect(lambda result: self._on_history(generation, start, *result))
        return job

    def _on_history(self, generation: int, _collection: Any, events: list[Any], report: Any) -> None:
        if generation != self._detail_generation:
            return
        self.activity, self.provenance = events, report
        self.activity_changed.emit(events)
        self.provenance_changed.emit(report)

    def _show(self, card: "TokenCard | None") -> None:
        self.detail = card
        self.detail_changed.emit(card)
        image = _png(card.image) if card is not None and card.image else QImage()
        self.detail_image_changed.emit(image)

    def buy_state(self, card: "TokenCard | None" = None) -> tuple[bool, str]:
        """Whether Buy can be pressed for a card, and if not, why (in words for the tab)."""
        card = card or self.detail
        if card is None:
            return False, ""
        if self.market_state is None:
            return False, "Buying needs the wallet: open the Wallet tab first."
        if not card.ok:
            return False, "This token's contract or metadata is broken; it cannot be bought here."
        if card.listing_price_wei is None or card.listing_seller is None:
            return False, ("Not listed on the studio marketplace. Its holder must approve the marketplace and list "
                           "it there before it can be bought here; you can make an offer meanwhile.")
        account = self.wallet_state.current_account
        if account and card.listing_seller.lower() == account.lower():
            return False, "This is your own listing."
        return True, f"For sale at {format_eth(card.listing_price_wei, self.wallet_state.network.currency)}."

    def buy(self) -> Job:
        """Buy the shown token at its listed price through the Market tab's flow (preview first)."""
        from studio.ui.widgets.market_tables import LISTING, MarketItem

        card = self.detail
        allowed, reason = self.buy_state(card)
        if not allowed or card is None or self.market_state is None:
            raise InputError(reason or "Choose a token first.")
        item = MarketItem(LISTING, self.wallet_state.network.chain_id, card.collection, card.token_id,
                          card.listing_seller or "", card.listing_price_wei or 0)
        job = self.market_state.trades.buy(item)
        job.to(self).succeeded.connect(lambda _outcome: self._reread(card))
        return job

    def make_offer(self, amount_text: str) -> Job:
        """Offer for the shown token through the Market tab's flow: a Seaport offer in WETH where the
        network has Seaport, else ETH escrowed by the studio marketplace."""
        card = self.detail
        if card is None or self.market_state is None:
            raise InputError("Choose a token first." if card is None else
                             "Making an offer needs the wallet: open the Wallet tab first.")
        if not card.ok:
            raise InputError("This token's contract or metadata is broken; no offer is made on it here.")
        job = self.market_state.trades.make_offer(card.collection, card.token_id, amount_text)
        job.to(self).succeeded.connect(lambda _outcome: self._reread(card))
        return job

    def _reread(self, card: "TokenCard") -> None:
        """After a purchase or offer: read the card again (owner, listing)."""
        row = next((r for r in range(self.model.rowCount()) if (c := self.model.card(r)) is not None
                    and c.key == card.key), None)
        if row is not None:
            self._read_page(row, 1)

    # -- jobs ---------------------------------------------------------------------------------

    def _start(self, title: str, fn: Callable[[Callable[[Any], None], Any], Any], generation: int, *,
               quiet: bool = False) -> Job:
        job = FunctionJob(title, fn)
        self._jobs.add(job)
        self.loading_changed.emit(True)
        if not quiet:
            job.to(self).progressed.connect(lambda text: self._set_status(str(text)) if generation == self._generation
                                   else None)
        job.to(self).failed.connect(lambda exc: self._on_failed(generation, exc))
        job.to(self).ended.connect(lambda: self._ended(job))
        return self.background.start(job)

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation or isinstance(exc, Cancelled):
            return
        self._set_error(error_message(exc))
        if self.view is None and self._refs is None:
            self._set_status(NOTHING_OPEN)

    def _ended(self, job: Job) -> None:
        self._jobs.discard(job)
        self.loading_changed.emit(bool(self._jobs))

    def cancel(self) -> None:
        """Stop every read still running (another collection is opened, or the window closes)."""
        for job in list(self._jobs):
            job.cancel()

    def _on_network_changed(self, _key: str) -> None:
        self._begin("Open a collection of this network.")
        self.collection_changed.emit(None)
        self._title = ""
        self.title_changed.emit("")
        try:
            self.load_recent()
        except StudioError as exc:
            self._set_error(error_message(exc))

    def dismiss_error(self) -> None:
        self._set_error("")


def _marketplace_or_none(network: Any) -> str | None:
    """The studio marketplace of the network, or None where none is set (listing prices are then not shown)."""
    from studio.workflows.collections import marketplace_address

    try:
        return marketplace_address(network)
    except StudioError:
        return None
