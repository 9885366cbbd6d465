"""Balance changes shown before a signature, as Rabby shows them: the transaction is run on the node
first (eth_simulateV1 on anvil and on the embedded devnet, which runs it on a throwaway copy of
its chain; debug_traceCall where a node has only that; the call's data where it has neither), and
what it moves is what then really moves when it is sent."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from studio.chain.sender import TxSender
from studio.chain.simulation import DECODED, SIMULATED, TRACED, simulate
from studio.chain.transactions import Connection, LocalSigner, TxRequest

PRICE = 10**17
DEPOSIT = "0xd0e30db0"  # WETH9 deposit()


@pytest.fixture
def devnet_world(studio_home: Path, signers):
    """The embedded devnet with its marketplace, a collection of the artist (signer 0) holding one token."""
    from studio.chain.contracts import CollectionContract, MarketplaceContract
    from studio.chain.devnet import Devnet
    from studio.workflows.publish import file_commitment

    devnet = Devnet.shared()
    connection = devnet.connection()
    market = MarketplaceContract(connection, devnet.studio_contracts()["StudioMarketplace"])
    collection, _ = CollectionContract.deploy(connection, signers[0], name="Dawns", symbol="DAWN",
                                              royalty_receiver=signers[0].address, royalty_bps=500)
    token = collection.mint(signers[0], signers[0].address, file_commitment(b'{"name": "dawn"}')).first_token_id
    yield connection, market, collection, token
    devnet.close()


def _list(connection, market, collection, token: int, seller) -> None:
    TxSender.for_signer(connection, seller).transact(collection.approve_tx(market.address, token))
    TxSender.for_signer(connection, seller).transact(market.list_tx(collection.address, token, PRICE))


def test_devnet_buy_preview_shows_eth_leaving_and_the_token_arriving_as_the_sale_then_does(devnet_world, signers):
    connection, market, collection, token = devnet_world
    seller, buyer = signers[0], signers[1]
    _list(connection, market, collection, token, seller)
    before = connection.balance(buyer.address)
    sender = TxSender.for_signer(connection, buyer)
    prepared = sender.prepare_request(market.buy_tx(collection.address, token, PRICE))
    simulation = prepared.preview.simulation
    assert simulation is not None and simulation.method == SIMULATED and simulation.succeeded
    moves = {(c.direction, c.kind): c for c in simulation.changes}
    assert moves[("sends", "ETH")].amount == PRICE
    nft = moves[("receives", "ERC-721")]
    assert (nft.contract, nft.token_id, nft.name) == (collection.address, token, "Dawns")
    assert not simulation.approvals and not simulation.warnings
    assert connection.balance(buyer.address) == before  # simulating spent nothing, moved nothing

    receipt = sender.wait(sender.send(prepared).tx_hash)
    assert collection.owner_of(token) == buyer.address
    assert before - connection.balance(buyer.address) == PRICE + receipt.fee_wei


def test_listing_preview_shows_the_token_leaving_for_the_known_marketplace(devnet_world, signers):
    connection, market, collection, token = devnet_world
    sender = TxSender.for_signer(connection, signers[0])
    approve = sender.prepare_request(collection.approve_tx(market.address, token)).preview.simulation
    assert approve is not None and [g.scope for g in approve.approvals] == ["token"]
    assert approve.approvals[0].spender_name == "Studio marketplace" and not approve.warnings
    sender.transact(collection.approve_tx(market.address, token))
    listing = sender.prepare_request(market.list_tx(collection.address, token, PRICE)).preview.simulation
    assert listing is not None
    assert [(c.direction, c.token_id, c.counterparty) for c in listing.changes] == [("sends", token, market.address)]


def test_set_approval_for_all_to_an_unknown_account_is_warned_before_signing(devnet_world, signers):
    connection, _market, collection, _token = devnet_world
    stranger = signers[2].address
    preview = TxSender.for_signer(connection, signers[0]).prepare_request(
        collection.set_approval_for_all_tx(stranger)).preview
    simulation = preview.simulation
    assert simulation is not None
    assert [(g.scope, g.spender, g.spender_name) for g in simulation.approvals] == [("all", stranger, None)]
    text = " ".join(simulation.warnings)
    assert "setApprovalForAll" in text and "EVERY token" in text and "Dawns" in text
    assert "not a contract" in text
    assert any("Warning" == label for label, _ in preview.lines())  # the CLI's preview says it too


def test_devnet_simulation_runs_on_a_snapshot_and_reports_a_revert(devnet_world, signers):
    connection, market, collection, token = devnet_world
    buyer = signers[1].address
    nonce = connection.transaction_count(buyer)
    calls = {"blockStateCalls": [{"calls": [
        {"from": buyer, "to": market.address, "value": hex(PRICE),
         "input": market.buy_tx(collection.address, token, PRICE).data}]}], "traceTransfers": True}
    answer = connection.web3.provider.make_request("eth_simulateV1", [calls, "latest"])["result"]
    call = answer[0]["calls"][0]
    assert call["status"] == "0x0" and call["error"]["code"] == 3 and call["logs"] == []
    assert connection.transaction_count(buyer) == nonce
    refused = connection.web3.provider.make_request("eth_simulateV1", [
        {"blockStateCalls": [{"calls": [], "stateOverrides": {buyer: {"balance": "0x1"}}}]}, "latest"])
    assert "not supported" in refused["error"]["message"]


# ---------------------------------------------------------------- anvil, and nodes without simulation

def _anvil_sale(world) -> tuple[TxRequest, LocalSigner, int]:
    seller, buyer = LocalSigner(world.artist), LocalSigner(world.collectors[0])
    token = world.mint()
    _list(world.connection, world.market, world.collection, token, seller)
    return world.market.buy_tx(world.collection.address, token, PRICE), buyer, token


def test_anvil_runs_the_purchase_with_eth_simulate_and_the_sale_matches(world):
    request, buyer, token = _anvil_sale(world)
    sender = TxSender.for_signer(world.connection, buyer)
    prepared = sender.prepare_request(request)
    simulation = prepared.preview.simulation
    assert simulation is not None and simulation.method == SIMULATED
    assert [(c.direction, c.kind, c.amount, c.token_id) for c in simulation.changes] == [
        ("sends", "ETH", PRICE, None), ("receives", "ERC-721", 1, token)]
    before = world.balance(buyer.address)
    receipt = sender.wait(sender.send(prepared).tx_hash)
    assert world.collection.owner_of(token) == buyer.address
    assert before - world.balance(buyer.address) == PRICE + receipt.fee_wei


def test_wrapping_eth_shows_eth_out_and_weth_in_on_anvil(world):
    from studio.chain.seaport_contract import WethContract

    weth = WethContract.deploy(world.connection, LocalSigner(world.artist))
    me = world.collectors[1].address
    simulation = simulate(world.connection, {"from": me, "to": weth.address, "value": 3 * 10**17, "data": DEPOSIT},
                          known_contracts={weth.address: "WETH"})
    assert [(c.direction, c.kind, c.amount, c.name) for c in simulation.changes] == [
        ("sends", "ETH", 3 * 10**17, "ETH"), ("receives", "ERC-20", 3 * 10**17, "WETH")]


class _Refusing(BaseHTTPRequestHandler):
    """Forwards JSON-RPC to anvil, answering "method not found" for the methods in `refused`."""

    upstream = ""
    refused: frozenset[str] = frozenset()

    def do_POST(self) -> None:  # noqa: N802 - the http.server name
        import urllib.request

        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = json.loads(body)
        if request.get("method") in self.refused:
            answer = json.dumps({"jsonrpc": "2.0", "id": request.get("id"),
                                 "error": {"code": -32601, "message": "the method does not exist"}}).encode()
        else:
            with urllib.request.urlopen(urllib.request.Request(
                    self.upstream, body, {"Content-Type": "application/json"}), timeout=30) as response:
                answer = response.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_node(chain) -> Iterator:
    """Open a loopback node in front of anvil that lacks the given methods."""
    servers = []

    def start(*methods: str) -> Connection:
        handler = type("Handler", (_Refusing,), {"upstream": chain.url, "refused": frozenset(methods)})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return Connection.from_url(f"http://127.0.0.1:{server.server_address[1]}")

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_node_without_eth_simulate_is_traced_with_debug_trace_call(world, refusing_node):
    request, buyer, token = _anvil_sale(world)
    connection = refusing_node("eth_simulateV1")
    simulation = simulate(connection, {"from": buyer.address, "to": request.to, "value": request.value_wei,
                                       "data": request.data})
    assert simulation.method == TRACED and simulation.ran
    assert [(c.direction, c.kind, c.amount, c.token_id) for c in simulation.changes] == [
        ("sends", "ETH", PRICE, None), ("receives", "ERC-721", 1, token)]


def test_a_node_without_simulation_still_shows_the_approval_from_the_call_data(world, refusing_node):
    connection = refusing_node("eth_simulateV1", "debug_traceCall")
    operator = world.collectors[3].address
    request = world.collection.set_approval_for_all_tx(operator)
    simulation = simulate(connection, {"from": world.artist.address, "to": request.to, "data": request.data})
    assert simulation.method == DECODED and not simulation.ran
    assert [(g.scope, g.spender) for g in simulation.approvals] == [("all", operator)]
    warnings = " ".join(simulation.warnings)
    assert "setApprovalForAll" in warnings and "could not run it" in warnings
