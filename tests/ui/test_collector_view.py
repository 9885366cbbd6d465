"""The Collections tab as a collector uses it, real widgets offscreen over the embedded devnet and a
collection the studio did not create (HostileNFT): opening by address, the virtualized grid with error
cells saying why, the detail pane in plain text, Buy disabled with a reason until the holder lists the
token on the studio marketplace, then bought through the Market tab's preview; My collection; a newer
open cancels an older one; a malformed address is refused before any job starts.

(Named test_collector_view.py: tests/workflows/test_collector.py already uses test_collector.py, and
the suite imports test files by their base name.)
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest
from PySide6.QtCore import Qt

from studio.library.db import Library
from studio.storage.fetch import VerifiedFetcher
from studio.storage.store import LocalStore
from studio.ui.state.collector import CollectorState, TokenGridModel
from studio.ui.state.market import MarketState
from studio.ui.tabs.collector import CollectorTab
from test_market_state import Answers, sync
from wallet_helpers import ACCOUNT_1, JOB_MS, refresh, unlock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile_collection import ERROR, HTML_NAME, deploy_hostile  # noqa: E402

PRICE = 10**17


@pytest.fixture
def library(studio_home) -> Iterator[Library]:
    with Library.default() as library:
        yield library


@pytest.fixture
def hostile(wallet_session, library):
    """HostileNFT deployed by devnet account 3 (not the wallet's), every token held by account 3."""
    from studio.chain.devnet import Devnet, devnet_account_signer

    devnet = Devnet.shared()
    owner = devnet_account_signer(2)
    collection = deploy_hostile(devnet.connection(), owner, LocalStore.default(), to=owner.address)
    collection.signer = owner
    return collection


@pytest.fixture
def market_state(qtbot, wallet_state, library, pool) -> Iterator[MarketState]:
    state = MarketState(wallet_state, library, pool, sync_interval_ms=60_000)
    yield state
    state.stop()


@pytest.fixture
def tab(qtbot, wallet_state, library, pool, market_state) -> Iterator[CollectorTab]:
    state = CollectorState(wallet_state, library, pool, market_state, fetcher=VerifiedFetcher.default(gateways=()))
    widget = CollectorTab(state)
    qtbot.addWidget(widget)
    widget.resize(1200, 760)
    widget.show()
    yield widget
    state.cancel()
    pool.shutdown()


def open_and_read(qtbot, tab: CollectorTab, address: str, count: int) -> None:
    tab.address.setText(address)
    qtbot.mouseClick(tab.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.state.model.rowCount() == count, timeout=JOB_MS)
    qtbot.waitUntil(lambda: tab.state.model.loaded() == count and not tab.state.loading, timeout=JOB_MS)


def row_of(model: TokenGridModel, token_id: int) -> int:
    return next(r for r in range(model.rowCount()) if model.card(r).token_id == token_id)


def select(qtbot, tab: CollectorTab, row: int) -> None:
    tab.grid.setCurrentIndex(tab.state.model.index(row))
    qtbot.waitUntil(lambda: tab.state.detail is not None and tab.state.detail is tab.state.model.card(row),
                    timeout=JOB_MS)


def test_a_hostile_collection_opens_with_good_cells_and_error_cells(qtbot, tab, hostile):
    state, model = tab.state, tab.state.model
    open_and_read(qtbot, tab, hostile.address, len(hostile.expected))

    assert tab.title.text() == "<b>Hostile</b> <img src=x onerror=alert(1)> (H<i>N</i>)"
    assert tab.title.textFormat() == Qt.TextFormat.PlainText
    assert "15 tokens (listed from ERC721Enumerable)" in tab.status.text()
    for row in range(model.rowCount()):
        card = model.card(row)
        index = model.index(row)
        if hostile.expected[card.token_id] == ERROR:
            assert model.data(index, TokenGridModel.ErrorRole)
            assert model.data(index).startswith("⚠ Token")
        else:
            assert model.data(index, TokenGridModel.ErrorRole) is None
            assert "Owner 0x3C44…93BC" in model.data(index)
    assert model.data(model.index(row_of(model, hostile.by_label("good-ipfs"))),
                      Qt.ItemDataRole.DecorationRole).width() == 150
    tooltip = model.data(model.index(row_of(model, hostile.by_label("html-name"))), Qt.ItemDataRole.ToolTipRole)
    assert tooltip.startswith("<qt>&lt;b&gt;Bold")  # escaped: shown as the text it is

    select(qtbot, tab, row_of(model, hostile.by_label("html-name")))
    pane = tab.detail
    assert pane.name.text() == HTML_NAME and pane.name.textFormat() == Qt.TextFormat.PlainText
    assert pane.image.pixmap() is not None and not pane.image.pixmap().isNull()
    assert pane.royalty.text().startswith("7.5% to ")
    assert not pane.buy_button.isEnabled()
    assert "Not listed on the studio marketplace" in pane.buy_reason.text()

    select(qtbot, tab, row_of(model, hostile.by_label("revert")))
    assert pane.problem.isVisible() and "could not be read" in pane.problem.text()
    assert not pane.buy_button.isEnabled() and not pane.offer_button.isEnabled()

    select(qtbot, tab, row_of(model, hostile.by_label("svg-image")))
    assert "SVG image not shown" in pane.image_note.text()
    assert tab.recent.count() == 2 and tab.recent.itemData(1) == hostile.address


def test_a_foreign_token_listed_on_the_studio_marketplace_is_bought_from_the_tab(qtbot, tab, hostile, wallet_state,
                                                                                 market_state):
    from studio.chain.devnet import Devnet
    from studio.workflows import market as wm

    devnet = Devnet.shared()
    marketplace = devnet.studio_contracts()["StudioMarketplace"]
    token = hostile.by_label("good-ipfs")
    wm.list_token(connection=devnet.connection(), signer=hostile.signer, marketplace=marketplace,
                  collection=hostile.address, token_id=token, price_wei=PRICE, confirm=lambda _p: True)
    unlock(qtbot, wallet_state)
    refresh(qtbot, wallet_state)
    sync(qtbot, market_state)
    answers = Answers(market_state)

    open_and_read(qtbot, tab, hostile.address, len(hostile.expected))
    model = tab.state.model
    row = row_of(model, token)
    assert "For sale · 0.1 ETH" in model.data(model.index(row))
    select(qtbot, tab, row)
    assert tab.detail.buy_button.isEnabled(), tab.detail.buy_reason.text()
    assert tab.detail.price.text() == "0.1 ETH"
    with qtbot.waitSignal(market_state.action_succeeded, timeout=JOB_MS):
        qtbot.mouseClick(tab.detail.buy_button, Qt.MouseButton.LeftButton)
    assert answers.actions == ["Buying the token"]
    qtbot.waitUntil(lambda: model.card(row).owner == ACCOUNT_1, timeout=JOB_MS)
    assert model.card(row).listing_price_wei is None

    qtbot.waitUntil(lambda: not tab.state.loading, timeout=JOB_MS)
    qtbot.mouseClick(tab.mine_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.title.text() == "My collection" and model.loaded() == model.rowCount() > 0,
                    timeout=JOB_MS)
    assert [(model.card(r).collection, model.card(r).token_id) for r in range(model.rowCount())] == [
        (hostile.address, token)]


def test_opening_another_collection_drops_the_first_and_bad_addresses_start_nothing(qtbot, tab, hostile, pool):
    from studio.chain.artifacts import load_artifact
    from studio.chain.devnet import Devnet

    devnet = Devnet.shared()
    connection = devnet.connection()
    artifact = load_artifact("OZURIStorageReference")
    factory = connection.web3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    oz = connection.send(hostile.signer, factory.constructor()).contract_address

    tab.address.setText(hostile.address)
    qtbot.mouseClick(tab.open_button, Qt.MouseButton.LeftButton)
    open_and_read(qtbot, tab, oz, 0)  # opened at once after: the hostile collection's answer is dropped
    qtbot.waitUntil(lambda: tab.title.text() == "OZ Reference (OZR)", timeout=JOB_MS)
    qtbot.waitUntil(lambda: not tab.state.loading, timeout=JOB_MS)
    assert tab.state.model.rowCount() == 0 and "0 tokens (listed from its transfer history)" in tab.status.text()

    refused: list[str] = []
    tab.action_refused.connect(refused.append)
    tab.address.setText("0x12<script>")
    qtbot.mouseClick(tab.open_button, Qt.MouseButton.LeftButton)
    assert refused and "is not a contract address" in refused[0]
    assert tab.error.isVisible() and tab.error.textFormat() == Qt.TextFormat.PlainText
    assert not tab.state.loading

    tab.address.setText("0x" + "12" * 20)  # no contract there: said after the read
    qtbot.mouseClick(tab.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "no contract" in tab.error.text(), timeout=JOB_MS)


def test_an_offer_made_in_the_tab_is_confirmed_under_the_field_and_shown_as_the_best_offer(
        qtbot, tab, hostile, wallet_state, market_state):
    """Collections: the empty tab says what to do; an offer says it is under way, then that it was made
    (the field emptied), and the token's detail shows it as the best offer; Make offer is within
    reach at 1360x860."""
    from studio.ui.state.collector import NOTHING_OPEN

    assert tab.title.text() == "No collection open" and tab.status.text() == NOTHING_OPEN
    unlock(qtbot, wallet_state)
    refresh(qtbot, wallet_state)
    sync(qtbot, market_state)
    answers = Answers(market_state)
    tab.resize(1360, 800)
    open_and_read(qtbot, tab, hostile.address, len(hostile.expected))
    token = hostile.by_label("good-ipfs")
    select(qtbot, tab, row_of(tab.state.model, token))
    assert tab.detail.best_offer.text() == "none yet"
    from PySide6.QtWidgets import QScrollArea

    button = tab.detail.offer_button
    viewport = tab.detail.findChild(QScrollArea).viewport()
    assert button.mapTo(viewport, button.rect().bottomLeft()).y() <= viewport.height()  # not below the fold
    tab.detail.offer_amount.setText("0.05")
    with qtbot.waitSignal(market_state.action_succeeded, timeout=JOB_MS):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert tab.detail.notice.text().startswith("Making the offer")
    assert answers.actions == ["Wrapping ETH", "Approving Seaport for your WETH", "Signing the offer"]  # Seaport
    assert tab.detail.notice.isVisible() and f"Offer of 0.05 WETH for token {token}" in tab.detail.notice.text()
    assert tab.detail.offer_amount.text() == ""
    qtbot.waitUntil(lambda: tab.detail.best_offer.text() == f"0.05 WETH from {ACCOUNT_1}", timeout=JOB_MS)
