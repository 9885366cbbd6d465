"""The collector's view of any ERC-721 collection, including ones the studio did not create.

    view = open_collection(address, connection=c, library=lib)          # name, standards, token count
    cards = token_page(view, 0, 24, connection=c, fetcher=f, library=lib, marketplace=m)
    mine = my_collection(connection=c, library=lib, owners=[...])      # what the wallet holds

Everything a stranger's contract or metadata says is untrusted. Each token becomes a
:class:`TokenCard`: a good one (name, description, traits, image, owner, royalty, listing price) or an
error card whose ``problem`` says in plain words why it cannot be shown (a revert, garbage bytes, a
``javascript:`` link, JSON too large or too deep, a decompression bomb...). Nothing here raises for a
broken token; only a node that stops answering (NetworkError) or a cancel ends a page early.

Limits: up to six tokens are read at once and each fetch ends at a 20-second deadline, so a slow or
dripping server costs one card, not the page; links to this computer or a private network are never
opened (:mod:`studio.storage.netguard`); metadata JSON at most 1 MiB (parsed with
:mod:`studio.safejson`); images at most 20 MiB,
decoded by Pillow only as PNG, JPEG, GIF or WebP, refused above 40 megapixels before decoding
(Pillow's own decompression-bomb check stays on too), re-encoded as a small PNG preview so the GUI
only ever decodes bytes the studio wrote. SVG is never rendered. Texts are cut to a length and
cleared of control and bidirectional-override characters; the GUI shows them as plain text.
"""
from __future__ import annotations

import dataclasses
import io
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from studio.cancel import Cancellable, ProgressCallback
from studio.errors import Cancelled, InputError, NetworkError, StudioError

if TYPE_CHECKING:
    from studio.chain.erc721 import ERC721Reader
    from studio.chain.transactions import Connection
    from studio.library.db import Library

log = logging.getLogger(__name__)

MAX_JSON_BYTES = 1024 * 1024
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
PREVIEW_PIXELS = 512
MAX_NAME = 120
MAX_DESCRIPTION = 2_000
MAX_TRAITS = 40
MAX_TRAIT_TEXT = 80
MAX_ENUMERABLE = 1_000_000
FETCH_TIMEOUT = (5.0, 15.0)
#: Total seconds for one metadata or image fetch (a server dripping bytes is cut off here).
FETCH_DEADLINE = 20.0
#: Tokens of a page read at the same time.
PARALLEL_TOKENS = 6
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
SVG_NOTE = "SVG image not shown (the studio does not run SVG from other collections)."
ROYALTY_BASIS = 10_000
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class CollectionView:
    """A collection as the contract describes itself; `notes` say what it would not answer."""

    chain_id: int
    address: str
    name: str
    symbol: str
    standards: tuple[str, ...]
    token_count: int
    enumerable: bool  # token ids come from tokenByIndex; otherwise from Transfer logs
    notes: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return f"{self.name} ({self.symbol})" if self.symbol else self.name


@dataclass(frozen=True)
class TokenCard:
    """One token as the collector view shows it. `problem` set: an error card (reason in words)."""

    collection: str
    token_id: int
    name: str
    description: str = ""
    traits: tuple[tuple[str, str], ...] = ()
    image: bytes | None = None          # a PNG the studio encoded (small preview), never the stranger's bytes
    image_note: str | None = None       # why no image is shown (SVG, too large, a bomb, unreadable)
    owner: str | None = None
    royalty_receiver: str | None = None
    royalty_bps: int | None = None      # None: no ERC-2981 answer
    listing_price_wei: int | None = None
    listing_seller: str | None = None
    uri: str = ""
    problem: str | None = None
    best_offer_wei: int | None = None   # the highest offer now (escrowed ETH or a Seaport offer), and who made it
    best_offer_buyer: str | None = None
    best_offer_currency: str | None = None  # None: the network's own (escrowed ETH); "WETH": a Seaport offer

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def key(self) -> tuple[str, int]:
        return self.collection.lower(), self.token_id


# ---------------------------------------------------------------- opening a collection

