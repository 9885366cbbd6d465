"""What a person reads before signing, over the real embedded devnet and the real preview dialogs
offscreen: every preview says in ETH what each party sends and receives; the deployment shows the
collection's name, symbol and royalty; the approval names the marketplace; the redeem preview
shows the voucher's fields one by one and fits a laptop screen; the voucher's signature preview
says "collection default"; the List dialog counts a royalty paid to the seller as the seller's."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from studio.library.db import Library
from studio.library.market import MarketStore
from studio.ui.dialogs.sell import SellDialog
from studio.ui.dialogs.signature_preview import SignaturePreviewDialog
from studio.ui.dialogs.tx_preview import TxPreviewDialog
from studio.ui.widgets.market_tables import HeldToken
from studio.workflows import market as wm
from studio.workflows import lazy_listings as lw
from studio.workflows.collections import create_collection, preview_collection
from wallet_helpers import ACCOUNT_1, JOB_MS, TEST_PHRASE, close_devnets

PRICE, OFFER = 10**17, 5 * 10**16
WEI = re.compile(r"\bwei\b")


def signer(index: int):
    from eth_account import Account

    from studio.chain.transactions import LocalSigner

    Account.enable_unaudited_hdwallet_features()
    return LocalSigner(Account.from_mnemonic(TEST_PHRASE, account_path=f"m/44'/60'/0'/0/{index}"))


class Seen:
    """A confirm callback keeping each preview it is shown (and saying yes)."""

    def __init__(self) -> None:
        self.previews: list = []

    def __call__(self, preview) -> bool:
        self.previews.append(preview)
        return True


def rows(qtbot, preview) -> dict[str, str]:
    """The preview as its dialog shows it (label -> text), checked to be free of raw wei."""
    dialog = TxPreviewDialog(preview)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    shown = {label: widget.text() for label, widget in dialog.value_labels.items()}
    assert not [text for text in shown.values() if WEI.search(text)], shown
    assert dialog.width() <= 760
    return shown


@pytest.fixture
def chain(studio_home: Path):
    from studio.chain.devnet import Devnet

    devnet = Devnet.shared()
    with Library.default() as library:
        yield devnet.connection(), devnet.studio_contracts()["StudioMarketplace"], library
    close_devnets()


def test_every_preview_says_in_eth_what_each_party_sends_and_receives(qtbot, chain, tmp_path: Path) -> None:
    from studio.chain.contracts import CollectionContract
    from studio.storage.store import LocalStore
    from studio.workflows.mint import MintItem
    from studio.workflows.publish import file_commitment

    connection, marketplace, library = chain
    artist, buyer, bidder, royalty = signer(0), signer(1), signer(2), signer(9).address
    deploy = rows(qtbot, preview_collection(connection=connection, signer=artist, name="Dawns", symbol="DAWN",
                                            royalty_receiver=royalty, royalty_bps=500))
    assert (deploy["Name"], deploy["Symbol"]) == ("Dawns", "DAWN")
    assert deploy["Royalty"] == f"5 % of each resale to {royalty}" and "Data" not in deploy
    assert deploy["You send"].startswith("no ETH")

    collection = create_collection(connection=connection, signer=artist, library=library, name="Dawns",
                                   symbol="DAWN", royalty_receiver=royalty, royalty_bps=500).address
    token = CollectionContract(connection, collection).mint(artist, artist.address,
                                                            file_commitment(b'{"name": "dawn"}')).first_token_id
    store = MarketStore(library)
    kw = {"connection": connection, "marketplace": marketplace, "collection": collection, "store": store}
    listing = Seen()
    wm.list_token(signer=artist, token_id=token, price_wei=PRICE, confirm=listing, **kw)
    approve, listed = (rows(qtbot, p) for p in listing.previews)
    assert approve["Approves"] == f"the studio marketplace {marketplace}"
    assert approve["To move"] == f"token {token} of Dawns ({collection}) when it sells"
    assert listed["Price"] == "0.1 ETH"
    assert listed["You receive"] == "0.095 ETH (when it sells)"
    assert listed["The royalty receiver receives"] == "0.005 ETH (when it sells)"

    bought = Seen()
    wm.buy_listing(signer=buyer, token_id=token, confirm=bought, **kw)
    buy = rows(qtbot, bought.previews[0])
    assert buy["You send"] == "0.1 ETH" and buy["You receive"] == f"token {token}"
    assert buy["The seller receives"] == "0.095 ETH" and buy["The royalty receiver receives"] == "0.005 ETH"

    offered = Seen()
    wm.make_offer(signer=bidder, token_id=token, amount_wei=OFFER, confirm=offered, **kw)
    offer = rows(qtbot, offered.previews[0])
    assert offer["You send"].startswith("0.05 ETH and into escrow") and offer["Offer"] == "0.05 ETH"

    accepted = Seen()
    wm.accept_offer(signer=buyer, token_id=token, buyer=bidder.address, confirm=accepted, **kw)
    accept = rows(qtbot, accepted.previews[-1])
    assert accept["For their offer"] == "0.05 ETH" and accept["You receive"] == "0.0475 ETH"
    assert accept["The buyer sends"] == "0.05 ETH and (paid into escrow with the offer)"
    assert accept["The royalty receiver receives"] == "0.0025 ETH"

    # A lazy listing: the voucher's signature preview, then the buyer's redeem.
    work = tmp_path / "lazy.png"
    Image.new("RGB", (32, 32), (200, 60, 20)).save(work)
    signing = Seen()
    voucher = lw.lazy_list_work(connection=connection, signer=artist, store=store, collection=collection,
                                item=MintItem(work, "Lazy dawn"), price_wei=PRICE, content_store=LocalStore.default(),
                                confirm=signing)
    dialog = SignaturePreviewDialog(signing.previews[0])
    qtbot.addWidget(dialog)
    assert dialog.field_labels["royaltyReceiver"].text() == "collection default"
    assert dialog.field_labels["royaltyBps"].text() == "collection default"
    assert dialog.field_labels["price"].text() == "0.1 ETH"
    redeemed = Seen()
    lw.buy_voucher(connection=connection, signer=bidder, voucher=voucher, confirm=redeemed)
    redeem = rows(qtbot, redeemed.previews[0])
    assert redeem["Price"] == "0.1 ETH" and redeem["Royalty"] == "the collection's default"
    assert redeem["Signature"].startswith("0x") and len(redeem["Signature"]) == 132
    assert redeem["Signed by"].startswith(artist.address)
    assert redeem["You send"] == "0.1 ETH" and redeem["The artist receives"] == "0.1 ETH"
    assert redeem["You receive"] == "the token, minted"
    assert not any(text.startswith("(") or text.startswith("[") for text in redeem.values())  # no raw tuple


def test_the_list_dialog_counts_a_royalty_paid_to_the_seller_as_theirs(qtbot, chain, wallet_state, pool) -> None:
    from studio.chain.contracts import CollectionContract
    from studio.ui.state.market import MarketState
    from studio.workflows.publish import file_commitment
    from wallet_helpers import unlock

    connection, _marketplace, library = chain
    artist = signer(0)
    collection = create_collection(connection=connection, signer=artist, library=library, name="Mine",
                                   symbol="MINE", royalty_receiver=ACCOUNT_1, royalty_bps=500).address
    token = CollectionContract(connection, collection).mint(artist, artist.address,
                                                            file_commitment(b'{"name": "mine"}')).first_token_id
    unlock(qtbot, wallet_state)
    state = MarketState(wallet_state, library, pool, sync_interval_ms=60_000)
    with qtbot.waitSignal(state.synced, timeout=JOB_MS):
        state.refresh()
    held = HeldToken(ACCOUNT_1, connection.chain_id, collection, token, False, None)
    dialog = SellDialog(state, held)
    qtbot.addWidget(dialog)
    dialog.price.setText("0.05")
    qtbot.waitUntil(lambda: dialog.quote is not None or bool(dialog.error.text()), timeout=JOB_MS)
    assert dialog.error.text() == ""
    assert dialog.royalty_line.text() == "0.0025 ETH to you (you are the royalty receiver)"
    assert dialog.proceeds_line.text().startswith("0.05 ETH  (the full price less the marketplace fee")
    state.stop()
