"""What the Market tab's tables show: rows for listings (Seaport orders, escrow listings, lazy listings),
held tokens, offers (escrow and Seaport) and the account's own Seaport orders (frozen dataclasses with
their card once the token's metadata was read) and the table models over them. Every row names its
collection; the listings can be searched and sorted.

Every text in these rows comes from the chain or from metadata files written by strangers: cells
are plain text, and tooltips are escaped (:func:`plain_tooltip`) so Qt never renders them as markup.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QImage

from studio.text import printable
from studio.ui.money import format_eth, short_address
from studio.ui import theme

if TYPE_CHECKING:
    from studio.library.market import VoucherRow
    from studio.library.orders import OrderRow
    from studio.workflows.market import TokenDetails

LISTING, LAZY, SEAPORT = "listing", "lazy", "seaport"  # an escrow listing, a mint voucher, a Seaport order
ESCROW = "escrow"
#: How the Listings view can be sorted: key -> label.
SORTS = {"price_low": "Price: low to high", "price_high": "Price: high to low", "newest": "Newest first",
         "ending": "Ending soonest", "name": "Name", "collection": "Collection"}
#: The name main's Market tab gave the same choices.
LISTING_SORTS = SORTS
#: verdict -> colour: a theme colour's name (read when painting, so it follows the theme) or #rgb
BADGE_COLOURS = {"verified": "OK_TEXT", "tampered": "ERROR_TEXT", "invalid-signature": "ERROR_TEXT",
                 "unreadable": "WARNING_TEXT", "no-provenance": "WARNING_TEXT", "unproven": "WARNING_TEXT"}
VERDICT_LABELS = {"verified": "✓ Verified", "tampered": "Tampered", "invalid-signature": "Bad signature",
                  "no-provenance": "No manifest in image", "unreadable": "Unreadable image",
                  "unproven": "Creator not proven"}


# ---- what the views show ---------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """Name, thumbnail and provenance of one token or lazy listing, once its metadata was read."""

    details: "TokenDetails"
    thumbnail: QImage | None = None

    @property
    def badge(self) -> str:
        if not self.details.provenance:
            return "None"
        return VERDICT_LABELS.get(self.details.verdict or "", "Provenance")


@dataclass(frozen=True)
class MarketItem:
    """One thing for sale: a Seaport listing (an order the seller signed), a token on the escrow
    marketplace, or a lazy listing (a signed voucher; buying mints it)."""

    kind: str
    chain_id: int
    collection: str
    token_id: int | None
    seller: str
    price_wei: int
    voucher: "VoucherRow | None" = None
    card: Card | None = None
    order: "OrderRow | None" = None
    collection_name: str = ""
    listed_at: float = 0.0          # when it was listed (the order's start, the listing's block order)
    ends: int | None = None         # when a Seaport listing or a voucher stops being valid
    from_opensea: bool = False      # a Seaport order read from OpenSea's order book (its signature checked)

    @property
    def venue(self) -> str:
        if self.from_opensea:
            return "Seaport · from OpenSea"
        return {SEAPORT: "Seaport", LISTING: "escrow marketplace", LAZY: "lazy (minted on purchase)"}[self.kind]

    @property
    def key(self) -> tuple[str, str, str]:
        return card_key(self.collection, self.token_id, self.voucher.metadata_cid if self.voucher else None)


@dataclass(frozen=True)
class OfferView:
    """An offer as the Market shows it, on either venue: ETH held by the escrow marketplace, or a
    Seaport order offering WETH (for one token, or `token_id` None: any token of the collection)."""

    venue: str                 # ESCROW or SEAPORT
    chain_id: int
    collection: str
    token_id: int | None
    buyer: str
    amount_wei: int
    expiry: int | None = None
    order: "OrderRow | None" = None
    status: str = "active"     # active, expired (escrow: withdraw it), unfillable (Seaport: the reason says why)
    reason: str = ""

    @property
    def currency(self) -> str | None:
        """None: the network's own (escrow ETH); "WETH" for a Seaport offer."""
        return "WETH" if self.venue == SEAPORT else None


