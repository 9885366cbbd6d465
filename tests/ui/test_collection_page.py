"""The collector's view as OpenSea shows it, on a real devnet market: a collection page (banner,
description, creator, royalty, items, owners, floor, volume, listed count, trait filters with counts),
each token's activity (mint, transfers, listing, sale, offer, with prices and times) and provenance
(the verified manifest, its signer, the on-chain commitment); Gallery badges (signed, minted,
listed) drawn by the delegate, and "List now" at the end of a mint."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from collector_world import build_world
from studio.ui.state.collector import CollectorState
from wallet_helpers import ACCOUNT_1, ACCOUNT_2, JOB_MS, unlock, wait_job


@pytest.fixture
def world_state(qtbot, wallet_state, library, tmp_path: Path):
    unlock(qtbot, wallet_state)
    wallet_state.library = library
    world = build_world(wallet_state.session, library, tmp_path)
    return wallet_state, world


@pytest.fixture
def collector(qtbot, world_state, pool):
    wallet_state, world = world_state
    from studio.storage.fetch import VerifiedFetcher

    state = CollectorState(wallet_state, world.library, pool, fetcher=VerifiedFetcher.default(gateways=()))
    yield state, world
    state.cancel()


def _load(qtbot, state, count: int) -> None:
    """Ask for the grid's first page, as a view painting it does, and wait for its cards."""
    state.model.data(state.model.index(0), Qt.ItemDataRole.DisplayRole)
    qtbot.waitUntil(lambda: state.model.loaded() == count, timeout=JOB_MS)


def _open(qtbot, state, address: str):
    with qtbot.waitSignal(state.collection_page_changed, timeout=JOB_MS,
                          check_params_cb=lambda page: page is not None):
        state.open_collection(address)
    return state.page


def test_the_collection_page_shows_banner_numbers_and_trait_counts(qtbot, collector) -> None:
    from studio.ui.tabs.collector import CollectorTab

    state, world = collector
    tab = CollectorTab(state)
    qtbot.addWidget(tab)
    page = _open(qtbot, state, world.drop.address)
    assert (page.name, page.description, page.creator, page.royalty_bps) == ("Drop", "Four harbour studies.",
                                                                              ACCOUNT_1, 500)
    assert page.banner is not None and page.banner[:8] == b"\x89PNG\r\n\x1a\n" and page.studio_made
    assert (page.items, page.owners) == (4, 2)
    assert (page.stats.floor_wei, page.stats.volume_wei, page.stats.sales, page.stats.listed) == (
        2 * 10**17, 10**17, 1, 1)
    counts = {(t.trait, t.value): t.count for t in page.traits}
    assert counts[("Mood", "calm")] == 3 and counts[("Mood", "stormy")] == 1 and counts[("Set", "dawn")] == 4
    assert page.traits_read == 4
    shown = {key: label.text() for key, label in tab.header.stats.items()}
    assert shown == {"Items": "4", "Owners": "2", "Floor": "0.2 ETH", "Volume": "0.1 ETH", "Listed": "1"}
    assert tab.header.by.text() == "by 0xf39F…2266 · 5% royalty · made in this studio"
    assert not tab.header.banner.pixmap().isNull()

    stormy = tab.trait_filter.item_for("Mood", "stormy")
    assert stormy is not None and stormy.text(0) == "stormy  (1)"
    _load(qtbot, state, 4)
    _history(qtbot, state, world.tokens[0])
    assert tab.detail.activity.rowCount() == 5 and tab.detail.provenance_labels["Verdict"].text() == "verified"
    stormy.setCheckState(0, Qt.CheckState.Checked)
    assert tab.detail.activity.rowCount() == 0 and not tab.detail.provenance_labels  # no stale history left
    assert state.model.rowCount() == 1 and state.status == "1 of 4 tokens have Mood: stormy"
    _load(qtbot, state, 1)
    assert state.model.card(0).token_id == world.tokens[2]
    tab.trait_filter.item_for("Mood", "calm").setCheckState(0, Qt.CheckState.Checked)  # values of a trait widen
    assert state.model.rowCount() == 4
    state.set_trait_filter("Set", "other", True)  # traits narrow
    assert state.model.rowCount() == 0
    state.clear_trait_filter()
    assert state.model.rowCount() == 4 and state.trait_filter == {}