def open_collection(address: str, *, connection: "Connection", library: "Library", fetcher: Any = None,
                    start_block: int = 0, progress: ProgressCallback | None = None,
                    cancel: Cancellable | None = None) -> CollectionView:
    """Read what the contract says about itself and how many tokens it has; remember it as opened.

    Token ids come from ERC721Enumerable when the contract has it, else from its Transfer logs,
    read from `start_block` the first time and only new blocks after that (cached in the library).
    ``fetcher`` is not needed to open; it is accepted so every collector call reads alike.
    Raises NotFound for an address without a contract, InputError for a malformed one.
    """
    from studio.chain.erc721 import ERC721Reader, failed
    from studio.library.collections_cache import CollectionsCache

    _step(progress, cancel, 0.05, "Reading the contract")
    reader = ERC721Reader(connection, address)
    cache = CollectionsCache(library)
    notes: list[str] = []
    name = reader.name()
    symbol = reader.symbol()
    if failed(name):
        notes.append(f"Name: {name}")
    if failed(symbol):
        notes.append(f"Symbol: {symbol}")
    standards = reader.standards()
    title = clean_text(name, MAX_NAME) if not failed(name) and str(name).strip() else _short_address(reader.address)
    symbol_text = clean_text(symbol, 24) if not failed(symbol) else ""
    cache.remember(connection.chain_id, reader.address, title, symbol_text, standards)
    enumerable = False
    count = 0
    if "ERC721Enumerable" in standards:
        supply = reader.total_supply()
        if not failed(supply) and 0 <= supply <= MAX_ENUMERABLE:
            enumerable, count = True, int(supply)
        else:
            notes.append(f"totalSupply() was not usable ({supply}); token ids come from the transfer history.")
    if not enumerable:
        _step(progress, cancel, 0.1, "Reading the collection's transfers")
        sync_transfers(reader, cache, start_block=start_block, progress=progress, cancel=cancel)
        count = cache.token_count(connection.chain_id, reader.address)
    if progress is not None:
        progress(1.0, f"{title}: {count} tokens")
    return CollectionView(connection.chain_id, reader.address, title, symbol_text, standards, count, enumerable,
                          tuple(notes))


def sync_transfers(reader: "ERC721Reader", cache: Any, *, start_block: int = 0,
                   progress: ProgressCallback | None = None, cancel: Cancellable | None = None) -> int:
    """Read the Transfer logs after the cached position into the cache; returns how many were new.

    When the block the cache stopped at is no longer on the node's chain (a re-org, or a node
    that was reset), the collection's holders are read again from its start block.
    """
    chain_id = reader.connection.chain_id
    opened = cache.collection(chain_id, reader.address)
    first = max(start_block, opened.start_block if opened else 0)
    reset = False
    if opened is not None and opened.last_block >= 0:
        if reader.block_hash(opened.last_block) == opened.last_hash:
            first = opened.last_block + 1
        else:
            log.info("The chain changed under %s since block %d; reading its transfers again", reader.address,
                     opened.last_block)
            reset = True
    head = reader.head()
    if first > head and not reset:
        return 0
    transfers = reader.transfers(first, head, progress=progress, cancel=cancel) if first <= head else []
    return cache.apply_transfers(chain_id, reader.address, transfers, last_block=head,
                                 last_hash=reader.block_hash(head), reset=reset)


def recent_collections(library: "Library", chain_id: int, limit: int = 20) -> list[Any]:
    """The collections opened on this chain, the latest first (OpenedCollection rows)."""
    from studio.library.collections_cache import CollectionsCache

    return CollectionsCache(library).recent(chain_id, limit)


# ---------------------------------------------------------------- reading tokens

def token_ids(view: CollectionView, offset: int, limit: int, *, connection: "Connection",
              library: "Library") -> list[int | str]:
    """The ids of tokens `offset .. offset+limit-1` (an index whose id cannot be read is a text
    saying why, so the page still shows an error card there)."""
    from studio.chain.erc721 import ERC721Reader, failed
    from studio.library.collections_cache import CollectionsCache

    end = min(view.token_count, offset + limit)
    if offset >= end:
        return []
    if not view.enumerable:
        return [t.token_id for t in CollectionsCache(library).tokens(view.chain_id, view.address, offset, end - offset)]
    reader = ERC721Reader(connection, view.address)
    ids: list[int | str] = []
    for index in range(offset, end):
        value = reader.token_by_index(index)
        ids.append(f"tokenByIndex({index}): {value}" if failed(value) else int(value))
    return ids