@dataclass(frozen=True)
class HeldToken:
    """A token one of the wallet's accounts holds (or lists: on the escrow marketplace, which holds it,
    or as a Seaport order, the token staying in the wallet), with the best offer on it."""

    owner: str
    chain_id: int
    collection: str
    token_id: int
    listed: bool
    price_wei: int | None
    best_offer: OfferView | None = None
    card: Card | None = None
    order: "OrderRow | None" = None   # the holder's Seaport listing of it (active or, with a reason, unfillable)
    collection_name: str = ""

    @property
    def venue(self) -> str | None:
        """Where it is listed: SEAPORT, ESCROW, or None."""
        if self.order is not None:
            return SEAPORT
        return ESCROW if self.listed else None

    @property
    def key(self) -> tuple[str, str, str]:
        return card_key(self.collection, self.token_id)


@dataclass(frozen=True)
class OfferLine:
    """An offer made by one of the wallet's accounts, or one on a token they hold (a collection offer
    shows once per token of the collection they hold: `token_id` is the one accepting it sells)."""

    offer: OfferView
    incoming: bool
    card: Card | None = None
    account: str = ""  # the wallet's account it concerns: the holder (incoming) or the buyer (made)
    token_id: int | None = None
    collection_name: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        token = self.token_id if self.token_id is not None else self.offer.token_id
        return card_key(self.offer.collection, token) if token is not None else (SEAPORT, self.offer.collection.lower(),
                                                                               "any")


@dataclass(frozen=True)
class OrderLine:
    """One of the acting account's Seaport orders (a listing or an offer) and whether it can be filled."""

    order: "OrderRow"
    collection_name: str = ""
    card: Card | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        o = self.order
        return card_key(o.collection or "", o.token_id) if o.token_id is not None else (SEAPORT, (o.collection or
                                                                                                 "").lower(), "any")


def card_key(collection: str, token_id: int | None, metadata_cid: str | None = None) -> tuple[str, str, str]:
    if token_id is None:
        return (LAZY, collection.lower(), metadata_cid or "")
    return (LISTING, collection.lower(), str(token_id))


# ---- table models ------------------------------------------------------------------------


class MarketRowsModel(QAbstractTableModel):
    """Rows of frozen dataclasses; subclasses say what each column shows."""

    COLUMNS: tuple[str, ...] = ()
    RIGHT: frozenset[int] = frozenset()
    BADGE = -1  # the provenance column, coloured by its verdict

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []
        self.currency = "ETH"
        self.names: dict[str, str] = {}  # the wallet's account names by lower-case address
        self.collection_names: dict[str, str] = {}  # collections' names by lower-case address (the last read)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = self._rows[index.row()], index.column()
        # names, artists and descriptions come from strangers' contracts and metadata
        if role == Qt.ItemDataRole.DisplayRole:
            return printable(self.text(row, column))
        if role == Qt.ItemDataRole.ToolTipRole:
            tooltip = self.tooltip(row, column)
            return plain_tooltip(printable(tooltip, multiline=True) if tooltip else None)
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            card = getattr(row, "card", None)
            return card.thumbnail if card is not None else None
        if role == Qt.ItemDataRole.ForegroundRole and column == self.BADGE:
            card = getattr(row, "card", None)
            colour = BADGE_COLOURS.get(card.details.verdict or "") if card is not None else None
            return QColor(getattr(theme, colour, colour)) if colour else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.RIGHT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def text(self, row: Any, column: int) -> str:
        raise NotImplementedError

    def tooltip(self, row: Any, column: int) -> str | None:
        return None

    def who(self, address: str | None) -> str:
        """An address as people read it: the wallet's name for its own accounts, else shortened."""
        if not address:
            return "—"
        name = self.names.get(address.lower())
        return f"{name} ({short_address(address)})" if name else short_address(address)

    def collection_name(self, address: str, known: str = "") -> str:
        """A collection as people read it: its name (`known`, else the last read's), else its address
        shortened."""
        return collection_text(known or self.collection_names.get(address.lower(), ""), address)

    def rows(self) -> list[Any]:
        return list(self._rows)

    def row(self, index: int) -> Any:
        return self._rows[index]

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def set_card(self, key: tuple[str, str, str], card: Card) -> None:
        """Fill in the card of every row showing `key` (the details job streams them one by one)."""
        for number, row in enumerate(self._rows):
            if row.key == key:
                self._rows[number] = replace(row, card=card)
                self.dataChanged.emit(self.index(number, 0), self.index(number, self.columnCount() - 1))


