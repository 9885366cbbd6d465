"""The Collections tab: open any ERC-721 collection by address (or pick a recent one, or "My
collection"), read its page (banner, description, creator, royalty, items, owners, floor, volume,
listed count) and filter its tokens by traits with counts, browse a virtualized grid of its tokens,
and read one token in the detail pane with Buy and Make offer, its activity (mint, transfers,
listings, sales, offers) and its provenance. All bindings to :class:`CollectorState` are in
:meth:`CollectorTab.bind`.

Everything shown comes from strangers' contracts and metadata: every label is plain text, tooltips
are escaped, images are the studio's own re-encoded previews, and a broken token is an error cell
whose text says why.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QFrame, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QListView, QPushButton, QScrollArea, QSplitter, QStyle,
                               QStyledItemDelegate, QStyleOptionViewItem, QTableWidget, QTableWidgetItem, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from studio.errors import StudioError
from studio.text import printable
from studio.ui import theme
from studio.ui.money import format_eth
from studio.ui.state.collector import THUMBNAIL, CollectorState, TokenGridModel
from studio.ui.workers import error_message

PREVIEW = 280
CELL = QSize(THUMBNAIL + 24, THUMBNAIL + 70)
BANNER_HEIGHT = 96
EVENT_WORDS = {"mint": "Minted", "transfer": "Transferred", "burn": "Burnt", "listed": "Listed",
               "price_changed": "Price changed", "listing_cancelled": "Listing cancelled", "sold": "Sold",
               "offer_made": "Offer", "offer_withdrawn": "Offer withdrawn", "offer_accepted": "Offer accepted",
               "voucher_redeemed": "Lazy mint bought", "voucher_cancelled": "Voucher cancelled"}


def event_rows(events: list[Any], currency: str = "ETH") -> list[tuple[str, str, str, str, str]]:
    """A token's activity as (event, price, from, to, when) texts, newest first."""
    import time as _time

    from studio.ui.money import short_address

    rows = []
    for event in reversed(events):
        what = EVENT_WORDS.get(event.kind, event.kind)
        if event.source == "Seaport":
            what += f" on Seaport ({event.status})"
        price = format_eth(event.price_wei, currency) if event.price_wei is not None else ""
        when = _time.strftime("%Y-%m-%d %H:%M", _time.localtime(event.when)) if event.when else ""
        rows.append((what, price, short_address(event.seller) if event.kind != "mint" else "—",
                     short_address(event.buyer), when))
    return rows


def _short_words(text: str, longest: int = 44) -> str:
    """``text`` with each unbreakable run longer than ``longest`` (a CID, a path) shortened in its
    middle, so a narrow pane wraps it instead of scrolling sideways."""
    import re

    return re.sub(rf"\S{{{longest + 1},}}", lambda m: f"{m.group()[:longest // 2]}…{m.group()[-(longest // 2 - 1):]}",
                  text)


