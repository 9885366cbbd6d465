"""What the Market tab's tables show: rows for listings, held tokens and offers (frozen dataclasses
with their card once the token's metadata was read) and the table models over them.

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
    from studio.library.market import OfferRow, VoucherRow
    from studio.workflows.market import TokenDetails

LISTING, LAZY = "listing", "lazy"
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
    """One thing for sale: a listed token, or a lazy listing (a signed voucher; buying mints it)."""

    kind: str
    chain_id: int
    collection: str
    token_id: int | None
    seller: str
    price_wei: int
    voucher: "VoucherRow | None" = None
    card: Card | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return card_key(self.collection, self.token_id, self.voucher.metadata_cid if self.voucher else None)


@dataclass(frozen=True)
class HeldToken:
    """A token one of the wallet's accounts holds (or lists), with the best offer on it."""

    owner: str
    chain_id: int
    collection: str
    token_id: int
    listed: bool
    price_wei: int | None
    best_offer: "OfferRow | None" = None
    card: Card | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return card_key(self.collection, self.token_id)


@dataclass(frozen=True)
class OfferLine:
    """An offer made by one of the wallet's accounts, or one on a token they hold."""

    offer: "OfferRow"
    incoming: bool
    card: Card | None = None
    account: str = ""  # the wallet's account it concerns: the holder (incoming) or the buyer (made)

    @property
    def key(self) -> tuple[str, str, str]:
        return card_key(self.offer.collection, self.offer.token_id)


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
        self.collection_names: dict[str, str] = {}  # collections' names by lower-case address

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

    def collection_name(self, address: str) -> str:
        """A collection as people read it: its name (the library's or its contract's), else its address
        shortened."""
        name = self.collection_names.get(address.lower())
        return name if name else short_address(address)

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


#: How the Market's listings can be sorted: key -> the words the sort box shows.
LISTING_SORTS = {"price_low": "Price: low to high", "price_high": "Price: high to low", "name": "Name",
                 "collection": "Collection"}


class ListingsModel(MarketRowsModel):
    """What is for sale: image, name, collection, artist, price, royalty, provenance; the tab adds Buy
    buttons. Searching (name, collection, artist, seller, token id) and sorting pick the rows shown
    from every listing the last sync read."""

    COLUMNS = ("", "Name", "Collection", "Artist", "Price", "Royalty", "Provenance", "")
    RIGHT = frozenset({4, 5})
    BADGE = 6

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._all: list[MarketItem] = []
        self.search_text = ""
        self.sort_key = "price_low"

    def set_rows(self, rows: list[Any]) -> None:
        self._all = list(rows)
        super().set_rows(self._shown())

    def set_view(self, search: str | None = None, sort: str | None = None) -> None:
        """Show the listings whose name, collection, artist, seller or token id holds ``search`` (case
        and runs of spaces ignored), sorted by ``sort`` (a key of LISTING_SORTS)."""
        if sort is not None and sort not in LISTING_SORTS:
            from studio.errors import InputError

            raise InputError(f"{sort!r} is not a way to sort listings; use one of {', '.join(LISTING_SORTS)}.")
        self.search_text = self.search_text if search is None else search
        self.sort_key = self.sort_key if sort is None else sort
        super().set_rows(self._shown())

    def listing_count(self) -> int:
        """Every listing the last sync read, shown or not."""
        return len(self._all)

    def set_card(self, key: tuple[str, str, str], card: Card) -> None:
        self._all = [replace(row, card=card) if row.key == key else row for row in self._all]
        super().set_card(key, card)

    def _haystack(self, row: MarketItem) -> str:
        card = row.card
        parts = [card_name(card, ""), self.collection_name(row.collection), row.collection, row.seller,
                 str(row.token_id) if row.token_id is not None else "", f"#{row.token_id}" if row.token_id else ""]
        if card is not None:
            parts += [card.details.artist or "", card.details.description[:300]]
        return " ".join(parts).lower()

    def _shown(self) -> list[MarketItem]:
        query = " ".join(self.search_text.lower().split())
        rows = [r for r in self._all if query in self._haystack(r)]
        if self.sort_key == "price_high":
            rows.sort(key=lambda r: -r.price_wei)
        elif self.sort_key == "name":
            rows.sort(key=lambda r: (card_name(r.card, "\uffff").lower(), r.price_wei))
        elif self.sort_key == "collection":
            rows.sort(key=lambda r: (self.collection_name(r.collection).lower(), r.price_wei))
        else:
            rows.sort(key=lambda r: r.price_wei)
        return rows

    def text(self, row: MarketItem, column: int) -> str:
        card = row.card
        if column == 1:
            return card_name(card, f"Token {row.token_id}" if row.token_id is not None else "Unminted work") + (
                "  (lazy: minted on purchase)" if row.kind == LAZY else "")
        if column == 2:
            return self.collection_name(row.collection)
        if column == 3:
            return self.who(card.details.artist if card else row.seller)
        if column == 4:
            return format_eth(row.price_wei, self.currency)
        if column == 5:
            bps = card.details.royalty_bps if card else None
            return "—" if bps is None else f"{bps / 100:g}%"
        if column == 6:
            return card.badge if card else "…"
        return ""

    def tooltip(self, row: MarketItem, column: int) -> str | None:
        lines = [f"Collection {row.collection}",
                 f"Token {row.token_id}" if row.token_id is not None else "Not minted yet: the purchase mints it",
                 f"Seller {row.seller}"]
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
    """"My collection": the wallet's tokens, listed or not, with the best offer on each."""

    COLUMNS = ("", "Name", "Token", "Owner", "Listed at", "Best offer", "Provenance")
    RIGHT = frozenset({4, 5})
    BADGE = 6

    def text(self, row: HeldToken, column: int) -> str:
        if column == 1:
            return card_name(row.card, f"Token {row.token_id}")
        if column == 2:
            return f"#{row.token_id} · {self.collection_name(row.collection)}"
        if column == 3:
            return self.who(row.owner)
        if column == 4:
            return format_eth(row.price_wei, self.currency) if row.listed else "not listed"
        if column == 5:
            return format_eth(row.best_offer.amount_wei, self.currency) if row.best_offer else "—"
        if column == 6:
            return row.card.badge if row.card else "…"
        return ""

    def tooltip(self, row: HeldToken, column: int) -> str | None:
        lines = [f"Collection {row.collection}", f"Token {row.token_id}", f"Owner {row.owner}"]
        if row.best_offer is not None:
            lines.append(f"Best offer from {row.best_offer.buyer}")
        return "\n".join(lines)


class OffersModel(MarketRowsModel):
    """Offers: on the wallet's tokens (incoming) or made by its accounts."""

    COLUMNS = ("", "Token", "Collection", "From", "Amount")
    RIGHT = frozenset({4})

    def text(self, row: OfferLine, column: int) -> str:
        offer = row.offer
        if column == 1:
            return card_name(row.card, f"Token {offer.token_id}") + f"  #{offer.token_id}"
        if column == 2:
            return self.collection_name(offer.collection)
        if column == 3:
            return self.who(offer.buyer)
        if column == 4:
            return format_eth(offer.amount_wei, self.currency)
        return ""

    def tooltip(self, row: OfferLine, column: int) -> str | None:
        offer = row.offer
        return f"Collection {offer.collection}\nToken {offer.token_id}\nFrom {offer.buyer}"


def plain_tooltip(text: str | None) -> str | None:
    """Qt guesses whether a tooltip is markup; escaped inside <qt> it always shows as the plain text it is."""
    if not text:
        return None
    return "<qt>" + html.escape(text).replace("\n", "<br>") + "</qt>"
