"""OpenSea from the window: the API key set and removed in its dialog (Settings › Wallet & networks), kept
encrypted in the wallet and never shown or logged; "Also post to OpenSea" in the sell and offer dialogs,
off with the reason where it cannot work; a listing and an offer posted by the job after signing; a
refused post shown in the Market while the order stays valid; a collection's OpenSea listings read
into the order book, marked as from OpenSea, a forged one left out.

Real widgets offscreen over the embedded devnet, and the loopback stand-in of tests/opensea_server.py
(it recovers each order's signer with eth-account). OpenSea does not serve the devnet, so the tests that
post make the stand-in serve it: the client's table of OpenSea's chains names the devnet's chain and
the devnet's Seaport (OpenSea's is at one address on every public chain, which the devnet cannot have).
"""
from __future__ import annotations

import logging
from typing import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QInputDialog

from studio.chain.opensea import OpenSeaClient
from studio.chain.seaport import SaleTerms, listing_order, sign_order
from studio.chain.transactions import LocalSigner
from studio.chain.wallet import Wallet
from studio.retry import RetryPolicy
from studio.ui.dialogs.offer import OfferDialog
from studio.ui.dialogs.opensea_key import OpenSeaKeyDialog
from studio.ui.dialogs.sell import SellDialog
from studio.ui.workers import BackgroundPool
from studio.workflows.opensea_orders import KEY_ENV, OPENSEA_SECRET
from test_market_state import PRICE, ROYALTY_BPS, market_env, market_state, sync  # noqa: F401
from test_market_tab import Previews, click, idle, open_tab, row_of, tab  # noqa: F401
from wallet_helpers import ACCOUNT_1, ACCOUNT_2, JOB_MS, PASSWORD

from opensea_server import opensea

KEY = "os-gui-key-5f0c91d2a7"


@pytest.fixture(autouse=True)
def no_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv("STUDIO_OPENSEA_URL", raising=False)


@pytest.fixture
def devnet_on_opensea(monkeypatch: pytest.MonkeyPatch, market_env) -> tuple[int, str]:  # noqa: F811
    """The client takes the devnet for a chain OpenSea serves, with the devnet's Seaport as OpenSea's."""
    from studio.chain import opensea as client_module
    from studio.chain.devnet import Devnet

    seaport = Devnet.shared().seaport_contracts()["Seaport"]
    chain_id = market_env.connection.chain_id
    monkeypatch.setitem(client_module.CHAINS, chain_id, "devnet")
    monkeypatch.setattr(client_module, "CANONICAL_SEAPORT", seaport)
    return chain_id, seaport


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def keep_key(wallet_state, key: str = KEY) -> None:
    wallet_state.wallet.set_service_secret(OPENSEA_SECRET, key, PASSWORD)


def list_token(qtbot, tab, token_id: int, *, post: bool) -> SellDialog:  # noqa: F811
    state = tab.state
    tab.views.setCurrentIndex(1)
    tab.select(tab.held_view, row_of(state, ACCOUNT_1, token_id))
    click(qtbot, tab.list_button)
    dialog = tab.last_dialog
    assert isinstance(dialog, SellDialog)
    dialog.price.setText("0.1")
    if post:
        assert dialog.opensea.isEnabled(), dialog.opensea.toolTip()
        dialog.opensea.setChecked(True)
    previews = Previews(tab)
    click(qtbot, dialog.submit_button)
    previews.answer(qtbot)  # Seaport approved for the collection (the first listing)
    previews.answer(qtbot)  # the listing's signature
    idle(qtbot, state)
    return dialog


# ---------------------------------------------------------------- the key

@pytest.fixture
def key_dialog(qtbot, tmp_path) -> Iterator[OpenSeaKeyDialog]:
    wallet = Wallet(tmp_path / "keys" / "wallet.json", kdf_n=2**10)
    wallet.create(PASSWORD, phrase="test test test test test test test test test test test junk")
    pool = BackgroundPool()
    dialog = OpenSeaKeyDialog(wallet, pool)
    qtbot.addWidget(dialog)
    dialog.show()
    yield dialog
    pool.shutdown()