class CollectionHeader(QFrame):
    """The collection page's top: banner, name, description, creator and royalty, and its numbers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.banner = QLabel()
        self.banner.setFixedHeight(BANNER_HEIGHT)
        self.banner.setMinimumWidth(220)
        self.banner.setMaximumWidth(300)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.description = _plain(muted=True)
        self.description.setMaximumHeight(44)
        self.by = _plain()
        self.stats: dict[str, QLabel] = {}
        numbers = QHBoxLayout()
        numbers.setSpacing(22)
        for key in ("Items", "Owners", "Floor", "Volume", "Listed"):
            value = QLabel("—")
            value.setStyleSheet("font-size: 15px; font-weight: 600;")
            caption = QLabel(key.upper())
            caption.setObjectName("sectionTitle")
            cell = QVBoxLayout()
            cell.setSpacing(0)
            cell.addWidget(value)
            cell.addWidget(caption)
            numbers.addLayout(cell)
            self.stats[key] = value
        numbers.addStretch(1)
        text = QVBoxLayout()
        text.addWidget(self.by)
        text.addWidget(self.description)
        text.addLayout(numbers)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 8, 10, 8)
        row.addWidget(self.banner)
        row.addLayout(text, 1)

    def show_page(self, page: Any, currency: str) -> None:
        self.setVisible(page is not None)
        if page is None:
            return
        from studio.ui.money import short_address

        if page.banner:
            image = QImage()
            image.loadFromData(page.banner, "PNG")
            pixmap = QPixmap.fromImage(image).scaled(300, BANNER_HEIGHT, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                                                     Qt.TransformationMode.SmoothTransformation)
            self.banner.setPixmap(pixmap.copy(0, 0, min(300, pixmap.width()), BANNER_HEIGHT))
        else:
            self.banner.clear()
            self.banner.setText("No banner")
        royalty = "royalty not declared" if page.royalty_bps is None else f"{page.royalty_bps / 100:g}% royalty"
        creator = f"by {short_address(page.creator)}" if page.creator else "creator unknown"
        self.by.setText(printable(f"{creator} · {royalty}" + (" · made in this studio" if page.studio_made else "")))
        self.by.setToolTip(printable(f"Creator {page.creator or 'unknown'}\nRoyalty to {page.royalty_receiver or '—'}"))
        self.description.setText(printable(page.description or "No description.", multiline=True))
        stats = page.stats
        self.stats["Items"].setText(f"{page.items:,}")
        self.stats["Owners"].setText(f"{page.owners:,}")
        self.stats["Floor"].setText(format_eth(stats.floor_wei, currency) if stats.floor_wei is not None else "—")
        self.stats["Volume"].setText(format_eth(stats.volume_wei, currency))
        self.stats["Listed"].setText(f"{stats.listed:,}")
        self.stats["Volume"].setToolTip(f"{stats.sales} sales")


class TraitFilter(QTreeWidget):
    """Each trait with its values and how many tokens have them; checking values filters the grid."""

    #: (trait, value, checked)
    toggled = Signal(str, str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["Traits"])
        self.setColumnCount(1)
        self.setMinimumWidth(200)
        self.itemChanged.connect(self._changed)

    def show_traits(self, page: Any) -> None:
        self.blockSignals(True)
        self.clear()
        traits = page.traits if page is not None else ()
        groups: dict[str, QTreeWidgetItem] = {}
        for count in traits:
            group = groups.get(count.trait)
            if group is None:
                group = groups[count.trait] = QTreeWidgetItem(self, [printable(count.trait)])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item = QTreeWidgetItem(group, [f"{printable(count.value)}  ({count.count})"])
            item.setToolTip(0, f"{printable(count.trait)}: {printable(count.value)}, {count.count} tokens")
            item.setData(0, Qt.ItemDataRole.UserRole, (count.trait, count.value))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Unchecked)
        self.expandAll()
        if page is not None:
            self.headerItem().setToolTip(0, f"Counted over the {page.traits_read} tokens whose metadata was read")
        self.blockSignals(False)
        self.setVisible(bool(traits))

    def item_for(self, trait: str, value: str) -> QTreeWidgetItem | None:
        for index in range(self.topLevelItemCount()):
            group = self.topLevelItem(index)
            for child in range(group.childCount() if group is not None else 0):
                item = group.child(child) if group is not None else None
                if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == (trait, value):
                    return item
        return None

    def _changed(self, item: QTreeWidgetItem, column: int) -> None:
        key = item.data(0, Qt.ItemDataRole.UserRole)
        if column == 0 and key:
            self.toggled.emit(key[0], key[1], item.checkState(0) == Qt.CheckState.Checked)


def _plain(text: str = "", *, muted: bool = False) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if muted:
        label.setProperty("muted", True)
    return label


class TokenCellDelegate(QStyledItemDelegate):
    """A grid cell: the thumbnail in a square, the caption under it (drawn as plain text); an error
    cell is tinted and shows its reason instead."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return CELL

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        painter.save()
        rect = option.rect.adjusted(4, 4, -4, -4)
        error = index.data(TokenGridModel.ErrorRole)
        if error:
            painter.fillRect(rect, QColor(theme.ERROR_BG))
        elif option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, option.palette.highlight())
        else:
            painter.fillRect(rect, QColor(theme.RAISED))
        square = QRect(rect.left() + (rect.width() - THUMBNAIL) // 2, rect.top() + 4, THUMBNAIL, THUMBNAIL)
        image = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(image, QImage) and not image.isNull():
            scaled = image.size().scaled(square.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(square.center())
            painter.drawImage(target, image)
        else:
            painter.setPen(QColor(theme.MUTED))
            painter.drawRect(square.adjusted(0, 0, -1, -1))
            card = index.data(TokenGridModel.CardRole)
            note = getattr(card, "image_note", None) or ("" if card is None else "No image")
            painter.drawText(square.adjusted(8, 8, -8, -8), int(Qt.AlignmentFlag.AlignCenter)
                             | int(Qt.TextFlag.TextWordWrap), printable(note[:120]))
        text_rect = QRect(rect.left() + 4, square.bottom() + 4, rect.width() - 8, rect.bottom() - square.bottom() - 6)
        if error:
            text_rect = QRect(rect.left() + 6, rect.top() + 6, rect.width() - 12, rect.height() - 12)
            painter.fillRect(square, QColor(theme.ERROR_BG))
        painter.setPen(QColor(theme.ERROR_TEXT) if error else option.palette.text().color())
        text = printable(index.data(Qt.ItemDataRole.DisplayRole) or "", multiline=True)
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
                         | int(Qt.TextFlag.TextWordWrap), text)
        if error and option.state & QStyle.StateFlag.State_Selected:
            painter.setPen(option.palette.highlight().color())
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
        painter.restore()


class TokenDetailPane(QWidget):
    """The selected token: image, name, description, traits, owner, royalty, price, Buy and Make offer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumHeight(PREVIEW)
        self.image_note = _plain(muted=True)
        self.name = _plain()
        self.name.setStyleSheet("font-size: 16px; font-weight: 600;")
        self.problem = _plain()
        self.problem.setObjectName("collectorProblem")
        self.problem.setStyleSheet(f"color: {theme.ERROR_TEXT};")
        self.description = _plain()
        self.traits = QTableWidget(0, 2)
        self.traits.setHorizontalHeaderLabels(["Trait", "Value"])
        self.traits.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.traits.verticalHeader().setVisible(False)
        self.traits.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.traits.setMaximumHeight(160)
        self.facts = QFormLayout()
        self.owner, self.royalty, self.price, self.token = _plain(), _plain(), _plain(), _plain(muted=True)
        self.best_offer = _plain()
        self.facts.addRow("Price", self.price)
        self.facts.addRow("Best offer", self.best_offer)
        self.facts.addRow("Owner", self.owner)
        self.facts.addRow("Royalty", self.royalty)
        self.facts.addRow("Token", self.token)
        self.buy_button = QPushButton("Buy")
        self.buy_reason = _plain(muted=True)
        self.offer_amount = QLineEdit()
        self.offer_amount.setPlaceholderText("Offer in ETH, e.g. 0.05")
        self.offer_button = QPushButton("Make offer")
        offer_row = QHBoxLayout()
        offer_row.addWidget(self.offer_amount, 1)
        offer_row.addWidget(self.offer_button)
        self.notice = _plain()
        self.notice.setObjectName("collectorNotice")
        self.notice.setVisible(False)
        self.activity_title = QLabel("ACTIVITY")
        self.activity_title.setObjectName("sectionTitle")
        self.activity = QTableWidget(0, 5)
        self.activity.setHorizontalHeaderLabels(["Event", "Price", "From", "To", "When"])
        self.activity.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.activity.horizontalHeader().setStretchLastSection(True)
        self.activity.verticalHeader().setVisible(False)
        self.activity.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.activity.setMinimumHeight(120)
        self.provenance_title = QLabel("PROVENANCE")
        self.provenance_title.setObjectName("sectionTitle")
        self.provenance = QFormLayout()
        self.provenance_labels: dict[str, QLabel] = {}
        inner = QWidget()
        layout = QVBoxLayout(inner)
        # what can be done comes first, under the picture: at 1360x860 it is never below the fold
        for label in (self.image, self.image_note, self.name, self.problem):
            layout.addWidget(label)
        layout.addLayout(self.facts)
        layout.addWidget(self.buy_button)
        layout.addWidget(self.buy_reason)
        layout.addLayout(offer_row)
        layout.addWidget(self.notice)
        layout.addWidget(self.description)
        layout.addWidget(self.traits)
        layout.addWidget(self.activity_title)
        layout.addWidget(self.activity)
        layout.addWidget(self.provenance_title)
        layout.addLayout(self.provenance)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        self.scroll_area = scroll
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.show_card(None, "ETH")

    def show_card(self, card: Any, currency: str) -> None:
        self.setEnabled(card is not None)
        if card is None:
            self.name.setText("Choose a token to see it here.")
            for label in (self.problem, self.description, self.image_note, self.owner, self.royalty, self.price,
                          self.best_offer, self.token, self.buy_reason):
                label.setText("")
            self.problem.setVisible(False)
            self.traits.setRowCount(0)
            self.traits.setVisible(False)
            self.image.clear()
            return
        # everything on a card comes from the collection's contract and metadata: strangers' text
        self.name.setText(printable(card.name))
        self.problem.setText(printable(card.problem or ""))
        self.problem.setVisible(bool(card.problem))
        self.description.setText(printable(card.description, multiline=True))
        self.image_note.setText(printable(card.image_note or ""))
        self.traits.setRowCount(len(card.traits))
        for row, (trait, value) in enumerate(card.traits):
            self.traits.setItem(row, 0, QTableWidgetItem(printable(trait)))
            self.traits.setItem(row, 1, QTableWidgetItem(printable(value)))
        self.traits.setVisible(bool(card.traits))
        self.owner.setText(printable(card.owner or "unknown"))
        if card.royalty_bps is None:
            self.royalty.setText("not declared (no ERC-2981 answer)")
        else:
            who = f" to {card.royalty_receiver}" if card.royalty_receiver else ""
            self.royalty.setText(printable(f"{card.royalty_bps / 100:g}%{who}"))
        self.price.setText("not listed on the studio marketplace" if card.listing_price_wei is None
                           else format_eth(card.listing_price_wei, currency))
        self.best_offer.setText("none yet" if card.best_offer_wei is None else
                                f"{format_eth(card.best_offer_wei, card.best_offer_currency or currency)} from "
                                f"{card.best_offer_buyer}")
        self.token.setText(printable(f"#{card.token_id} of {card.collection}"))

    def show_activity(self, events: list[Any], currency: str) -> None:
        rows = event_rows(events, currency)
        self.activity.setRowCount(len(rows))
        for row, texts in enumerate(rows):
            for column, text in enumerate(texts):
                self.activity.setItem(row, column, QTableWidgetItem(printable(text)))
        self.activity_title.setText(f"ACTIVITY ({len(rows)})" if rows else "ACTIVITY")

    def show_provenance(self, report: Any) -> None:
        while self.provenance.rowCount():
            self.provenance.removeRow(0)
        self.provenance_labels = {}
        for label, text in (report.lines if report is not None else ()):
            value = _plain(printable(_short_words(text), multiline=True))
            value.setWordWrap(True)
            if value.text() != printable(text, multiline=True):
                value.setToolTip(printable(text, multiline=True))  # the whole CID or path, on hover
            if label == "Verdict":
                colour = theme.OK_TEXT if text == "verified" else theme.ERROR_TEXT
                value.setStyleSheet(f"color: {colour}; font-weight: 600;")
            self.provenance.addRow(label, value)
            self.provenance_labels.setdefault(label, value)

    def show_image(self, image: QImage) -> None:
        if image.isNull():
            self.image.clear()
            self.image.setText("No image")
            return
        pixmap = QPixmap.fromImage(image).scaled(PREVIEW, PREVIEW, Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation)
        self.image.setPixmap(pixmap)


class CollectorTab(QWidget):
    """Widgets over a CollectorState."""

    #: An action could not start (the message is shown in the error line too).
    action_refused = Signal(str)

    def __init__(self, state: CollectorState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.address = QLineEdit()
        self.address.setPlaceholderText("Collection address (0x…) on the current network")
        self.open_button = QPushButton("Open collection")
        self.mine_button = QPushButton("My collection")
        self.recent = QComboBox()
        self.recent.setMinimumWidth(220)
        self.recent.setToolTip("Collections opened before on this network")
        top = QHBoxLayout()
        top.addWidget(self.address, 1)
        top.addWidget(self.open_button)
        top.addWidget(self.recent)
        top.addWidget(self.mine_button)
        self.title = _plain(state.title)
        self.title.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.status = _plain(state.status, muted=True)
        self.error = _plain()
        self.error.setObjectName("collectorError")
        self.error.setStyleSheet(f"color: {theme.ERROR_TEXT};")
        self.error.setVisible(False)
        self.grid = QListView()
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setWordWrap(True)
        self.grid.setGridSize(CELL)
        self.delegate = TokenCellDelegate(self.grid)
        self.grid.setItemDelegate(self.delegate)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setModel(state.model)
        self.detail = TokenDetailPane()
        self.header = CollectionHeader()
        self.header.setVisible(False)
        self.trait_filter = TraitFilter()
        self.trait_filter.setVisible(False)
        self._acting = False  # an action started here runs: its outcome is shown under the offer field
        splitter = QSplitter()
        splitter.addWidget(self.trait_filter)
        splitter.addWidget(self.grid)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 4)
        splitter.setStretchFactor(2, 3)
        splitter.setSizes([180, 580, 580])  # the detail pane shows full addresses
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.title)
        layout.addWidget(self.header)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(splitter, 1)
        self.bind()
        state.load_recent()

    def bind(self) -> None:
        s = self.state
        self.open_button.clicked.connect(self.open_typed)
        self.address.returnPressed.connect(self.open_typed)
        self.mine_button.clicked.connect(lambda: self._try(s.show_my_collection))
        self.recent.activated.connect(self._open_recent)
        self.grid.selectionModel().currentChanged.connect(self._on_current)
        self.detail.buy_button.clicked.connect(self.buy)
        self.detail.offer_button.clicked.connect(self.make_offer)
        s.title_changed.connect(lambda text: self.title.setText(printable(text)))  # the contract's name
        s.status_changed.connect(lambda text: self.status.setText(printable(text)))
        s.error_changed.connect(self._show_error)
        s.detail_changed.connect(self._on_detail)
        s.detail_image_changed.connect(self.detail.show_image)
        s.recent_changed.connect(self._fill_recent)
        currency = lambda: s.wallet_state.network.currency  # noqa: E731 - read when shown
        s.collection_page_changed.connect(lambda page: self.header.show_page(page, currency()))
        s.collection_page_changed.connect(self.trait_filter.show_traits)
        self.trait_filter.toggled.connect(s.set_trait_filter)
        s.activity_changed.connect(lambda events: self.detail.show_activity(events, currency()))
        s.provenance_changed.connect(self.detail.show_provenance)
        s.model.modelReset.connect(self.detail.offer_amount.clear)
        if s.market_state is not None:
            s.market_state.action_succeeded.connect(self._on_action_done)
            s.market_state.action_failed.connect(self._on_action_failed)
            s.market_state.action_declined.connect(self._on_action_declined)

    def buy(self) -> None:
        self._start_action(self.state.buy, "Buying: check the preview, then sign…")

    def make_offer(self) -> None:
        """Offer what was typed for the shown token; the line under the field says how it goes."""
        self._start_action(lambda: self.state.make_offer(self.detail.offer_amount.text()),
                           "Making the offer: check the preview, then sign…")

    def _start_action(self, action: Any, pending: str) -> None:
        self._show_error("")
        try:
            action()
        except StudioError as exc:
            self._show_notice("")
            self._show_error(error_message(exc))
            return
        self._acting = True
        self._show_notice(pending)

    def _on_action_done(self, outcome: Any) -> None:
        self._on_detail(self.state.detail)
        if not self._acting:
            return  # an action of the Market tab's
        self._acting = False
        if outcome.action == "offer":
            self.detail.offer_amount.clear()
        self._show_notice(outcome.message)

    def _on_action_failed(self, exc: BaseException) -> None:
        if self._acting:
            self._acting = False
            self._show_notice("")
            self._show_error(error_message(exc))

    def _on_action_declined(self) -> None:
        if self._acting:
            self._acting = False
            self._show_notice("Nothing was signed or sent: the preview was declined.")

    def _show_notice(self, text: str) -> None:
        self.detail.notice.setText(text)
        self.detail.notice.setStyleSheet(f"color: {theme.OK_TEXT};")
        self.detail.notice.setVisible(bool(text))

    def open_typed(self) -> None:
        self._try(self.state.open_collection, self.address.text())

    def _open_recent(self, index: int) -> None:
        address = self.recent.itemData(index)
        if address:
            self.address.setText(address)
            self._try(self.state.open_collection, address)

    def _fill_recent(self, recent: list[Any]) -> None:
        self.recent.blockSignals(True)
        self.recent.clear()
        self.recent.addItem("Recent collections…", None)
        for opened in recent:
            self.recent.addItem(printable(f"{opened.name[:40]} · {opened.address[:6]}…{opened.address[-4:]}"),
                                opened.address)
        self.recent.setEnabled(bool(recent))
        self.recent.blockSignals(False)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.state.select(current.row())

    def _on_detail(self, card: Any) -> None:
        self.detail.show_card(card, self.state.wallet_state.network.currency)
        allowed, reason = self.state.buy_state(card)
        self.detail.buy_button.setEnabled(allowed)
        self.detail.buy_reason.setText(printable(reason))
        self.detail.offer_button.setEnabled(card is not None and card.ok and self.state.market_state is not None)

    def _show_error(self, text: str) -> None:
        self.error.setText(printable(text, multiline=True))
        self.error.setVisible(bool(text))

    def _try(self, action: Any, *args: Any) -> None:
        try:
            action(*args)
        except StudioError as exc:
            message = error_message(exc)
            self._show_error(message)
            self.action_refused.emit(message)