def token_page(view: CollectionView, offset: int, limit: int, *, connection: "Connection", library: "Library",
               fetcher: Any, marketplace: str | None = None, on_card: Callable[[int, TokenCard], None] | None = None,
               progress: ProgressCallback | None = None, cancel: Cancellable | None = None) -> list[TokenCard]:
    """Cards of one page of the collection, each passed to `on_card` (with its position in the page)
    as soon as it is read."""
    ids = token_ids(view, offset, limit, connection=connection, library=library)
    return read_cards([(view.address, token) for token in ids], connection=connection, library=library,
                      fetcher=fetcher, marketplace=marketplace, on_card=on_card, progress=progress, cancel=cancel)


def read_cards(tokens: Sequence[tuple[str, int | str]], *, connection: "Connection", library: "Library",
               fetcher: Any, marketplace: str | None = None, on_card: Callable[[int, TokenCard], None] | None = None,
               progress: ProgressCallback | None = None, cancel: Cancellable | None = None,
               parallel: int = PARALLEL_TOKENS) -> list[TokenCard]:
    """Cards of (collection, token id) pairs, in order; a pair whose id is a text is an error card.

    Up to `parallel` tokens are read at once, so one slow server (each fetch ends at its deadline)
    does not hold the others: `on_card(position, card)` is called, on this thread, as each card is
    ready, in whatever order they finish. A NetworkError from the node or a cancel ends the page:
    the tokens not started are dropped, those running end at their own deadline.
    """
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    from studio.chain.erc721 import ERC721Reader
    from studio.library.collections_cache import CollectionsCache

    readers: dict[str, ERC721Reader] = {}
    standards: dict[str, tuple[str, ...]] = {}
    cache = CollectionsCache(library)
    market = _marketplace(connection, marketplace)
    fetcher = _capped(fetcher)
    cards: list[TokenCard | None] = [None] * len(tokens)
    read_metadata: dict[str, list[tuple[int, str, tuple[tuple[str, str], ...]]]] = {}
    done = 0

    def finished(position: int, card: TokenCard) -> None:
        nonlocal done
        cards[position] = card
        done += 1
        if on_card is not None:
            on_card(position, card)
        if progress is not None:
            progress(done / max(1, len(tokens)), f"Read token {card.token_id}")

    def check_cancel() -> None:
        if cancel is not None and cancel.cancelled:
            raise Cancelled("Stopped reading the collection.")

    pool = ThreadPoolExecutor(max_workers=max(1, min(parallel, len(tokens))), thread_name_prefix="token")
    running: dict[Future[TokenCard], int] = {}
    try:
        for position, (collection, token_id) in enumerate(tokens):
            check_cancel()
            if isinstance(token_id, str):
                finished(position, TokenCard(collection, -1 - position, "Unreadable token", problem=token_id))
                continue
            key = collection.lower()
            if key not in readers:  # the library is used on this thread only (SQLite)
                readers[key] = ERC721Reader(connection, collection)
                opened = cache.collection(connection.chain_id, readers[key].address)
                standards[key] = opened.standards if opened is not None else readers[key].standards()
            future = pool.submit(read_card, readers[key], token_id, fetcher=fetcher, market=market,
                                 royalties="ERC2981" in standards[key])
            running[future] = position
        while running:
            ready, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
            check_cancel()
            for future in ready:
                position = running.pop(future)
                card = future.result()  # NetworkError (the node stopped answering) ends the page
                card = _with_best_offer(card, library, market, connection.chain_id)  # the library: this thread
                if card.owner is not None:
                    cache.set_owner(connection.chain_id, card.collection, card.token_id, card.owner, -1)
                if card.ok and card.uri:  # its name and traits feed the collection page's trait filters
                    read_metadata.setdefault(card.collection, []).append((card.token_id, card.name, card.traits))
                finished(position, card)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        if read_metadata:
            from studio.library.activity import remember_metadata

            for collection, entries in read_metadata.items():
                remember_metadata(library, connection.chain_id, collection, entries)
    return [card for card in cards if card is not None]


