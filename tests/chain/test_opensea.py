"""The OpenSea v2 client against a loopback stand-in that checks each request against OpenSea's
documented schema and recovers each order's signer with eth-account (tests/chain/opensea_server.py).
Posting to the real service was not tested here (no key, no network)."""
from __future__ import annotations

import logging

import pytest
from eth_account import Account

from studio.chain.opensea import OpenSeaClient, opensea_chain
from studio.chain.seaport import (CANONICAL_SEAPORT, SaleTerms, SignedOrder, listing_order, offer_order, order_signer,
                                  sign_order)
from studio.chain.transactions import LocalSigner
from studio.errors import InputError, NetworkError, NotFound
from studio.retry import RetryPolicy

from opensea_server import opensea, schema_problems

KEY = "os-test-key-5f0c2a9e"
COLLECTION = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
ETH = 10**18
SELLER = LocalSigner(Account.from_key(b"\x11" * 32))
BUYER = LocalSigner(Account.from_key(b"\x22" * 32))
CREATOR = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
FAST = RetryPolicy(attempts=3, first_delay=0.01, max_delay=0.02)


def _listing(token_id: int, price: int = ETH // 10, chain_id: int = 1, seaport: str = CANONICAL_SEAPORT) -> SignedOrder:
    terms = SaleTerms.split(price, SELLER.address, royalty=(CREATOR, price // 20))
    components = listing_order(seller=SELLER.address, collection=COLLECTION, token_id=token_id, terms=terms,
                               start_time=1_700_000_000, end_time=1_700_604_800, counter=0)
    return sign_order(SELLER, components, chain_id, seaport)


def _offer(token_id: int | None, amount: int = ETH // 20) -> SignedOrder:
    components = offer_order(buyer=BUYER.address, weth=WETH, collection=COLLECTION, token_id=token_id,
                             amount_wei=amount, start_time=1_700_000_000, end_time=1_700_086_400, counter=3)
    return sign_order(BUYER, components, 1, CANONICAL_SEAPORT)


def test_a_listing_is_posted_in_the_documented_schema_and_read_back_fillable():
    order = _listing(7)
    with opensea(KEY) as (url, log):
        client = OpenSeaClient(KEY, base_url=url, policy=FAST)
        posted = client.post_listing(order)
        assert posted.order_hash == "0x" + order.order_hash.hex()
        [(method, path, headers, body)] = log.requests
        assert (method, path) == ("POST", "/api/v2/orders/ethereum/seaport/listings")
        assert headers["x-api-key"] == KEY and schema_problems(body) == []
        assert body["parameters"]["totalOriginalConsiderationItems"] == 2  # the seller, then the creator
        page = client.listings(1, collection=COLLECTION, token_ids=[7])
        assert log.requests[-1][1].endswith(f"listings?asset_contract_address={COLLECTION}&token_ids=7&limit=50")
    [read] = page.orders
    assert read == order and page.next_cursor is None and page.skipped == 0
    assert order_signer(read) == SELLER.address  # the studio can fill what it read


def test_a_token_offer_is_posted_and_read_by_maker_and_a_collection_offer_is_kept_home():
    with opensea(KEY) as (url, log):
        client = OpenSeaClient(KEY, base_url=url, policy=FAST)
        client.post_offer(_offer(7))
        assert log.requests[0][1] == "/api/v2/orders/ethereum/seaport/offers"
        [read] = client.offers(1, maker=BUYER.address).orders
        assert read.components.offerer == BUYER.address and read.components.counter == 3
        assert client.offers(1, maker=SELLER.address).orders == ()
        with pytest.raises(InputError, match="collection offers by the collection's OpenSea slug"):
            client.post_offer(_offer(None))
        with pytest.raises(InputError, match="is a listing"):
            client.post_offer(_listing(1))
        with pytest.raises(InputError, match="is an offer"):
            client.post_listing(_offer(7))
        assert len(log.requests) == 3  # the refused ones never left the studio


def test_pages_follow_the_cursor_and_orders_that_do_not_check_out_are_left_out():
    with opensea(KEY) as (url, log):
        client = OpenSeaClient(KEY, base_url=url, policy=FAST)
        for token_id in range(1, 4):
            client.post_listing(_listing(token_id))
        genuine = log.orders["listings"][0]
        forged_hash = {**genuine, "order_hash": "0x" + "00" * 32}
        other_seaport = {**genuine, "protocol_address": "0x00000000000000ADc04C56Bf30aC9d3c0aAF14dC"}
        broken = {**genuine, "protocol_data": {"parameters": {"offerer": "nobody"}, "signature": "0x00"}}
        log.extra_orders = [forged_hash, other_seaport, broken, "not an order"]
        first = client.listings(1, collection=COLLECTION, limit=5)
        assert (len(first.orders), first.skipped, first.next_cursor) == (1, 4, "5")
        second = client.listings(1, collection=COLLECTION, limit=5, cursor=first.next_cursor)
        assert [o.components.offer[0].identifier_or_criteria for o in second.orders] == [2, 3]
        assert second.next_cursor is None
        with pytest.raises(InputError, match="1 to 50"):
            client.listings(1, limit=51)
        with pytest.raises(InputError, match="need the collection"):
            client.listings(1, token_ids=[1])


def test_a_wrong_key_is_refused_and_no_key_is_ever_logged_or_shown(caplog):
    caplog.set_level(logging.DEBUG)
    with opensea(KEY) as (url, log):
        client = OpenSeaClient("wrong-key-0123", base_url=url, policy=FAST)
        with pytest.raises(InputError, match="OpenSea refused the API key: Invalid API key") as refused:
            client.post_listing(_listing(1))
        log.busy = 1
        OpenSeaClient(KEY, base_url=url, policy=FAST).listings(1)  # one 429, then an answer
    assert log.orders["listings"] == [] and [r[2].get("x-api-key") for r in log.requests] == [
        "wrong-key-0123", KEY, KEY]
    shown = caplog.text + str(refused.value) + (refused.value.hint or "") + repr(client)
    assert "try 1 of 3" in caplog.text  # the retry was logged, without the key
    assert KEY not in shown and "wrong-key-0123" not in shown
    assert "<hidden>" in repr(client)
    with pytest.raises(InputError, match="empty or holds spaces"):
        OpenSeaClient("  ")


def test_a_busy_service_is_tried_again_then_given_up_with_a_hint():
    with opensea(KEY) as (url, log):
        client = OpenSeaClient(KEY, base_url=url, policy=FAST)
        log.busy = 2
        client.post_listing(_listing(1))  # the third try goes through
        assert len(log.orders["listings"]) == 1
        log.busy = 5
        with pytest.raises(NetworkError, match="answered HTTP 429 after 3 tries") as busy:
            client.listings(1)
    assert "wait a minute" in busy.value.hint


def test_what_opensea_refuses_comes_back_with_its_reasons():
    with opensea(KEY) as (url, log):
        client = OpenSeaClient(KEY, base_url=url, policy=FAST)
        stranger = SignedOrder(_listing(1).components, _listing(2).signature, 1, CANONICAL_SEAPORT)
        with pytest.raises(InputError, match="OpenSea refused the order: signature: not the offerer's"):
            client.post_listing(stranger)
        log.rename_hash = True
        with pytest.raises(NetworkError, match="names another hash"):
            client.post_listing(_listing(3))
        with pytest.raises(NotFound, match="does not serve chain 1337"):
            client.post_listing(_listing(1, chain_id=1337))
        with pytest.raises(InputError, match="Seaport 1.6 at"):
            client.post_listing(_listing(1, seaport=COLLECTION))
        assert len(log.requests) == 2
    assert opensea_chain(8453) == "base"


def test_an_answer_too_large_or_not_json_is_an_error_for_people(monkeypatch):
    import studio.chain.opensea as module

    with opensea(KEY) as (url, log):
        client = OpenSeaClient(KEY, base_url=url, policy=FAST)
        for token_id in range(1, 4):
            client.post_listing(_listing(token_id))
        monkeypatch.setattr(module, "MAX_ANSWER", 2_000)
        with pytest.raises(NetworkError, match="more than 2,000 bytes"):
            client.listings(1)
        monkeypatch.undo()
        log.garbage = b"<html>Cloudflare says hello</html>"
        with pytest.raises(NetworkError, match="OpenSea's answer"):
            client.listings(1)
        log.garbage = b'{"orders": "none", "next": null}'
        with pytest.raises(NetworkError, match="holds no list of orders"):
            client.listings(1)
    with pytest.raises(NetworkError, match="could not be reached after 3 tries"):
        OpenSeaClient(KEY, base_url=url, policy=FAST).listings(1)  # the server is gone
