"""Checked by a client no one here wrote: OpenSea's seaport-js (contracts/scripts/seaport-js.mjs, pinned in
contracts/package.json) fills orders the studio signed, and the studio fills orders seaport-js signed,
on anvil."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from studio.chain.artifacts import CONTRACTS_DIR
from studio.chain.seaport import SignedOrder, order_signer, sign_bulk_orders
from studio.chain.transactions import LocalSigner

from seaport_market import ETH, HOUR, market, seaport_addresses  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow
#: fulfillBasicOrder and fulfillBasicOrder_efficient_6GL6yc: the cheap route, which seaport-js takes too.
BASIC_ROUTE_SELECTORS = {"0xfb0f3ee1", "0x00000000"}


def _seaport_js(market, command: str, payload: dict, account, tmp_path) -> dict:
    node = shutil.which("node")
    assert node, "Node.js runs the seaport-js client"
    assert (CONTRACTS_DIR / "node_modules" / "@opensea" / "seaport-js").exists(), "run `npm ci` in contracts/"
    spec = tmp_path / f"{command}.json"
    spec.write_text(json.dumps(payload))
    env = {"PATH": "/usr/bin:/bin", "RPC_URL": market.world.node.url, "PRIVATE_KEY": "0x" + account.key.hex(),
           "SEAPORT": market.seaport.address}
    result = subprocess.run([node, "scripts/seaport-js.mjs", command, str(spec)], cwd=CONTRACTS_DIR, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_seaport_js_buys_a_listing_the_studio_signed(market, tmp_path):
    world, price = market.world, 10**17
    token = market.token()
    signed = market.sign(market.listing(token, price, fee_bps=250), market.seller)
    before = world.balance(market.seller.address)
    filled = _seaport_js(market, "fulfil", signed.to_json(), market.buyer, tmp_path)
    assert filled["status"] == 1 and filled["selector"] in BASIC_ROUTE_SELECTORS
    assert world.collection.owner_of(token) == market.buyer.address
    assert world.balance(market.seller.address) - before == price - price * 500 // 10_000 - price * 250 // 10_000
    assert market.seaport.fillability(signed).state == "filled"


def test_seaport_js_buys_one_order_of_a_studio_bulk_signature(market, tmp_path):
    tokens = [market.token(approve=i == 0) for i in range(3)]
    orders = [market.listing(token, ETH // 20) for token in tokens]
    signed = sign_bulk_orders(LocalSigner(market.seller), orders, market.connection.chain_id,
                              market.seaport.address)
    filled = _seaport_js(market, "fulfil", signed[1].to_json(), market.buyer, tmp_path)
    assert filled["status"] == 1
    assert market.world.collection.owner_of(tokens[1]) == market.buyer.address
    assert market.seaport.fillability(signed[0]).fillable and market.seaport.fillability(signed[2]).fillable


def test_the_studio_buys_a_listing_seaport_js_signed(market, tmp_path):
    world, price = market.world, 2 * 10**17
    token = market.token(approve=False)  # seaport-js approves Seaport itself
    now = market.now()
    royalty = price * 500 // 10_000
    order = _seaport_js(market, "list", {
        "collection": world.collection.address, "tokenId": token, "priceWei": str(price),
        "royalty": {"recipient": world.royalty_receiver.address, "amountWei": str(royalty)},
        "startTime": now - 60, "endTime": now + HOUR}, market.seller, tmp_path)
    signed = SignedOrder.from_json(order, chain_id=market.connection.chain_id, seaport=market.seaport.address)
    assert order_signer(signed) == market.seller.address
    assert market.seaport.fillability(signed).fillable
    before = {a: world.balance(a) for a in (market.seller.address, world.royalty_receiver.address)}
    market.seaport.fulfil(market.buyer, signed)
    assert world.collection.owner_of(token) == market.buyer.address
    assert world.balance(market.seller.address) - before[market.seller.address] == price - royalty
    assert world.balance(world.royalty_receiver.address) - before[world.royalty_receiver.address] == royalty


def test_the_studio_accepts_a_weth_offer_seaport_js_signed(market, tmp_path):
    world, amount = market.world, 3 * 10**17
    token = market.token()
    market.weth.wrap(market.bidder, ETH)  # seaport-js approves Seaport for the WETH itself
    now = market.now()
    order = _seaport_js(market, "offer", {
        "weth": market.weth.address, "collection": world.collection.address, "tokenId": token,
        "amountWei": str(amount), "royalty": {"recipient": world.royalty_receiver.address, "amountWei": "15"},
        "startTime": now - 60, "endTime": now + HOUR}, market.bidder, tmp_path)
    signed = SignedOrder.from_json(order, chain_id=market.connection.chain_id, seaport=market.seaport.address)
    assert order_signer(signed) == market.bidder.address
    assert market.seaport.fillability(signed).fillable
    market.seaport.fulfil(market.seller, signed)
    assert world.collection.owner_of(token) == market.bidder.address
    assert market.weth.balance_of(market.seller.address) == amount - 15
    assert market.weth.balance_of(world.royalty_receiver.address) == 15