def read_card(reader: "ERC721Reader", token_id: int, *, fetcher: Any, market: Any = None,
              royalties: bool = True) -> TokenCard:
    """One token's card; never raises for what the contract or its metadata does (NetworkError aside)."""
    from studio.chain.erc721 import failed

    fallback = f"Token {token_id}"
    owner = reader.owner_of(token_id)
    owner_text = None if failed(owner) else str(owner)
    listing_price, listing_seller = _listing(market, reader.address, token_id)
    if listing_seller is not None:
        owner_text = listing_seller  # held by the marketplace while listed: the seller is who owns it
    royalty_receiver, royalty_bps = None, None
    if royalties:
        royalty = reader.royalty_info(token_id, ROYALTY_BASIS)
        if not failed(royalty):
            royalty_receiver, amount = royalty
            royalty_bps = int(amount) if amount <= ROYALTY_BASIS else None
    base = TokenCard(collection=reader.address, token_id=token_id, name=fallback, owner=owner_text,
                     royalty_receiver=royalty_receiver, royalty_bps=royalty_bps, listing_price_wei=listing_price,
                     listing_seller=listing_seller)
    if failed(owner) and listing_seller is None:
        return dataclasses.replace(base, problem=f"The owner could not be read: {owner}")
    uri = reader.token_uri(token_id)
    if failed(uri):
        return dataclasses.replace(base, problem=f"The token's metadata link could not be read: {uri}")
    uri_text = str(uri).strip()
    shown_uri = clean_text(uri_text, 200)
    try:
        metadata = _metadata(fetcher, uri_text)
    except StudioError as exc:
        if isinstance(exc, NetworkError) and not _is_remote_metadata(uri_text):
            raise
        return dataclasses.replace(base, uri=shown_uri, problem=_reason(exc))
    name = clean_text(metadata.get("name"), MAX_NAME) or fallback
    description = clean_text(metadata.get("description"), MAX_DESCRIPTION)
    image, note = _image(fetcher, metadata)
    return dataclasses.replace(base, name=name, description=description, traits=_traits(metadata.get("attributes")),
                               image=image, image_note=note, uri=shown_uri)


def _metadata(fetcher: Any, uri: str) -> dict[str, Any]:
    from studio import safejson

    fetched = _fetch(fetcher, uri, MAX_JSON_BYTES, "The metadata")
    data = safejson.loads(fetched.data, what="The token's metadata")
    if not isinstance(data, dict):
        raise InputError("The token's metadata is JSON but not an object with a name and an image.")
    return data


def _image(fetcher: Any, metadata: dict[str, Any]) -> tuple[bytes | None, str | None]:
    """A PNG preview of the metadata's image, or why there is none."""
    if isinstance(metadata.get("image_data"), str) and not isinstance(metadata.get("image"), str):
        return None, SVG_NOTE
    link = metadata.get("image") if isinstance(metadata.get("image"), str) else metadata.get("image_url")
    if not isinstance(link, str) or not link.strip():
        return None, "The metadata names no image."
    link = link.strip()
    if link.lower().startswith("data:image/svg"):
        return None, SVG_NOTE
    try:
        fetched = _fetch(fetcher, link, MAX_IMAGE_BYTES, "The image")
    except StudioError as exc:
        return None, f"The image could not be fetched: {_reason(exc)}"
    return safe_preview(fetched.data, getattr(fetched, "content_type", "") or "")


def safe_preview(data: bytes, content_type: str = "") -> tuple[bytes | None, str | None]:
    """Decode an untrusted image with Pillow under the pixel limit and re-encode a small PNG of it.

    Returns (png, None), or (None, why not): SVG and HTML are never decoded.
    """
    from studio.safeimage import ImageBomb, open_image

    head = data[:512].lstrip().lower()
    if "svg" in content_type.lower() or head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return None, SVG_NOTE
    if head.startswith((b"<!doctype html", b"<html")):
        return None, "The image link leads to a web page, not an image."
    try:
        with open_image(data, what="The image", max_pixels=MAX_IMAGE_PIXELS, formats=IMAGE_FORMATS) as probe:
            probe.verify()
        with open_image(data, what="The image", max_pixels=MAX_IMAGE_PIXELS, formats=IMAGE_FORMATS) as image:
            image.load()
            frame = image.convert("RGBA")
    except ImageBomb as exc:
        return None, exc.message
    except InputError as exc:
        cause = exc.__cause__.__class__.__name__ if exc.__cause__ is not None else "too large"
        return None, f"The image could not be decoded ({cause}): only PNG, JPEG, GIF and WebP are shown."
    frame.thumbnail((PREVIEW_PIXELS, PREVIEW_PIXELS))
    out = io.BytesIO()
    frame.save(out, format="PNG")
    return out.getvalue(), None