def test_a_collection_the_studio_did_not_make_reads_its_creator_from_the_contract(qtbot, collector) -> None:
    from studio.chain.devnet import devnet_account_signer

    state, world = collector
    page = _open(qtbot, state, world.elsewhere)
    assert page.creator == devnet_account_signer(5).address and not page.studio_made and page.banner is None
    assert (page.items, page.owners, page.stats.listed, page.stats.floor_wei) == (1, 1, 0, None)


def _history(qtbot, state, token_id: int):
    row = next(r for r in range(state.model.rowCount()) if state.model.card(r) and
               state.model.card(r).token_id == token_id)
    with qtbot.waitSignal(state.provenance_changed, timeout=JOB_MS, check_params_cb=lambda report: report is not None):
        state.select(row)
    return state.activity, state.provenance


def test_token_activity_lists_mint_listing_sale_and_offer_with_prices_and_times(qtbot, collector) -> None:
    from studio.ui.tabs.collector import event_rows

    state, world = collector
    _open(qtbot, state, world.drop.address)
    _load(qtbot, state, 4)
    events, report = _history(qtbot, state, world.tokens[0])
    assert [e.kind for e in events] == ["mint", "transfer", "listed", "transfer", "sold"]
    assert [e.price_wei for e in events if e.kind in ("listed", "sold")] == [10**17, 10**17]
    assert events[-1].seller == ACCOUNT_1 and events[-1].buyer == ACCOUNT_2
    assert all(e.when is not None and e.when > 1_700_000_000 for e in events)
    assert [row[:2] for row in event_rows(events)][:1] == [("Sold", "0.1 ETH")]  # newest first
    assert report.known and report.verdict == "verified" and report.signer == ACCOUNT_1
    assert report.commitment_ok is True
    lines = dict(report.lines)
    assert lines["Signer"] == ACCOUNT_1 and lines["On-chain commitment"].startswith("matches the metadata")
    assert lines["Prompt"] == "harbour study 0"

    offered, _ = _history(qtbot, state, world.tokens[2])
    assert [(e.kind, e.buyer, e.price_wei) for e in offered if e.kind == "offer_made"] == [
        ("offer_made", ACCOUNT_2, 5 * 10**16)]
    _events, unsigned = _history(qtbot, state, world.tokens[3])
    assert unsigned.signer is None and dict(unsigned.lines)["Signer"] == "not signed"  # pixels match, no signer


def test_a_token_of_a_collection_the_market_does_not_watch_has_its_transfers_read(qtbot, collector) -> None:
    state, world = collector
    _open(qtbot, state, world.elsewhere)
    _load(qtbot, state, 1)
    events, report = _history(qtbot, state, 1)
    assert [(e.kind, e.buyer) for e in events] == [("mint", ACCOUNT_2)] and events[0].when
    assert not report.known and "Not minted from a work in this library" in dict(report.lines)["Provenance"]


