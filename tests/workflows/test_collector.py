"""The collector view's workflow against collections the studio did not create: the HostileNFT (every
token a good card or an error card with a reason, on the devnet and on anvil), a plain OpenZeppelin
collection without ERC721Enumerable (token ids from Transfer logs, cached and read incrementally, read
again after a re-org), untrusted images and texts, "My collection", and buying a token of a foreign
collection after its holder listed it on the studio marketplace."""
from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from studio.chain.transactions import Connection, LocalSigner
from studio.errors import NotFound
from studio.library.collections_cache import CollectionsCache
from studio.library.db import Library
from studio.storage.fetch import VerifiedFetcher
from studio.storage.store import LocalStore
from studio.workflows import collector as wc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile_collection import ERROR, GOOD, HTML_NAME, NO_IMAGE, bomb_png, deploy_hostile, png_bytes  # noqa: E402


def _chain_fixtures():
    """tests/chain/conftest.py's anvil node helpers, loaded under another name (its fixtures are not
    visible from this folder)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("chain_conftest", Path(__file__).resolve().parents[1] / "chain"
                                                  / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def anvil():
    from studio.chain.anvil import AnvilProcess, anvil_binary

    if not anvil_binary().exists():
        pytest.fail(f"The anvil test node is missing ({anvil_binary()}). Run `python3 dev.py test`.", pytrace=False)
    process = AnvilProcess()
    try:
        yield _chain_fixtures().AnvilNode(process)
    finally:
        process.stop()


@pytest.fixture
def chain(anvil):
    snapshot_id = anvil.snapshot()
    try:
        yield anvil
    finally:
        anvil.revert(snapshot_id)


@pytest.fixture(scope="module")
def accounts():
    from eth_account import Account

    from studio.chain.anvil import TEST_MNEMONIC

    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(TEST_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(6)]


@pytest.fixture
def library(studio_home):
    with Library.default() as library:
        yield library


def _fetcher() -> VerifiedFetcher:
    return VerifiedFetcher.default(gateways=())


def _check_every_token(connection, deployer, holder: str, library: Library, marketplace: str | None) -> None:
    hostile = deploy_hostile(connection, deployer, LocalStore.default(), to=holder)
    view = wc.open_collection(hostile.address, connection=connection, library=library)
    assert view.name == "<b>Hostile</b> <img src=x onerror=alert(1)>"
    assert view.enumerable and view.token_count == len(hostile.expected)
    streamed: list[tuple[int, wc.TokenCard]] = []
    started = time.monotonic()
    cards = wc.token_page(view, 0, 100, connection=connection, library=library, fetcher=_fetcher(),
                          marketplace=marketplace, on_card=lambda position, card: streamed.append((position, card)))
    assert time.monotonic() - started < 60
    assert [card for _, card in sorted(streamed, key=lambda item: item[0])] == cards
    assert [c.token_id for c in cards] == sorted(hostile.expected)
    for card in cards:
        kind = hostile.expected[card.token_id]
        label = hostile.labels[card.token_id]
        if kind == ERROR:
            assert card.problem, label
            assert card.name == f"Token {card.token_id}"
        else:
            assert card.ok, (label, card.problem)
            assert (card.image is not None) == (kind == GOOD), (label, card.image_note)
            if kind == NO_IMAGE:
                assert card.image_note
        if label != "garbage":
            assert card.owner == holder, label
    by_label = {hostile.labels[c.token_id]: c for c in cards}
    assert by_label["good-ipfs"].traits == (("Colour", "green"), ("Size", "32"))
    assert by_label["good-ipfs"].royalty_bps == 750
    assert by_label["html-name"].name == HTML_NAME  # kept as text; the GUI shows it as plain text
    assert "\u202e" not in by_label["html-name"].description
    assert "SVG image not shown" in by_label["svg-image"].image_note
    assert "decompression bomb" in by_label["bomb-image"].image_note
    assert "javascript:" in by_label["javascript-uri"].problem
    assert "file:" in by_label["file-uri"].problem
    assert "1,048,576" in by_label["oversized-json"].problem
    assert "nested more than" in by_label["nested-json"].problem
    assert "400,064 bytes" in by_label["huge-string"].problem
    preview = Image.open(io.BytesIO(by_label["good-data"].image))
    assert preview.format == "PNG" and preview.size == (32, 32)


@pytest.mark.slow
def test_every_hostile_token_becomes_a_card_or_an_error_card_on_the_devnet(library):
    from studio.chain.devnet import Devnet, devnet_account_signer

    devnet = Devnet(None)
    try:
        marketplace = devnet.studio_contracts()["StudioMarketplace"]
        _check_every_token(devnet.connection(), devnet_account_signer(0), devnet_account_signer(1).address, library,
                           marketplace)
    finally:
        devnet.close()


def test_every_hostile_token_becomes_a_card_or_an_error_card_on_anvil(chain, accounts, library):
    _check_every_token(Connection.from_url(chain.url), LocalSigner(accounts[0]), accounts[1].address, library, None)


def _oz_collection(connection, owner):
    from studio.chain.artifacts import load_artifact

    artifact = load_artifact("OZURIStorageReference")
    factory = connection.web3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = connection.send(owner, factory.constructor())
    return connection.web3.eth.contract(address=receipt.contract_address, abi=artifact.abi)


def _mint(connection, owner, contract, to: str, name: str) -> None:
    from hostile_collection import data_json

    connection.send(owner, contract.functions.mint(to, data_json({"name": name})))


def test_tokens_of_a_plain_collection_come_from_transfer_logs_read_incrementally(chain, accounts, library):
    connection = Connection.from_url(chain.url)
    artist, collector = LocalSigner(accounts[0]), accounts[2].address
    oz = _oz_collection(connection, artist)
    for name in ("One", "Two", "Three"):
        _mint(connection, artist, oz, artist.address, name)

    view = wc.open_collection(oz.address, connection=connection, library=library)
    assert (view.name, view.symbol, view.enumerable, view.token_count) == ("OZ Reference", "OZR", False, 3)
    assert "ERC2981" not in view.standards
    cache = CollectionsCache(library)
    first_read = cache.collection(connection.chain_id, oz.address).last_block
    assert first_read == connection.web3.eth.block_number

    _mint(connection, artist, oz, collector, "Four")
    connection.send(artist, oz.functions.transferFrom(artist.address, collector, 1))
    requested: list[tuple[int, int]] = []
    real = connection.web3.eth.get_logs

    def spy(params):
        requested.append((params["fromBlock"], params["toBlock"]))
        return real(params)

    connection.web3.eth.get_logs = spy
    view = wc.open_collection(oz.address, connection=connection, library=library)
    assert view.token_count == 4
    assert requested and min(start for start, _ in requested) == first_read + 1  # only new blocks
    cards = wc.token_page(view, 0, 10, connection=connection, library=library, fetcher=_fetcher())
    assert [(c.token_id, c.name, c.owner) for c in cards] == [
        (1, "One", collector), (2, "Two", artist.address), (3, "Three", artist.address), (4, "Four", collector)]
    assert all(c.royalty_bps is None for c in cards)
    assert [(h.token_id, h.owner) for h in cache.held_by(connection.chain_id, [collector])] == [
        (1, collector), (4, collector)]
    assert wc.token_page(view, 2, 10, connection=connection, library=library, fetcher=_fetcher())[0].name == "Three"


def test_a_reorganised_chain_is_read_again(chain, accounts, library):
    connection = Connection.from_url(chain.url)
    artist = LocalSigner(accounts[0])
    oz = _oz_collection(connection, artist)
    before = chain.snapshot()
    for name in ("A", "B", "C"):
        _mint(connection, artist, oz, artist.address, name)
    assert wc.open_collection(oz.address, connection=connection, library=library).token_count == 3

    chain.revert(before)  # those blocks are gone; others take their heights
    chain.rpc("evm_mine")
    _mint(connection, artist, oz, accounts[3].address, "Z")
    chain.rpc("evm_mine")
    chain.rpc("evm_mine")
    view = wc.open_collection(oz.address, connection=connection, library=library)
    assert view.token_count == 1
    cards = wc.token_page(view, 0, 10, connection=connection, library=library, fetcher=_fetcher())
    assert [(c.token_id, c.name, c.owner) for c in cards] == [(1, "Z", accounts[3].address)]


def test_opening_an_account_is_refused_and_recent_collections_are_listed_latest_first(chain, accounts, library):
    connection = Connection.from_url(chain.url)
    with pytest.raises(NotFound, match="no contract"):
        wc.open_collection(accounts[4].address, connection=connection, library=library)
    artist = LocalSigner(accounts[0])
    first, second = _oz_collection(connection, artist), _oz_collection(connection, artist)
    wc.open_collection(first.address, connection=connection, library=library)
    wc.open_collection(second.address, connection=connection, library=library)
    wc.open_collection(first.address, connection=connection, library=library)
    recent = wc.recent_collections(library, connection.chain_id)
    assert [c.address for c in recent] == [first.address, second.address]
    assert recent[0].name == "OZ Reference"


def test_untrusted_images_are_checked_before_decoding():
    out = io.BytesIO()
    Image.new("RGB", (2000, 1000), (1, 2, 3)).save(out, format="JPEG")
    preview, note = wc.safe_preview(out.getvalue(), "image/jpeg")
    assert note is None and Image.open(io.BytesIO(preview)).size == (512, 256)
    assert wc.safe_preview(b"<svg xmlns='http://www.w3.org/2000/svg'/>")[1] == wc.SVG_NOTE
    assert wc.safe_preview(png_bytes((1, 1, 1)), "image/svg+xml")[1] == wc.SVG_NOTE
    assert "web page" in wc.safe_preview(b"<!DOCTYPE html><html></html>")[1]
    assert "decompression bomb" in wc.safe_preview(bomb_png())[1]
    assert "8,000×6,000 = 48,000,000 pixels, over the limit of 40,000,000" in wc.safe_preview(bomb_png(8000, 6000))[1]
    assert "could not be decoded" in wc.safe_preview(png_bytes((1, 1, 1))[:60])[1]
    assert "could not be decoded" in wc.safe_preview(b"BM" + b"\0" * 100)[1]  # BMP is not offered


def test_texts_from_strangers_are_cut_and_cleaned():
    assert wc.clean_text("a\x00b\u202ec\u2066d\x1b[31m", 100) == "abcd[31m"
    assert wc.clean_text("x" * 500, 10) == "x" * 9 + "…"
    assert wc.clean_text(["not", "text"], 10) == ""
    assert wc.clean_text("a\n\n\n\n\nb", 10) == "a\n\nb"


def test_a_foreign_token_listed_on_the_studio_marketplace_is_bought_and_shows_in_my_collection(library):
    from studio.chain.devnet import Devnet, devnet_account_signer
    from studio.workflows import market as wm

    devnet = Devnet(None)
    try:
        connection = devnet.connection()
        marketplace = devnet.studio_contracts()["StudioMarketplace"]
        deployer, holder, buyer = (devnet_account_signer(i) for i in range(3))
        hostile = deploy_hostile(connection, deployer, LocalStore.default(), to=holder.address,
                                 only=("good-data", "good-ipfs", "revert"))
        view = wc.open_collection(hostile.address, connection=connection, library=library)
        mine = wc.my_collection(connection=connection, library=library, owners=[holder.address],
                                marketplace=marketplace)
        assert mine == [(hostile.address, 1), (hostile.address, 2), (hostile.address, 3)]

        # The holder approves the studio marketplace and lists token 2 (two previews: approve, list).
        seen: list = []
        wm.list_token(connection=connection, signer=holder, marketplace=marketplace, collection=hostile.address,
                      token_id=2, price_wei=10**17, confirm=lambda p: seen.append(p) or True)
        assert len(seen) == 2
        card = wc.token_page(view, 1, 1, connection=connection, library=library, fetcher=_fetcher(),
                             marketplace=marketplace)[0]
        assert (card.token_id, card.listing_price_wei, card.listing_seller, card.owner) == (
            2, 10**17, holder.address, holder.address)
        assert wc.my_collection(connection=connection, library=library, owners=[holder.address],
                                marketplace=marketplace) == [(hostile.address, 1), (hostile.address, 2),
                                                             (hostile.address, 3)]

        receiver_before = connection.balance(deployer.address)
        wm.buy_listing(connection=connection, signer=buyer, marketplace=marketplace, collection=hostile.address,
                       token_id=2, confirm=lambda p: True, expected_price_wei=10**17)
        assert connection.balance(deployer.address) - receiver_before == 10**17 * 750 // 10_000  # ERC-2981 paid
        assert wc.my_collection(connection=connection, library=library, owners=[buyer.address],
                                marketplace=marketplace) == [(hostile.address, 2)]
        assert (hostile.address, 2) not in wc.my_collection(connection=connection, library=library,
                                                            owners=[holder.address], marketplace=marketplace)
        cards = wc.read_cards([(hostile.address, 2)], connection=connection, library=library, fetcher=_fetcher(),
                              marketplace=marketplace)
        assert (cards[0].owner, cards[0].listing_price_wei) == (buyer.address, None)
    finally:
        devnet.close()


def test_a_slow_token_does_not_stall_the_page_and_private_links_are_refused(chain, accounts, library):
    """Token 1's metadata comes from a gateway dripping a byte every quarter second; tokens 2 and 3 are
    fine; tokens 4 and 5 link to this computer. Cards arrive as they are ready: the good ones before the
    slow one, which ends at the fetch deadline as an error card; the private links are never asked."""
    from hostile_servers import counting, drip

    from studio.storage.cid import cid_v1_raw_of

    connection = Connection.from_url(chain.url)
    artist = LocalSigner(accounts[0])
    oz = _oz_collection(connection, artist)
    with drip(interval=0.25, limit=400) as (slow_gateway, log), counting() as (port, asked):
        uris = [f"ipfs://{cid_v1_raw_of(b'metadata only the slow gateway has')}", None, None,
                f"https://127.0.0.1:{port}/metadata.json", f"https://0x7f000001:{port}/metadata.json"]
        for index, uri in enumerate(uris):
            if uri is None:
                _mint(connection, artist, oz, artist.address, f"Quick {index}")
            else:
                connection.send(artist, oz.functions.mint(artist.address, uri))
        fetcher = VerifiedFetcher.default(gateways=(slow_gateway,))
        fetcher.deadline = 2.0
        order: list[int] = []
        cards = wc.read_cards([(oz.address, token) for token in range(1, 6)], connection=connection, library=library,
                              fetcher=fetcher, on_card=lambda position, card: order.append(position))
        assert asked == []
    assert sorted(order) == [0, 1, 2, 3, 4] and order[-1] == 0  # the slow token came last, the others did not wait
    assert [card.token_id for card in cards] == [1, 2, 3, 4, 5]
    assert "did not finish within 2 s" in cards[0].problem
    assert (cards[1].name, cards[2].name) == ("Quick 1", "Quick 2")
    assert all("private network" in card.problem for card in cards[3:])
    assert log.finished == 0