def _fetch(fetcher: Any, uri: str, limit: int, what: str) -> Any:
    """Fetch with a size cap: a copy of a dataclass fetcher with the lower limit, else check after."""
    scheme = uri.split(":", 1)[0].lower() if ":" in uri else ""
    if scheme not in ("ipfs", "https", "data"):
        shown = clean_text(uri, 60)
        raise InputError(f"{what} link “{shown}” uses {scheme + ':' if scheme else 'no scheme'}, which the studio "
                         "never opens; only ipfs://, https:// and data: links are read.")
    capped = fetcher
    if dataclasses.is_dataclass(fetcher) and not isinstance(fetcher, type) and hasattr(fetcher, "max_bytes"):
        capped = dataclasses.replace(fetcher, max_bytes=min(int(fetcher.max_bytes), limit))
    fetched = capped.fetch(uri)
    if len(fetched.data) > limit:
        raise InputError(f"{what} is {len(fetched.data):,} bytes, over the limit of {limit:,}; it was not read.")
    return fetched


def _capped(fetcher: Any) -> Any:
    """The fetcher with the collector's timeouts (a stranger's server must not hold a page)."""
    if fetcher is None:
        from studio.config import load_config
        from studio.storage.backends import fetcher_from_config

        fetcher = fetcher_from_config(load_config())
    if dataclasses.is_dataclass(fetcher) and not isinstance(fetcher, type) and hasattr(fetcher, "timeout"):
        changes: dict[str, Any] = {"timeout": FETCH_TIMEOUT, "attempts": 1}
        if hasattr(fetcher, "deadline"):
            current = getattr(fetcher, "deadline")
            changes["deadline"] = FETCH_DEADLINE if current is None else min(float(current), FETCH_DEADLINE)
        return dataclasses.replace(fetcher, **changes)
    return fetcher


def _is_remote_metadata(uri: str) -> bool:
    return uri.lower().startswith(("https:", "ipfs:"))


def _traits(value: Any) -> tuple[tuple[str, str], ...]:
    """OpenSea-style attributes as (trait, value) texts; anything else is ignored."""
    if not isinstance(value, list):
        return ()
    traits = []
    for item in value[:MAX_TRAITS]:
        if isinstance(item, dict):
            trait = clean_text(item.get("trait_type", ""), MAX_TRAIT_TEXT) or "Trait"
            raw = item.get("value")
            if isinstance(raw, (str, int, float)):  # bool is an int
                traits.append((trait, clean_text(str(raw), MAX_TRAIT_TEXT)))
        elif isinstance(item, str):
            traits.append(("Trait", clean_text(item, MAX_TRAIT_TEXT)))
    return tuple(traits)


def clean_text(value: Any, limit: int) -> str:
    """A stranger's text fit to show: a string only, control and direction-override characters
    removed, runs of blank space kept short, at most `limit` characters (an ellipsis marks a cut)."""
    if not isinstance(value, str):
        return ""
    text = _CONTROL.sub("", value).strip()
    text = re.sub(r"[ \t]{3,}", "  ", re.sub(r"\n{3,}", "\n\n", text))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _reason(exc: BaseException) -> str:
    text = exc.message if isinstance(exc, StudioError) else str(exc)
    return clean_text(text, 400)


def _listing(market: Any, collection: str, token_id: int) -> tuple[int | None, str | None]:
    if market is None:
        return None, None
    try:
        listing = market.listing(collection, token_id)
    except NetworkError:
        raise
    except StudioError as exc:
        log.info("No listing read for %s #%s: %s", collection, token_id, exc)
        return None, None
    return (listing.price_wei, listing.seller) if listing is not None else (None, None)