def test_gallery_cells_carry_signed_minted_and_listed_badges(qtbot, world_state, demo_config) -> None:
    from PySide6.QtGui import QImage

    from studio.ui.state.gallery import GalleryModel, badges_of
    from studio.ui import theme
    from studio.ui.widgets.thumbnails import BADGES, GalleryDelegate, ThumbnailLoader, badge_rects

    _wallet, world = world_state
    library = world.library
    works = {w.title: w for w in library.works()}
    rows = {row.title: row for row in library.work_rows_by_id([w.id for w in works.values()])}
    assert badges_of(rows["Study 0"]) == ("signed", "minted")   # sold: no longer listed
    assert badges_of(rows["Study 1"]) == ("signed", "minted", "listed")
    assert badges_of(rows["Study 3"]) == ("minted",)              # the unsigned one

    loader = ThumbnailLoader(demo_config.paths.cache_dir / "thumbs", processes=False)
    model = GalleryModel(library, loader)
    delegate = GalleryDelegate(loader)
    model.reload()  # every work outside the trash, as the Gallery opens
    row = next(r for r in range(model.rowCount()) if model.row(r).title == "Study 1")
    index = model.index(row)
    assert model.data(index, Qt.ItemDataRole.ToolTipRole) == "Study 1\nsigned by its creator · minted as a token · " \
                                                             "listed for sale"
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QPainter
    from PySide6.QtWidgets import QListView, QStyleOptionViewItem

    view = QListView()
    qtbot.addWidget(view)
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, 156, 180)
    option.widget = view
    canvas = QImage(156, 180, QImage.Format.Format_ARGB32)
    canvas.fill(0)
    painter = QPainter(canvas)
    delegate.paint(painter, option, index)
    painter.end()
    image_rect = QRect(5, 5, 146, 170 - 24)
    for name, spot in zip(("signed", "minted", "listed"), badge_rects(image_rect, 3)):
        colour = canvas.pixelColor(spot.center().x() - 5, spot.center().y())
        assert colour.name() == theme.THEMES[theme.current_theme()][BADGES[name][1].lower()], name
    loader.shutdown()


def test_list_now_at_the_end_of_a_mint_opens_the_list_dialog_for_the_minted_token(qtbot, locked_window_wallet,
                                                                                  window, tmp_path: Path) -> None:
    from collector_world import signed_work
    from studio.ui.dialogs.sell import SellDialog
    from studio.workflows.collections import create_collection

    qtbot.waitUntil(lambda: window.wallet_state is not None, timeout=5_000)
    state = window.wallet_state
    unlock(qtbot, state)
    collection = create_collection(connection=state.session.connection(), signer=state.session.contract_signer(),
                                   library=window.library, name="Dawns", symbol="DAWN", royalty_receiver=ACCOUNT_1,
                                   royalty_bps=500)
    from studio.workflows.library import add_saved_work

    work = add_saved_work(window.library, signed_work(tmp_path / "dawn.png", 1, state.wallet.signer(ACCOUNT_1)))
    dialog = window.open_mint_dialog([work.id])
    assert dialog.collection_combo.currentData() == collection.address
    with qtbot.waitSignal(dialog.state.estimated, timeout=JOB_MS):
        dialog.next_button.click()
    with qtbot.waitSignal(dialog.preview_shown, timeout=JOB_MS) as shown:
        dialog.mint_button.click()
    with qtbot.waitSignal(dialog.state.minted, timeout=JOB_MS):
        shown.args[0].sign_button.click()
    qtbot.waitUntil(lambda: dialog.list_button.isVisible(), timeout=JOB_MS)
    assert dialog.list_button.isDefault()
    with qtbot.waitSignal(dialog.list_requested, timeout=JOB_MS) as listed:
        dialog.list_button.click()
    tokens = listed.args[0]
    assert [(owner, address) for owner, _chain, address, _id in tokens] == [(ACCOUNT_1, collection.address)]
    sell = window.last_list_dialog
    assert isinstance(sell, SellDialog) and sell.isVisible() and sell.token.token_id == tokens[0][3]
    assert sell.token.collection == collection.address and not dialog.isVisible()
    sell.reject()


@pytest.fixture
def locked_window_wallet(studio_home, monkeypatch):
    import studio.chain.keystore as keystore
    from studio.chain.wallet import Wallet
    from wallet_helpers import PASSWORD, TEST_PHRASE, close_devnets

    monkeypatch.setattr(keystore, "DEFAULT_KDF_N", 2**10)
    Wallet.default().create(PASSWORD, phrase=TEST_PHRASE, accounts=2)
    yield
    close_devnets()