def card_name(card: Card | None, fallback: str) -> str:
    """The name the metadata gives, or `fallback` while it is not read (or has none)."""
    return card.details.name if card is not None else fallback


class ListingsModel(MarketRowsModel):
    """What is for sale: image, name, collection, artist, price, royalty, provenance, until when; the tab
    adds Buy buttons. `search` and `sort` narrow and order the rows (the tab's search box and sort
    choice); `all_rows` keeps every row of the last read."""

    COLUMNS = ("", "Name", "Collection", "Artist", "Price", "Royalty", "Provenance", "Until", "")
    RIGHT = frozenset({4, 5})
    BADGE = 6

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.all_rows: list[MarketItem] = []
        self.query = ""
        self.sort_key = "price_low"

    def set_rows(self, rows: list[Any]) -> None:
        self.all_rows = list(rows)
        super().set_rows(self._shown(self.all_rows))

    def set_query(self, text: str) -> None:
        """Show the rows whose name, collection, artist, seller, token number ("#7") or address contain `text`
        (case and runs of spaces ignored)."""
        query = " ".join(text.lower().split())
        if query != self.query:
            self.query = query
            super().set_rows(self._shown(self.all_rows))

    def set_view(self, search: str | None = None, sort: str | None = None) -> None:
        """Search and sort at once (either may be left as it is)."""
        if sort is not None:
            self.set_sort(sort)
        if search is not None:
            self.set_query(search)

    def listing_count(self) -> int:
        """Every listing the last read found, shown or not."""
        return len(self.all_rows)

    def set_sort(self, key: str) -> None:
        if key not in SORTS:
            from studio.errors import InputError

            raise InputError(f"{key!r} is not a way to sort listings; use one of {', '.join(SORTS)}.")
        if key != self.sort_key:
            self.sort_key = key
            super().set_rows(self._shown(self.all_rows))

    def set_card(self, key: tuple[str, str, str], card: Card) -> None:
        self.all_rows = [replace(r, card=card) if r.key == key else r for r in self.all_rows]
        super().set_card(key, card)

    def _shown(self, rows: list[MarketItem]) -> list[MarketItem]:
        if self.query:
            rows = [r for r in rows if self.query in self._haystack(r)]
        name = lambda r: card_name(r.card, f"Token {r.token_id}").lower()  # noqa: E731
        order = {"price_low": lambda r: (r.price_wei, name(r)), "price_high": lambda r: (-r.price_wei, name(r)),
                 "collection": lambda r: (self.collection_name(r.collection, r.collection_name).lower(), r.price_wei),
                 "newest": lambda r: (-r.listed_at, r.price_wei), "name": lambda r: (name(r), r.price_wei),
                 "ending": lambda r: (r.ends if r.ends is not None else 2**63, r.price_wei)}[self.sort_key]
        return sorted(rows, key=order)

    def _haystack(self, row: MarketItem) -> str:
        """What a search phrase is looked for in: the name, the collection's name, the seller's and artist's
        names, "#7" for token 7, the venue; addresses only when the phrase starts with 0x."""
        card = row.card
        artist = card.details.artist if card is not None else None
        parts = [card_name(card, ""), row.collection_name, self.who(row.seller), self.who(artist) if artist else "",
                 f"#{row.token_id}" if row.token_id is not None else "lazy unminted", row.venue]
        if self.query.startswith("0x"):
            parts += [row.collection, row.seller, artist or ""]
        return "\n".join(" ".join(printable(p).split()) for p in parts).lower()

    def text(self, row: MarketItem, column: int) -> str:
        card = row.card
        if column == 1:
            name = card_name(card, f"Token {row.token_id}" if row.token_id is not None else "Unminted work")
            return name + ("  (lazy: minted on purchase)" if row.kind == LAZY else "")
        if column == 2:
            return collection_text(row.collection_name, row.collection)
        if column == 3:
            return self.who(card.details.artist if card else row.seller)
        if column == 4:
            return format_eth(row.price_wei, self.currency)
        if column == 5:
            bps = card.details.royalty_bps if card else None
            return "—" if bps is None else f"{bps / 100:g}%"
        if column == 6:
            return card.badge if card else "…"
        if column == 7:
            return until_text(row.ends)
        return ""

    def tooltip(self, row: MarketItem, column: int) -> str | None:
        lines = [f"Collection {row.collection_name} {row.collection}".replace("  ", " "),
                 f"Token {row.token_id}" if row.token_id is not None else "Not minted yet: the purchase mints it",
                 f"Seller {row.seller}", f"Sold through {row.venue}"]
        if row.ends is not None:
            lines.append(f"Valid until {until_text(row.ends, full=True)}")
        card = row.card
        if card is not None:
            if card.details.artist:
                lines.append(f"Artist {card.details.artist}")
            if card.details.description:
                lines.append(card.details.description[:300])
            if card.details.problem:
                lines.append(card.details.problem)
        return "\n".join(lines)