def _with_best_offer(card: TokenCard, library: "Library", market: Any, chain_id: int) -> TokenCard:
    """The card with the highest offer the market's last sync saw: an escrow offer the marketplace still
    holds at that amount (a withdrawn or changed one is skipped), or an active Seaport offer in WETH for
    the token or its collection (the order book's status, as the last sync asked Seaport)."""
    if not card.ok:
        return card
    offers = [o for o in (_best_escrow_offer(card, library, market, chain_id),
                          _best_seaport_offer(card, library, chain_id)) if o is not None]
    if not offers:
        return card
    amount, buyer, currency = max(offers, key=lambda o: o[0])
    return dataclasses.replace(card, best_offer_wei=amount, best_offer_buyer=buyer, best_offer_currency=currency)


def _best_escrow_offer(card: TokenCard, library: "Library", market: Any,
                       chain_id: int) -> tuple[int, str, str | None] | None:
    if market is None or not library.has_table("market_offers"):
        return None
    from studio.library.market import MarketStore

    for offer in MarketStore(library).offers_for(chain_id, card.collection, card.token_id):
        try:
            live = market.offer(card.collection, card.token_id, offer.buyer)
        except NetworkError:
            raise
        except StudioError as exc:
            log.info("No offer read for %s #%s: %s", card.collection, card.token_id, exc)
            return None
        if live is not None and live.amount_wei == offer.amount_wei:
            return offer.amount_wei, offer.buyer, None
    return None


def _best_seaport_offer(card: TokenCard, library: "Library", chain_id: int) -> tuple[int, str, str | None] | None:
    if not library.has_table("seaport_orders"):
        return None
    from studio.library.orders import OrderStore

    collection = card.collection.lower()
    for order in OrderStore(library).orders(chain_id, token_id=card.token_id):  # highest offer first
        if order.kind in ("offer", "collection offer") and (order.collection or "").lower() == collection:
            return order.price_wei, order.offerer, "WETH"
    return None


def _marketplace(connection: "Connection", marketplace: str | None) -> Any:
    if not marketplace:
        return None
    from studio.chain.contracts import MarketplaceContract

    return MarketplaceContract(connection, marketplace)


def _step(progress: ProgressCallback | None, cancel: Cancellable | None, fraction: float, text: str) -> None:
    if cancel is not None and cancel.cancelled:
        raise Cancelled("Stopped opening the collection.")
    if progress is not None:
        progress(fraction, text)


def _short_address(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


# ---------------------------------------------------------------- my collection

def my_collection(*, connection: "Connection", library: "Library", owners: Sequence[str],
                  marketplace: str | None = None, progress: ProgressCallback | None = None,
                  cancel: Cancellable | None = None) -> list[tuple[str, int]]:
    """(collection, token id) of every token the `owners` hold in the collections the studio knows:
    its own (the library's tokens) and the ones opened here (their transfers read up to now).
    Tokens an owner listed on the studio marketplace count as held."""
    from studio.chain.erc721 import ERC721Reader
    from studio.library.collections_cache import CollectionsCache

    chain_id = connection.chain_id
    cache = CollectionsCache(library)
    wanted = {o.lower() for o in owners}
    found: dict[tuple[str, int], tuple[str, int]] = {}
    opened = cache.recent(chain_id, limit=1000)
    for done, collection in enumerate(opened):
        if cancel is not None and cancel.cancelled:
            raise Cancelled("Stopped reading your collection.")
        try:
            sync_transfers(ERC721Reader(connection, collection.address), cache, start_block=collection.start_block,
                           cancel=cancel)
        except NetworkError:
            raise
        except StudioError as exc:
            log.info("The transfers of %s were not read: %s", collection.address, exc)
        if progress is not None:
            progress((done + 1) / max(1, len(opened)), f"Read {collection.name}")
    holders = set(wanted)
    if marketplace:
        holders.add(marketplace.lower())
    held_by = {(h.collection.lower(), h.token_id): h for h in cache.held_by(chain_id, sorted(holders))}
    for key, held in held_by.items():
        found[key] = (held.collection, held.token_id)
    for owner in owners:
        for token in library.tokens(chain_id, owner=owner):
            found.setdefault((token.collection.lower(), token.token_id), (token.collection, token.token_id))
    market = _marketplace(connection, marketplace)
    result = []
    for key, (address, token_id) in sorted(found.items()):
        holder = held_by.get(key)
        if market is not None and holder is not None and holder.owner.lower() == str(marketplace).lower():
            _price, seller = _listing(market, address, token_id)
            if seller is None or seller.lower() not in wanted:
                continue  # listed by someone else
        result.append((address, token_id))
    return result
