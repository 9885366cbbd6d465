"""Orders on OpenSea through the workflow: the key kept encrypted in the wallet, each order the studio
signs posted (a collection offer kept home), OpenSea's listings read into the library's order book
only when signed by their offerer. Against the loopback stand-in of tests/opensea_server.py, on
chain 1 with the canonical Seaport (no node: nothing here fills an order)."""
from __future__ import annotations

import pytest
from eth_account import Account

from studio.chain.opensea import OpenSeaClient
from studio.chain.seaport import CANONICAL_SEAPORT, SaleTerms, SignedOrder, listing_order, offer_order, sign_order
from studio.chain.transactions import LocalSigner
from studio.chain.wallet import Wallet
from studio.errors import InputError, NotFound
from studio.library.orders import OrderStore
from studio.retry import RetryPolicy
from studio.workflows.opensea_orders import (KEY_ENV, OPENSEA_SECRET, fetch_orders, opensea_client, opensea_key,
                                             publisher, serves)
from studio.workflows.seaport_market import SeaportVenue

from opensea_server import opensea

KEY = "os-wallet-key-81d2"
COLLECTION = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
VENUE = SeaportVenue(CANONICAL_SEAPORT, WETH)
SELLER = LocalSigner(Account.from_key(b"\x31" * 32))
BUYER = LocalSigner(Account.from_key(b"\x32" * 32))
FAST = RetryPolicy(attempts=2, first_delay=0.01, max_delay=0.01)


def _listing(token_id: int, signer: LocalSigner = SELLER) -> SignedOrder:
    components = listing_order(seller=signer.address, collection=COLLECTION, token_id=token_id,
                               terms=SaleTerms.split(10**17, signer.address), start_time=1_700_000_000,
                               end_time=4_000_000_000, counter=0)
    return sign_order(signer, components, 1, CANONICAL_SEAPORT)


def _offer(token_id: int | None) -> SignedOrder:
    components = offer_order(buyer=BUYER.address, weth=WETH, collection=COLLECTION, token_id=token_id,
                             amount_wei=10**16, start_time=1_700_000_000, end_time=4_000_000_000, counter=0)
    return sign_order(BUYER, components, 1, CANONICAL_SEAPORT)


def test_the_key_is_kept_encrypted_in_the_wallet_and_the_environment_wins(tmp_path):
    wallet = Wallet(tmp_path / "wallet.json", kdf_n=2**4)
    wallet.create("pw-123456")
    wallet.set_service_secret(OPENSEA_SECRET, KEY, "pw-123456")
    assert KEY.encode() not in (tmp_path / "wallet.json").read_bytes()
    wallet.lock()
    assert opensea_key(wallet, env={}) is None  # locked: no key
    wallet.unlock("pw-123456")
    assert opensea_key(wallet, env={}) == KEY
    assert opensea_key(wallet, env={KEY_ENV: "from-env"}) == "from-env"
    with pytest.raises(InputError, match="No OpenSea API key"):
        opensea_client(None, 1)
    with pytest.raises(NotFound, match="does not serve chain 1337"):
        opensea_client(KEY, 1337)
    assert serves(1) and not serves(1337)


def test_signed_orders_are_posted_and_a_collection_offer_stays_home():
    listing, offer, collection_offer = _listing(1), _offer(1), _offer(None)
    with opensea(KEY) as (url, log):
        publish = publisher(OpenSeaClient(KEY, base_url=url, policy=FAST))
        for order in (listing, offer, collection_offer):
            publish(order)
    assert [p.order_hash for p in publish.posted] == ["0x" + o.order_hash.hex() for o in (listing, offer)]
    assert [r[1].rsplit("/", 1)[1] for r in log.requests] == ["listings", "offers"]
    assert [o["order_hash"] for o in log.orders["listings"] + log.orders["offers"]] == [
        p.order_hash for p in publish.posted]
    [(kept_hash, why)] = publish.kept_home
    assert kept_hash == "0x" + collection_offer.order_hash.hex() and "slug" in why
    with opensea("another key") as (url, log):
        refused = publisher(OpenSeaClient(KEY, base_url=url, policy=FAST))
        refused(listing)  # the signed listing stays valid here; the face says it is not on OpenSea
    assert refused.to_json() == {"posted": [], "not_posted": [
        {"order_hash": "0x" + listing.order_hash.hex(), "why": "OpenSea refused the API key: Invalid API key"}]}


def test_listings_read_from_opensea_join_the_order_book_only_with_their_offerers_signature(library):
    orders = OrderStore(library)
    with opensea(KEY) as (url, log):
        client = OpenSeaClient(KEY, base_url=url, policy=FAST)
        for token_id in (1, 2, 3):
            client.post_listing(_listing(token_id))
        genuine = log.orders["listings"][2]
        # Token 3's order as OpenSea lists it, with a signature from someone who is not its offerer.
        stranger = _listing(3, LocalSigner(Account.from_key(b"\x33" * 32)))
        forged = {**genuine, "protocol_data": {**genuine["protocol_data"],
                                               "signature": "0x" + stranger.signature.hex()}}
        log.extra_orders = [forged]
        result = fetch_orders(client, orders, 1, VENUE, collection=COLLECTION, max_pages=3)
        assert sorted(row.token_id for row in result.added) == [1, 2, 3]
        assert (result.refused, result.skipped) == (1, 0)
        again = fetch_orders(client, orders, 1, VENUE, collection=COLLECTION)
    assert len(again.added) == 3  # the same orders: kept once
    book = orders.orders(1, seaport=CANONICAL_SEAPORT, status=None, include_expired=True)
    assert sorted((row.kind, row.token_id, row.offerer) for row in book) == [
        ("listing", t, SELLER.address) for t in (1, 2, 3)]
    with pytest.raises(InputError, match="listings or offers"):
        fetch_orders(client, orders, 1, VENUE, side="bids")