def test_the_opensea_key_is_set_and_removed_in_its_dialog_encrypted_in_the_wallet(qtbot, key_dialog, logged):
    wallet = key_dialog.wallet
    key_dialog.token_edit.setText(KEY)
    key_dialog.password_edit.setText(PASSWORD)
    with qtbot.waitSignal(key_dialog.accepted, timeout=JOB_MS):
        key_dialog.save_button.click()
    assert KEY.encode() not in wallet.path.read_bytes()
    assert key_dialog.token_edit.text() == "" and key_dialog.password_edit.text() == ""  # never shown back
    wallet.unlock(PASSWORD)
    assert wallet.service_secret(OPENSEA_SECRET) == KEY
    assert wallet.service_secret("pinning") is None  # the pinning token's place is another

    key_dialog.setResult(0)
    key_dialog.show()
    key_dialog.password_edit.setText("not the password")
    key_dialog.remove_button.click()
    qtbot.waitUntil(lambda: "password" in key_dialog.error.text().lower() and key_dialog.remove_button.isEnabled(),
                    timeout=JOB_MS)
    assert wallet.service_secret(OPENSEA_SECRET) == KEY
    key_dialog.password_edit.setText(PASSWORD)
    with qtbot.waitSignal(key_dialog.accepted, timeout=JOB_MS):
        key_dialog.remove_button.click()
    assert wallet.service_secret(OPENSEA_SECRET) is None
    key_dialog.setResult(0)
    key_dialog.show()
    key_dialog.password_edit.setText(PASSWORD)
    key_dialog.remove_button.click()
    qtbot.waitUntil(lambda: "No OpenSea API key" in key_dialog.error.text(), timeout=JOB_MS)
    assert KEY not in logged.text


def test_settings_open_the_opensea_key_dialog_under_wallet_and_networks(window, qtbot) -> None:
    settings = window.settings_dialog()
    button = settings.action_buttons["marketplace_addresses"]
    assert button.text() == "OpenSea API key…"
    button.click()
    qtbot.waitUntil(lambda: any(isinstance(w, OpenSeaKeyDialog) and w.isVisible()
                                for w in QApplication.topLevelWidgets()), timeout=10_000)
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, OpenSeaKeyDialog):
            assert widget.windowTitle() == "OpenSea API key"
            widget.close()
    settings.close()


# ---------------------------------------------------------------- the check box

def test_the_post_box_is_off_with_the_reason_on_the_devnet_and_without_a_key(qtbot, tab, wallet_state,  # noqa: F811
                                                                             market_env, monkeypatch):  # noqa: F811
    state = tab.state
    open_tab(qtbot, tab, wallet_state)
    keep_key(wallet_state)
    tab.views.setCurrentIndex(1)
    tab.select(tab.held_view, row_of(state, ACCOUNT_1, market_env.token_id))
    click(qtbot, tab.list_button)
    sell = tab.last_dialog
    assert not sell.opensea.isEnabled() and "OpenSea does not serve" in sell.opensea.toolTip()
    assert not tab.opensea_button.isEnabled() and "does not serve" in tab.opensea_button.toolTip()
    sell.reject()

    from studio.chain import opensea as client_module

    monkeypatch.setitem(client_module.CHAINS, market_env.connection.chain_id, "devnet")
    wallet_state.wallet.remove_service_secret(OPENSEA_SECRET, PASSWORD)
    click(qtbot, tab.list_button)
    sell = tab.last_dialog
    assert not sell.opensea.isEnabled() and "No OpenSea API key" in sell.opensea.toolTip()
    sell.reject()
    keep_key(wallet_state)
    wallet_state.select_account(ACCOUNT_2)
    offer = tab.open_offer(_listing_item(market_env))
    assert isinstance(offer, OfferDialog) and offer.opensea.isEnabled()
    offer.any_token.setChecked(True)  # a collection offer: OpenSea takes those by its own slug
    assert not offer.opensea.isEnabled() and "slug" in offer.opensea.toolTip()
    offer.any_token.setChecked(False)
    assert offer.opensea.isEnabled()
    offer.reject()


def _listing_item(env):
    """A row to offer on: the artist's token as the listings view would show it (it is not listed)."""
    from studio.ui.widgets.market_tables import SEAPORT, MarketItem

    return MarketItem(SEAPORT, env.connection.chain_id, env.collection.address, env.token_id, ACCOUNT_1, PRICE)


# ---------------------------------------------------------------- posting

def test_a_listing_and_an_offer_are_posted_after_signing_and_the_key_is_never_logged(
        qtbot, tab, wallet_state, market_env, devnet_on_opensea, logged):  # noqa: F811
    chain_id, seaport = devnet_on_opensea
    state = tab.state
    open_tab(qtbot, tab, wallet_state)
    keep_key(wallet_state)
    with opensea(KEY, chains={"devnet": chain_id}, seaport=seaport) as (url, log):
        state.opensea.base_url = url
        list_token(qtbot, tab, market_env.token_id, post=True)
        assert "Posted to OpenSea." in tab.notice.text(), tab.notice.text()
        sync(qtbot, state)
        [listing] = state.listings.rows()
        [posted] = log.orders["listings"]
        assert posted["order_hash"] == listing.order.order_hash.lower()
        assert posted["maker"]["address"].lower() == ACCOUNT_1.lower()

        wallet_state.select_account(ACCOUNT_2)
        offer = tab.open_offer(listing)
        offer.amount.setText("0.01")
        offer.opensea.setChecked(True)
        previews = Previews(tab)
        click(qtbot, offer.submit_button)
        for _preview in range(3):  # wrap ETH into WETH, approve Seaport for WETH, sign the offer
            previews.answer(qtbot)
        idle(qtbot, state)
        assert "Posted to OpenSea." in tab.notice.text(), tab.notice.text()
        [bid] = log.orders["offers"]
        assert bid["maker"]["address"].lower() == ACCOUNT_2.lower()
        assert [r[2].get("x-api-key") for r in log.requests] == [KEY, KEY]  # in the header, nowhere else
        assert all(KEY not in r[1] for r in log.requests)
    shown = " ".join([tab.notice.text(), tab.error_banner.label.text(), state.status_line, offer.opensea.toolTip()])
    assert KEY not in logged.text and KEY not in shown


