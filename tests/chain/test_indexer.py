"""The market indexer on real nodes: decoded events, incremental scans, provider range caps,
re-orgs on anvil (snapshot, revert, other blocks) and the embedded devnet across a restart."""
from __future__ import annotations

import hashlib

import pytest

from studio.chain import indexer as ix
from studio.chain.anvil import AnvilProcess
from studio.chain.content import Commitment
from studio.chain.contracts import CollectionContract, MarketplaceContract
from studio.chain.indexer import IndexCursor, MarketIndexer
from studio.chain.transactions import Connection, LocalSigner
from studio.chain.vouchers import MintVoucher, sign_voucher
from studio.errors import NetworkError


def file_commitment(content: bytes) -> Commitment:
    """A single-file commitment (the digest is all the contract checks)."""
    return Commitment(hashlib.sha256(content).digest(), False)


def _indexer(world, **kwargs) -> MarketIndexer:
    return MarketIndexer(world.connection, world.market.address, collections=[world.collection.address], **kwargs)


def _listed(world, price: int, seller=None) -> int:
    seller = seller or world.artist
    token = world.mint(seller.address)
    world.collection.set_approval_for_all(seller, world.market.address)
    world.market.list(seller, world.collection.address, token, price)
    return token


def _start(world) -> IndexCursor:
    """A cursor that starts at the block the test's contracts were deployed in."""
    return IndexCursor(start_block=world.connection.web3.eth.block_number - 1)


def test_every_market_event_is_decoded_with_its_fields(world):
    market, collection = world.market, world.collection
    buyer, bidder = world.collectors[0], world.collectors[1]
    indexer = _indexer(world)
    start = _start(world)
    first = _listed(world, 1000)
    market.update_price(world.artist, collection.address, first, 900)
    market.buy(buyer, collection.address, first, 900)
    second = _listed(world, 5000)
    market.make_offer(bidder, collection.address, second, 40)
    market.make_offer(world.collectors[2], collection.address, second, 30)
    market.withdraw_offer(world.collectors[2], collection.address, second)
    market.accept_offer(world.artist, collection.address, second, bidder.address, 40)
    result = indexer.scan(start)
    market_kinds = [e.kind for e in result.events if e.contract == market.address]
    assert market_kinds == [ix.LISTED, ix.PRICE_CHANGED, ix.SOLD, ix.LISTED, ix.OFFER_MADE, ix.OFFER_EXPIRY,
                            ix.OFFER_MADE, ix.OFFER_EXPIRY, ix.OFFER_WITHDRAWN, ix.LISTING_CANCELLED,
                            ix.OFFER_ACCEPTED]
    expiry = next(e for e in result.events if e.kind == ix.OFFER_EXPIRY)
    assert (expiry.buyer, expiry.token_id, expiry.collection) == (bidder.address, second, collection.address)
    assert expiry.expiry > world.node.latest_timestamp() + 29 * 86_400  # the default: 30 days ahead
    sold = next(e for e in result.events if e.kind == ix.SOLD)
    assert (sold.collection, sold.token_id, sold.seller, sold.buyer, sold.price_wei) == (
        collection.address, first, world.artist.address, buyer.address, 900)
    assert (sold.royalty_receiver, sold.royalty_wei, sold.fee_wei) == (world.royalty_receiver.address, 45, 0)
    accepted = next(e for e in result.events if e.kind == ix.OFFER_ACCEPTED)
    assert (accepted.buyer, accepted.seller, accepted.price_wei, accepted.royalty_wei) == (
        bidder.address, world.artist.address, 40, 2)
    withdrawn = next(e for e in result.events if e.kind == ix.OFFER_WITHDRAWN)
    assert (withdrawn.buyer, withdrawn.price_wei) == (world.collectors[2].address, 30)
    # Transfers of the watched collection: mint, into custody, to the buyer.
    moves = [(e.token_id, e.seller, e.buyer) for e in result.events if e.kind == ix.TRANSFER and e.token_id == first]
    zero = "0x" + "00" * 20
    assert moves == [(first, zero, world.artist.address), (first, world.artist.address, market.address),
                     (first, market.address, buyer.address)]
    assert [e.block_number for e in result.events] == sorted(e.block_number for e in result.events)
    assert len({e.key for e in result.events}) == len(result.events)
    head = world.connection.web3.eth.block_number
    assert result.cursor.last_block == result.head == head
    assert result.cursor.recent[-1] == (head, "0x" + bytes(world.connection.web3.eth.get_block(head)["hash"]).hex())
    assert result.rolled_back_from is None


def test_scans_are_incremental_and_return_only_new_events(world):
    indexer = _indexer(world)
    first = indexer.scan(_start(world))
    token = _listed(world, 77)
    second = indexer.scan(first.cursor)
    assert [e.kind for e in second.events] == [ix.TRANSFER, ix.TRANSFER, ix.LISTED]
    assert all(e.block_number > first.cursor.last_block for e in second.events)
    third = indexer.scan(second.cursor)
    assert third.events == () and third.requests == 0
    assert third.cursor == second.cursor
    assert second.events[-1].token_id == token


def test_voucher_redemption_and_cancellation_are_indexed(world):
    indexer = _indexer(world)
    start = _start(world)
    voucher = MintVoucher(file_commitment(b'{"name": "lazy"}').digest, 10**15, nonce=7, expiry=2**40)
    signed = sign_voucher(LocalSigner(world.artist), voucher, world.collection.address, world.connection.chain_id)
    minted = world.collection.redeem(world.collectors[0], signed)
    world.collection.cancel_voucher(world.artist, 8)
    events = indexer.scan(start).events
    redeemed = next(e for e in events if e.kind == ix.VOUCHER_REDEEMED)
    assert (redeemed.nonce, redeemed.token_id, redeemed.buyer, redeemed.price_wei) == (
        7, minted.first_token_id, world.collectors[0].address, 10**15)
    assert [e.nonce for e in events if e.kind == ix.VOUCHER_CANCELLED] == [8]