class HeldTokensModel(MarketRowsModel):
    """"My collection": the wallet's tokens, listed or not (and where, until when, or why a listing can
    no longer be filled), with the best offer on each."""

    COLUMNS = ("", "Name", "Collection", "Owner", "Listed at", "Best offer", "Provenance")
    RIGHT = frozenset({4, 5})
    BADGE = 6

    def text(self, row: HeldToken, column: int) -> str:
        if column == 1:
            return card_name(row.card, f"Token {row.token_id}")
        if column == 2:
            return f"#{row.token_id} · {collection_text(row.collection_name, row.collection)}"
        if column == 3:
            return self.who(row.owner)
        if column == 4:
            if row.order is not None:
                if row.order.status != "active":
                    return f"{format_eth(row.order.price_wei, self.currency)} · not fillable"
                return f"{format_eth(row.order.price_wei, self.currency)} · Seaport until {until_text(row.order.end_time)}"
            return f"{format_eth(row.price_wei, self.currency)} · escrow" if row.listed else "not listed"
        if column == 5:
            return offer_amount(row.best_offer, self.currency) if row.best_offer else "—"
        if column == 6:
            return row.card.badge if row.card else "…"
        return ""

    def tooltip(self, row: HeldToken, column: int) -> str | None:
        lines = [f"Collection {row.collection_name} {row.collection}".replace("  ", " "), f"Token {row.token_id}",
                 f"Owner {row.owner}"]
        if row.order is not None:
            lines.append(f"Seaport listing, valid until {until_text(row.order.end_time, full=True)}")
            if row.order.status != "active":
                lines.append(f"Not fillable: {row.order.status_reason or row.order.status}")
        if row.best_offer is not None:
            lines.append(f"Best offer from {row.best_offer.buyer} ({row.best_offer.venue})")
        return "\n".join(lines)


