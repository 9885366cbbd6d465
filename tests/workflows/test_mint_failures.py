"""Failure points of minting and buying that tests/workflows/test_mint.py does not cover, each leaving the
library consistent with the chain: a storage backend that fails midway (what was stored is recorded
truthfully, nothing is minted, a retry stores only what is missing), a mint that passes the simulation
but reverts once mined (failed with its transaction, mintable again), and a node that stops answering
right after the mint or the purchase was broadcast (a loopback proxy between the studio and anvil
refuses connections from then on): the workflow raises NetworkError saying the transaction was sent,
the attempt stays "sent" with its hash, and once the node answers again a rerun records the landed
tokens without minting again, and a market sync shows the purchase.
"""
from __future__ import annotations

import json
import socket
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Iterator

import pytest

from studio.errors import InputError, NetworkError, StorageError
from studio.library.db import Library
from studio.workflows.collections import create_collection
from studio.workflows.mint import MintItem, mint_works

TEST_MNEMONIC = "test test test test test test test test test test test junk"
COLOURS = [(210, 90, 30), (30, 90, 210), (90, 210, 30)]
PRICE = 10**17


def _signers(count: int = 10) -> list[Any]:
    from eth_account import Account

    from studio.chain.transactions import LocalSigner

    Account.enable_unaudited_hdwallet_features()
    return [LocalSigner(Account.from_mnemonic(TEST_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}"))
            for i in range(count)]


@pytest.fixture
def signers() -> list[Any]:
    return _signers()


@pytest.fixture
def library(studio_home: Path) -> Iterator[Library]:
    with Library.default() as lib:
        yield lib


@pytest.fixture
def store(studio_home: Path):
    from studio.storage.store import LocalStore

    return LocalStore.default()


@pytest.fixture
def works(tmp_path: Path) -> list[Path]:
    from PIL import Image

    paths = []
    for index, colour in enumerate(COLOURS):
        path = tmp_path / f"work-{index}.png"
        Image.new("RGB", (24, 16), colour).save(path)
        paths.append(path)
    return paths


# ---- a storage backend that fails midway ---------------------------------------------------------


class MidwayFailingStore:
    """The local store, except that the ``fail_at``-th write (1-based) raises StorageError, as a pinning
    service does when it goes away in the middle of a run. Records every write it is asked for."""

    def __init__(self, inner: Any, fail_at: int | None) -> None:
        self.inner = inner
        self.name = inner.name
        self.fail_at = fail_at
        self.writes: list[str] = []

    def _write(self, what: str) -> None:
        self.writes.append(what)
        if self.fail_at is not None and len(self.writes) == self.fail_at:
            raise StorageError(f"The pinning service stopped answering while storing {what}.",
                               hint="Check the connection and try again.")

    def add_path(self, path: Path, **options: Any):
        self._write(Path(path).name)
        return self.inner.add_path(path, **options)

    def add_bytes(self, data: bytes, **options: Any):
        self._write("metadata" if data.startswith(b"{") else "bytes")
        return self.inner.add_bytes(data, **options)

    def has(self, cid: Any) -> bool:
        return self.inner.has(cid)


@pytest.fixture
def devnet(studio_home: Path):
    from studio.chain.devnet import Devnet

    devnet = Devnet.shared()
    yield devnet
    devnet.close()


@pytest.mark.parametrize("fail_at, stored_before", [(3, 1), (5, 2)],
                         ids=["second-image", "batch-folder"])
def test_a_store_failing_midway_records_what_was_stored_mints_nothing_and_a_retry_stores_only_the_rest(
        devnet, signers, library, store, works, fail_at, stored_before):
    """A batch of two: writes are image 0, metadata 0, image 1, metadata 1, then the batch folder."""
    from studio.chain.contracts import CollectionContract
    from studio.storage.cid import Cid

    connection = devnet.connection()
    artist = signers[0]
    collection = create_collection(connection=connection, signer=artist, library=library, name="Dawns",
                                   symbol="DAWN", royalty_receiver=artist.address, royalty_bps=500)
    items = [MintItem(path, f"Dawn {i}") for i, path in enumerate(works[:2])]
    nonce = connection.web3.eth.get_transaction_count(artist.address)
    failing = MidwayFailingStore(store, fail_at)
    with pytest.raises(StorageError, match="stopped answering"):
        mint_works(items, collection, signer=artist, connection=connection, store=failing, library=library)

    # Nothing left the studio; the works whose image and metadata were both stored say so, the others nothing.
    contract = CollectionContract(connection, collection.address)
    assert contract.total_supply() == 0 and library.tokens(connection.chain_id) == []
    assert connection.web3.eth.get_transaction_count(artist.address) == nonce
    attempts = library.attempts(chain_id=connection.chain_id)
    assert [a.state for a in attempts] == ["uploaded"] * stored_before
    for attempt in attempts:
        assert attempt.tx_hash is None and store.has(Cid.parse(attempt.media_cid))
        assert store.has(Cid.parse(attempt.metadata_cid))

    # The retry stores only what is missing, mints both once, and reuses the recorded attempts.
    retry = MidwayFailingStore(store, None)
    result = mint_works(items, collection, signer=artist, connection=connection, store=retry, library=library)
    expected = ["work-1.png", "metadata"] if stored_before == 1 else []
    assert retry.writes == expected + ["batch"]
    assert [m.token.token_id for m in result.minted] == [1, 2] and contract.total_supply() == 2
    minted = library.attempts(chain_id=connection.chain_id)
    assert [a.state for a in minted] == ["minted", "minted"]
    assert [a.id for a in minted[:stored_before]] == [a.id for a in attempts]
    assert {a.tx_hash for a in minted} == {result.tx_hash}


# ---- a node that stops answering after the broadcast -------------------------------------------------


class _ForwardingHandler(BaseHTTPRequestHandler):
    """One JSON-RPC request, forwarded to the node (HTTP/1.0: one request per connection)."""

    server: "DroppingRpcProxy"  # type: ignore[assignment]

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        proxy = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = json.loads(body)
        method = request.get("method") if isinstance(request, dict) else "batch"
        forwarded = urllib.request.Request(proxy.upstream, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(forwarded, timeout=30) as response:
            answer = response.read()
        proxy.methods.append(method)
        if method == proxy.drop_after:
            proxy.go_down()  # before the answer leaves: the studio's next request is refused
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass


class DroppingRpcProxy:
    """A loopback HTTP proxy in front of a node. After forwarding ``drop_after`` (a JSON-RPC method)
    it closes its listening socket, so every later connection is refused, until ``come_back``
    listens again on the same port: a node or network that drops away mid-wait."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.methods: list[str] = []
        self.drop_after: str | None = None
        self.port = 0
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self.come_back()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def is_up(self) -> bool:
        return self._listener is not None

    def come_back(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self.port = listener.getsockname()[1]
        self.drop_after = None
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="rpc-proxy", daemon=True).start()

    def go_down(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below
            except OSError:
                pass
            listener.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                connection, address = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection, address), daemon=True).start()

    def _serve(self, connection: socket.socket, address: Any) -> None:
        with connection:
            try:
                _ForwardingHandler(connection, address, self)
            except OSError:
                pass


@pytest.fixture(scope="module")
def anvil_url() -> Iterator[str]:
    from studio.chain.anvil import AnvilProcess, anvil_binary

    if not anvil_binary().exists():
        pytest.fail(f"The anvil test node is missing ({anvil_binary()}). Run `python3 dev.py test`.", pytrace=False)
    with AnvilProcess() as node:
        yield node.url


@pytest.fixture
def proxy(anvil_url: str) -> Iterator[DroppingRpcProxy]:
    proxy = DroppingRpcProxy(anvil_url)
    yield proxy
    proxy.go_down()


def test_a_mint_that_reverts_on_chain_after_it_was_sent_is_failed_with_its_transaction_and_mintable_again(
        anvil_url, signers, library, store, works):
    """Unlike a refusal seen in the simulation (test_mint.py), this mint is mined and reverts: the collection's
    owner changes (anvil_setStorageAt) between the broadcast and the block that includes it."""
    from studio.chain.contracts import CollectionContract
    from studio.chain.transactions import Connection
    from studio.errors import ChainError

    artist, stranger = signers[0], signers[5]
    connection = Connection.from_url(anvil_url)
    rpc = connection.web3.provider.make_request
    collection = create_collection(connection=connection, signer=artist, library=library, name="Storms",
                                   symbol="STM", royalty_receiver=signers[9].address, royalty_bps=0)
    (owner_slot,) = [slot for slot in range(32) if connection.web3.eth.get_storage_at(
        collection.address, slot)[-20:].hex() == artist.address[2:].lower()]  # Ownable's owner

    def set_owner(address: str) -> None:
        assert "error" not in rpc("anvil_setStorageAt", [collection.address, hex(owner_slot),
                                                         "0x" + address[2:].lower().rjust(64, "0")])

    def takeover(fraction: float, line: str) -> None:
        if line.startswith("Waiting for"):  # sent and recorded, not mined yet
            set_owner(stranger.address)
            rpc("evm_mine", [])

    items = [MintItem(works[0], "Storm")]
    rpc("evm_setAutomine", [False])
    try:
        with pytest.raises(ChainError, match="owner") as caught:
            mint_works(items, collection, signer=artist, connection=connection, store=store, library=library,
                       progress=takeover)
    finally:
        rpc("evm_setAutomine", [True])
        set_owner(artist.address)
    (failed,) = library.attempts(chain_id=connection.chain_id)
    assert failed.state == "failed" and failed.error == str(caught.value)
    receipt = connection.web3.eth.get_transaction_receipt(failed.tx_hash)  # the reverted transaction, kept
    assert receipt["status"] == 0
    contract = CollectionContract(connection, collection.address)
    assert contract.total_supply() == 0 and library.tokens(connection.chain_id) == []

    result = mint_works(items, collection, signer=artist, connection=connection, store=store, library=library)
    assert result.minted[0].token.token_id == 1 and contract.total_supply() == 1
    assert [a.state for a in library.attempts(chain_id=connection.chain_id)] == ["failed", "minted"]
    assert result.minted[0].token.metadata_cid == failed.metadata_cid


def test_the_node_dropping_after_the_mint_was_broadcast_leaves_it_sent_and_a_rerun_records_it_once(
        proxy, anvil_url, signers, library, store, works):
    from studio.chain.contracts import CollectionContract
    from studio.chain.transactions import Connection

    artist = signers[0]
    direct = Connection.from_url(anvil_url)
    through_proxy = Connection.from_url(proxy.url)
    collection = create_collection(connection=direct, signer=artist, library=library, name="Nights",
                                   symbol="NGT", royalty_receiver=artist.address, royalty_bps=250)
    items = [MintItem(path, f"Night {i}") for i, path in enumerate(works[:2])]
    options = dict(signer=artist, connection=through_proxy, store=store, library=library)

    proxy.drop_after = "eth_sendRawTransaction"
    with pytest.raises(NetworkError) as caught:
        mint_works(items, collection, **options)
    assert not proxy.is_up and proxy.methods[-1] == "eth_sendRawTransaction"
    sent = library.attempts(chain_id=direct.chain_id)
    assert [a.state for a in sent] == ["sent", "sent"] and sent[0].tx_hash == sent[1].tx_hash
    tx_hash = sent[0].tx_hash
    message = str(caught.value)
    assert tx_hash in message and "was sent" in message and "again" in message
    assert library.tokens(direct.chain_id) == []
    # The transaction did land while the studio could not see it.
    contract = CollectionContract(direct, collection.address)
    assert contract.total_supply() == 2
    nonce = direct.web3.eth.get_transaction_count(artist.address)

    # While the node is still away, a rerun fails the same way and changes nothing.
    with pytest.raises(NetworkError):
        mint_works(items, collection, **options)
    assert [a.state for a in library.attempts(chain_id=direct.chain_id)] == ["sent", "sent"]

    proxy.come_back()
    result = mint_works(items, collection, **options)
    assert result.tx_hash is None and all(m.recovered for m in result.minted)
    assert [(m.token.token_id, m.token.tx_hash, m.token.owner) for m in result.minted] == [
        (1, tx_hash, artist.address), (2, tx_hash, artist.address)]
    assert contract.total_supply() == 2
    assert direct.web3.eth.get_transaction_count(artist.address) == nonce  # nothing was sent again
    assert [a.state for a in library.attempts(chain_id=direct.chain_id)] == ["minted", "minted"]
    assert [t.token_id for t in library.tokens(direct.chain_id, collection.address)] == [1, 2]
    with pytest.raises(InputError, match="already minted"):
        mint_works(items[:1], collection, **options)


def test_the_node_dropping_after_a_purchase_was_broadcast_and_a_sync_afterwards_shows_it(
        proxy, anvil_url, signers, library, store, works):
    from studio.chain.contracts import CollectionContract, MarketplaceContract
    from studio.chain.transactions import Connection
    from studio.library.market import SOLD_STATUS, MarketStore
    from studio.workflows import market as wm
    from studio.workflows import lazy_listings as lw

    artist, buyer, receiver, operator = signers[0], signers[1], signers[9], signers[8]
    direct = Connection.from_url(anvil_url)
    through_proxy = Connection.from_url(proxy.url)
    collection = create_collection(connection=direct, signer=artist, library=library, name="Tides",
                                   symbol="TDE", royalty_receiver=receiver.address, royalty_bps=500)
    marketplace, _ = MarketplaceContract.deploy(direct, operator)
    (minted,) = mint_works([MintItem(works[2], "Tide")], collection, signer=artist, connection=direct, store=store,
                           library=library).minted
    token_id = minted.token.token_id
    market = MarketStore(library)
    common = {"marketplace": marketplace.address, "collection": collection.address, "store": market,
              "confirm": lambda preview: True}
    wm.list_token(connection=direct, signer=artist, token_id=token_id, price_wei=PRICE, **common)
    assert [l.token_id for l in market.active_listings(direct.chain_id)] == [token_id]
    before = {s.address: direct.balance(s.address) for s in (artist, buyer, receiver)}

    proxy.drop_after = "eth_sendRawTransaction"
    with pytest.raises(NetworkError) as caught:
        wm.buy_listing(connection=through_proxy, signer=buyer, token_id=token_id, expected_price_wei=PRICE, **common)
    message = str(caught.value)
    assert "Buying the token" in message and "was sent" in message and "0x" in message
    tx_hash = "0x" + message.split("0x", 1)[1][:64]
    # The library has not seen the purchase yet; the chain has.
    assert [l.token_id for l in market.active_listings(direct.chain_id)] == [token_id]
    assert CollectionContract(direct, collection.address).owner_of(token_id) == buyer.address

    proxy.come_back()
    wm.sync_market(through_proxy, marketplace.address, market)
    assert market.active_listings(direct.chain_id) == []
    sold = market.listing(direct.chain_id, collection.address, token_id)
    assert (sold.status, sold.buyer) == (SOLD_STATUS, buyer.address)
    assert [t.token_id for t in market.my_tokens(direct.chain_id, buyer.address)] == [token_id]
    assert market.my_tokens(direct.chain_id, artist.address) == []
    receipt = direct.web3.eth.get_transaction_receipt(tx_hash)
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    royalty = PRICE * 500 // 10_000
    assert before[buyer.address] - direct.balance(buyer.address) == PRICE + fee  # paid once
    assert direct.balance(artist.address) - before[artist.address] == PRICE - royalty
    assert direct.balance(receiver.address) - before[receiver.address] == royalty
    with pytest.raises(InputError, match="not listed"):  # buying again is refused before any preview
        wm.buy_listing(connection=through_proxy, signer=buyer, token_id=token_id, **common)


def test_the_node_dropping_after_a_lazy_purchase_was_broadcast_and_a_sync_afterwards_shows_the_minted_token(
        proxy, anvil_url, signers, library, store):
    from studio.chain.contracts import CollectionContract, MarketplaceContract
    from studio.chain.transactions import Connection
    from studio.library.market import REDEEMED, MarketStore
    from studio.workflows import market as wm
    from studio.workflows import lazy_listings as lw

    artist, buyer, operator = signers[0], signers[2], signers[8]
    direct = Connection.from_url(anvil_url)
    through_proxy = Connection.from_url(proxy.url)
    collection = create_collection(connection=direct, signer=artist, library=library, name="Drifts",
                                   symbol="DRF", royalty_receiver=artist.address, royalty_bps=0)
    marketplace, _ = MarketplaceContract.deploy(direct, operator)
    market = MarketStore(library)
    row = lw.lazy_list(connection=direct, signer=artist, store=market, collection=collection.address,
                       metadata=b'{"name": "Drift, unminted"}', price_wei=PRICE, confirm=lambda preview: True,
                       content_store=store)
    artist_before = direct.balance(artist.address)

    proxy.drop_after = "eth_sendRawTransaction"
    with pytest.raises(NetworkError, match="was sent"):
        lw.buy_voucher(connection=through_proxy, signer=buyer, voucher=row, confirm=lambda preview: True,
                       store=market, marketplace=marketplace.address)
    assert market.voucher(row.id).status != REDEEMED  # not seen yet
    contract = CollectionContract(direct, collection.address)
    assert contract.total_supply() == 1 and contract.owner_of(1) == buyer.address

    proxy.come_back()
    wm.sync_market(through_proxy, marketplace.address, market)
    redeemed = market.voucher(row.id)
    assert (redeemed.status, redeemed.token_id, redeemed.redeemer) == (REDEEMED, 1, buyer.address)
    assert market.vouchers(direct.chain_id) == []
    assert [t.token_id for t in market.my_tokens(direct.chain_id, buyer.address)] == [1]
    assert direct.balance(artist.address) - artist_before == PRICE
    with pytest.raises(InputError, match="already bought"):
        lw.buy_voucher(connection=through_proxy, signer=buyer, voucher=row.voucher_json,
                       confirm=lambda preview: True)