def test_a_refused_post_shows_why_and_the_listing_stays_valid_in_the_studio(
        qtbot, tab, wallet_state, market_env, devnet_on_opensea, logged):  # noqa: F811
    chain_id, seaport = devnet_on_opensea
    state = tab.state
    open_tab(qtbot, tab, wallet_state)
    keep_key(wallet_state)
    with opensea("the key OpenSea knows", chains={"devnet": chain_id}, seaport=seaport) as (url, log):
        state.opensea.base_url = url
        list_token(qtbot, tab, market_env.token_id, post=True)
    notice = tab.notice.text()
    assert f"Token {market_env.token_id} is listed" in notice and "Not posted to OpenSea: OpenSea refused the API key" in notice
    assert "stays valid in the studio" in notice and not tab.error_banner.isVisible()
    assert log.orders["listings"] == [] and len(log.requests) == 1
    sync(qtbot, state)
    [listing] = state.listings.rows()  # still for sale here: another account can buy it
    assert (listing.kind, listing.token_id, listing.from_opensea) == ("seaport", market_env.token_id, False)
    assert KEY not in logged.text and KEY not in notice


# ---------------------------------------------------------------- reading

def test_opensea_listings_join_the_order_book_marked_and_a_forged_one_is_left_out(
        qtbot, tab, wallet_state, market_env, devnet_on_opensea, tmp_path):  # noqa: F811
    chain_id, seaport = devnet_on_opensea
    state, env = tab.state, market_env
    open_tab(qtbot, tab, wallet_state)
    list_token(qtbot, tab, env.token_id, post=False)  # approves Seaport for the collection; not on OpenSea
    keep_key(wallet_state)
    second = env.mint(2, tmp_path)
    from studio.chain.seaport_contract import SeaportContract

    counter = SeaportContract(env.connection, seaport).counter(ACCOUNT_1)
    end = env.connection.latest_block_time() + 86_400
    royalty = (env.royalty_receiver, PRICE * ROYALTY_BPS // 10_000)

    def listing_of(token_id: int, signer: LocalSigner):
        components = listing_order(seller=signer.address, collection=env.collection.address, token_id=token_id,
                                   terms=SaleTerms.split(PRICE, signer.address, royalty=royalty),
                                   start_time=end - 2 * 86_400, end_time=end, counter=counter)
        return sign_order(signer, components, chain_id, seaport)

    elsewhere = listing_of(second, env.artist)  # listed on OpenSea's site by the artist
    with opensea(KEY, chains={"devnet": chain_id}, seaport=seaport) as (url, log):
        OpenSeaClient(KEY, base_url=url, policy=RetryPolicy(attempts=1)).post_listing(elsewhere)
        from eth_account import Account

        stranger = listing_of(env.token_id, LocalSigner(Account.from_key(b"\x44" * 32)))
        genuine = log.orders["listings"][0]
        log.extra_orders = [{**genuine, "protocol_data": {**genuine["protocol_data"],
                                                          "signature": "0x" + stranger.signature.hex()}}]
        state.opensea.base_url = url
        tab._update_buttons()
        assert tab.opensea_button.isEnabled(), tab.opensea_button.toolTip()
        click(qtbot, tab.opensea_button)
        ask = tab.last_dialog
        assert isinstance(ask, QInputDialog) and ask.textValue() == env.collection.address
        with qtbot.waitSignal(state.synced, timeout=JOB_MS):
            ask.textValueSelected.emit(ask.textValue())
        idle(qtbot, state)
    assert "Read 1 listing from OpenSea; 1 left out" in tab.notice.text()
    rows = sorted(state.listings.rows(), key=lambda item: item.token_id)
    assert [(r.token_id, r.from_opensea) for r in rows] == [(env.token_id, False), (second, True)]
    assert rows[1].venue == "Seaport · from OpenSea"
    assert rows[1].order.order_hash.lower() == "0x" + elsewhere.order_hash.hex()