class OffersModel(MarketRowsModel):
    """Offers: on the wallet's tokens (incoming) or made by its accounts, in ETH (escrow) or WETH (Seaport)."""

    COLUMNS = ("", "Token", "Collection", "From", "Amount", "Until", "Status")
    RIGHT = frozenset({4})

    def text(self, row: OfferLine, column: int) -> str:
        offer = row.offer
        token = row.token_id if row.token_id is not None else offer.token_id
        if column == 1:
            if token is None:
                return "Any token (collection offer)"
            return card_name(row.card, f"Token {token}") + f"  #{token}" + (
                "  (collection offer)" if offer.token_id is None else "")
        if column == 2:
            return collection_text(row.collection_name, offer.collection)
        if column == 3:
            return self.who(offer.buyer)
        if column == 4:
            return offer_amount(offer, self.currency)
        if column == 5:
            return until_text(offer.expiry)
        if column == 6:
            return {"active": "open", "expired": "expired: withdraw it"}.get(offer.status, offer.status) + (
                f" ({offer.reason})" if offer.reason and offer.status != "active" else "")
        return ""

    def tooltip(self, row: OfferLine, column: int) -> str | None:
        offer = row.offer
        lines = [f"Collection {row.collection_name} {offer.collection}".replace("  ", " "),
                 f"Token {offer.token_id}" if offer.token_id is not None else "Any token of the collection",
                 f"From {offer.buyer}",
                 "Seaport offer in WETH (the buyer's WETH stays theirs until accepted)" if offer.venue == SEAPORT
                 else "Escrow offer (the ETH waits in the marketplace)"]
        if offer.order is not None:
            lines.append(f"Order {offer.order.order_hash}")
        return "\n".join(lines)


class OrdersModel(MarketRowsModel):
    """The acting account's Seaport orders: what each lists or offers, until when, and whether it can
    still be filled (a moved token, a revoked approval or WETH run short say so)."""

    COLUMNS = ("", "Order", "Collection", "Price", "Until", "Status")
    RIGHT = frozenset({3})

    def text(self, row: OrderLine, column: int) -> str:
        o = row.order
        if column == 1:
            what = f"token #{o.token_id}" if o.token_id is not None else "any token"
            name = card_name(row.card, "") if o.token_id is not None else ""
            return {"listing": "Listing", "offer": "Offer for", "collection offer": "Offer for"}.get(
                o.kind, o.kind.capitalize()) + f" {what}" + (f" · {name}" if name else "")
        if column == 2:
            return collection_text(row.collection_name, o.collection or "")
        if column == 3:
            return format_eth(o.price_wei, self.currency if o.kind == "listing" else "WETH")
        if column == 4:
            return until_text(o.end_time)
        if column == 5:
            return "fillable" if o.status == "active" else f"{o.status}: {o.status_reason}" if o.status_reason \
                else o.status
        return ""

    def tooltip(self, row: OrderLine, column: int) -> str | None:
        o = row.order
        return f"Order {o.order_hash}\nSeaport {o.seaport}\nCounter {o.counter}\n" + (
            f"Not fillable: {o.status_reason}" if o.status != "active" and o.status_reason else "")


def collection_text(name: str, address: str) -> str:
    """A collection as people know it: its name, else its address shortened (the whole address is in
    the row's tooltip)."""
    return name if name else short_address(address)


def offer_amount(offer: OfferView, currency: str = "ETH") -> str:
    return format_eth(offer.amount_wei, offer.currency or currency)


def until_text(timestamp: int | None, *, full: bool = False) -> str:
    """An end time for a cell ("2027-01-31 18:00") or a tooltip (with "UTC"); "—" when none."""
    import time

    if timestamp is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M" + (" UTC" if full else ""), time.gmtime(int(timestamp)))


def plain_tooltip(text: str | None) -> str | None:
    """Qt guesses whether a tooltip is markup; escaped inside <qt> it always shows as the plain text it is."""
    if not text:
        return None
    return "<qt>" + html.escape(text).replace("\n", "<br>") + "</qt>"