def test_market_listings_are_searched_and_sorted_and_every_row_names_its_collection(qtbot, world_state, pool) -> None:
    from studio.chain.devnet import Devnet
    from studio.library.market import MarketStore
    from studio.ui.state.market import MarketState
    from studio.ui.tabs.market import MarketTab
    from studio.workflows import market as wm
    from collector_world import yes

    wallet_state, world = world_state
    artist, collector = (wallet_state.session.contract_signer(a) for a in (ACCOUNT_1, ACCOUNT_2))
    kw = {"connection": world.connection, "marketplace": world.marketplace, "store": MarketStore(world.library)}
    wm.list_token(signer=artist, collection=world.drop.address, token_id=world.tokens[2], price_wei=3 * 10**17,
                  confirm=yes, **kw)
    wm.list_token(signer=artist, collection=world.drop.address, token_id=world.tokens[3], price_wei=5 * 10**16,
                  confirm=yes, **kw)
    wm.list_token(signer=collector, collection=world.elsewhere, token_id=1, price_wei=15 * 10**16, confirm=yes, **kw)
    assert Devnet.shared().studio_contracts()["StudioMarketplace"] == world.marketplace
    state = MarketState(wallet_state, world.library, pool, sync_interval_ms=60_000)
    tab = MarketTab(state)
    qtbot.addWidget(tab)
    with qtbot.waitSignal(state.synced, timeout=JOB_MS):
        state.refresh()
    qtbot.waitUntil(lambda: all(r.card is not None for r in state.listings.rows()), timeout=JOB_MS)
    listings = state.listings

    def shown() -> list[tuple[str, str, str]]:
        return [(listings.data(listings.index(r, 1)), listings.data(listings.index(r, 2)),
                 listings.data(listings.index(r, 4))) for r in range(listings.rowCount())]

    assert shown() == [("Study 3", "Drop", "0.05 ETH"), ("Token 1", "Elsewhere", "0.15 ETH"),
                       ("Study 1", "Drop", "0.2 ETH"), ("Study 2", "Drop", "0.3 ETH")]  # cheapest first
    tab.listings_sort.setCurrentIndex(tab.listings_sort.findData("price_high"))
    assert [price for _n, _c, price in shown()] == ["0.3 ETH", "0.2 ETH", "0.15 ETH", "0.05 ETH"]
    tab.listings_sort.setCurrentIndex(tab.listings_sort.findData("collection"))
    assert [c for _n, c, _p in shown()] == ["Drop", "Drop", "Drop", "Elsewhere"]
    qtbot.keyClicks(tab.listings_search, "elsewhere")
    assert shown() == [("Token 1", "Elsewhere", "0.15 ETH")] and tab.listings_shown.text() == "1 of 4"
    assert len(tab.buy_buttons) == 1 and tab.buy_buttons[0].text() == "Buy · 0.15 ETH"
    tab.listings_search.setText("  STUDY   2 ")
    assert [n for n, _c, _p in shown()] == ["Study 2"]
    tab.listings_search.setText("nothing like this")
    assert listings.rowCount() == 0 and "No listing matches" in tab.listings_page.empty.text()  # not "nothing for sale"
    tab.listings_search.clear()
    assert listings.rowCount() == 4 and tab.listings_shown.text() == "4 listed"

    wallet_state.select_account(ACCOUNT_2)  # the offer Account 2 made on Study 2 names its collection
    qtbot.waitUntil(lambda: state.offers_made.rowCount() == 1, timeout=JOB_MS)
    assert state.offers_made.data(state.offers_made.index(0, 2)) == "Drop"
    mine = {state.held.data(state.held.index(r, 2)) for r in range(state.held.rowCount())}
    assert mine == {f"#{world.tokens[0]} · Drop", "#1 · Elsewhere"} and listings.collection_name("0x" + "12" * 20) == "0x1212…1212"
    state.stop()