def _capped_connection(url: str, cap: int):
    from web3 import Web3

    class Capped(Web3.HTTPProvider):
        refused = 0

        def make_request(self, method, params):
            if method == "eth_getLogs":
                span = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
                if span[1] - span[0] + 1 > cap:
                    Capped.refused += 1
                    return {"jsonrpc": "2.0", "id": 1,
                            "error": {"code": -32005, "message": f"query exceeds max block range {cap}"}}
            return super().make_request(method, params)

    provider = Capped(url)
    web3 = Web3(provider)
    return Connection(web3, int(web3.eth.chain_id)), Capped


def test_a_provider_range_cap_shrinks_the_chunk_and_loses_nothing(world):
    start = _start(world)
    tokens = [_listed(world, 100 + i) for i in range(4)]
    connection, provider = _capped_connection(world.node.url, cap=3)
    capped = MarketIndexer(connection, world.market.address, collections=[world.collection.address],
                           chunk_size=1000)
    result = capped.scan(start)
    assert provider.refused >= 1 and result.requests > 2
    full = _indexer(world).scan(start)
    assert result.events == full.events
    assert [e.token_id for e in result.events if e.kind == ix.LISTED] == tokens


def test_a_reorg_is_detected_and_the_scan_restarts_at_the_fork(world):
    node, indexer = world.node, _indexer(world)
    token = world.mint()
    world.collection.set_approval_for_all(world.artist, world.market.address)
    base = indexer.scan(_start(world))
    fork_block = world.connection.web3.eth.block_number + 1
    snapshot = node.snapshot()
    world.market.list(world.artist, world.collection.address, token, 500)
    node.rpc("evm_mine")
    before = indexer.scan(base.cursor)
    assert [e.price_wei for e in before.events if e.kind == ix.LISTED] == [500]
    node.revert(snapshot)
    # The other branch: the same token listed at another price, one block later, then more blocks.
    node.rpc("evm_mine")
    world.market.list(world.artist, world.collection.address, token, 700)
    node.rpc("evm_mine")
    after = indexer.scan(before.cursor)
    assert after.rolled_back_from == fork_block
    listed = [e for e in after.events if e.kind == ix.LISTED]
    assert [e.price_wei for e in listed] == [700] and listed[0].block_number == fork_block + 1
    assert after.cursor.last_block == world.connection.web3.eth.block_number
    assert indexer.find_fork(after.cursor) is None


def test_a_reorg_deeper_than_the_window_rescans_from_the_start(world):
    node = world.node
    indexer = _indexer(world, window=2)
    start = _start(world)
    snapshot = node.snapshot()
    _listed(world, 11)
    node.rpc("anvil_mine", ["0x3"])
    first = indexer.scan(start)
    node.revert(snapshot)
    node.rpc("anvil_mine", ["0x6"])
    again = indexer.scan(first.cursor)
    assert again.rolled_back_from == start.start_block
    assert not [e for e in again.events if e.kind == ix.LISTED]


def test_an_unreachable_node_is_a_network_error_and_the_cursor_is_kept(accounts):
    process = AnvilProcess()
    try:
        connection = Connection.from_url(process.url, timeout=5)
        market, _ = MarketplaceContract.deploy(connection, accounts[8])
        indexer = MarketIndexer(connection, market.address)
        cursor = indexer.scan(IndexCursor()).cursor
    finally:
        process.stop()
    with pytest.raises(NetworkError, match="did not answer") as caught:
        indexer.scan(cursor)
    assert "node is running" in str(caught.value)


def test_the_devnet_indexer_continues_from_its_cursor_across_a_restart(tmp_path, accounts):
    from studio.chain.devnet import Devnet

    state = tmp_path / "devnet"
    devnet = Devnet(state)
    connection = devnet.connection()
    collection, _ = CollectionContract.deploy(connection, accounts[0], name="Restart", symbol="RST",
                                              royalty_receiver=accounts[9].address, royalty_bps=500)
    market, _ = MarketplaceContract.deploy(connection, accounts[8])
    collection.set_approval_for_all(accounts[0], market.address)
    first_token = collection.mint(accounts[0], accounts[0].address, file_commitment(b"a")).first_token_id
    market.list(accounts[0], collection.address, first_token, 10**15)
    indexer = MarketIndexer(connection, market.address, collections=[collection.address])
    before = indexer.scan(IndexCursor())
    saved = before.cursor.to_json()
    devnet.close()

    reopened = Devnet(state)
    try:
        connection = reopened.connection()
        collection = CollectionContract(connection, collection.address)
        market = MarketplaceContract(connection, market.address)
        market.buy(accounts[1], collection.address, first_token, 10**15)
        indexer = MarketIndexer(connection, market.address, collections=[collection.address])
        after = indexer.scan(IndexCursor.from_json(saved))
        assert after.rolled_back_from is None
        assert [e.kind for e in after.events] == [ix.TRANSFER, ix.SOLD]
        assert not {e.key for e in after.events} & {e.key for e in before.events}
    finally:
        reopened.close()


def test_a_collection_added_later_is_backfilled(world):
    start = _start(world)
    token = world.mint()
    market_only = MarketIndexer(world.connection, world.market.address)
    cursor = market_only.scan(start).cursor
    assert cursor.collections == ()
    watched = _indexer(world).scan(cursor)
    assert [(e.kind, e.token_id) for e in watched.events] == [(ix.TRANSFER, token)]
    assert watched.cursor.collections == (world.collection.address,)
