"""The devnet answers like a real node: the same requests go to `studio devnet serve` and to anvil
(started from npm with the devnet's chain id and balances), and the answers must agree in shape
(the same fields, each a quantity, data, address, null or list alike) and in value, except what
legitimately differs between two chains: block hashes, timestamps, state roots, base fees (anvil
keeps block 1 at the genesis base fee), the gas limit and sizes.

The same signed transactions go to both nodes, so transaction hashes, the contract address,
gas used, logs, logs blooms and receipts roots must be identical.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterator

import pytest

from studio.chain.anvil import AnvilProcess, anvil_binary
from studio.chain.devnet import Devnet
from studio.chain.devnet_server import DevnetServer
from studio.chain.networks import DEVNET_CHAIN_ID

from rpc_nodes import RECIPIENT, RpcNode, encode_call, play_history, post, signed, funded_accounts

pytestmark = pytest.mark.slow

#: Fields whose values differ between any two chains; their shape is still compared. (The parent
#: beacon block root of a chain without a beacon chain is a placeholder: zero on anvil, the empty
#: trie root on py-evm.)
VOLATILE = {"hash", "blockHash", "parentHash", "stateRoot", "timestamp", "blockTimestamp", "mixHash",
            "baseFeePerGas", "size", "gasLimit", "effectiveGasPrice", "gasPrice", "gasUsedRatio",
            "parentBeaconBlockRoot"}
#: Fields only anvil adds, outside the specification (a blob gas price on receipts of non-blob transactions).
ANVIL_EXTRAS = {"blobGasPrice"}
_QUANTITY = re.compile(r"^0x(0|[1-9a-f][0-9a-f]*)$")
_DATA = re.compile(r"^0x([0-9a-f]{2})*$")


def kind(value: Any) -> str:
    if value is None or isinstance(value, (bool, float)):
        return type(value).__name__
    if isinstance(value, int):
        return "float"  # JSON numbers (gasUsedRatio) may print as 0 or 0.0
    if isinstance(value, str):
        if _QUANTITY.match(value) and len(value) < 42:
            return "quantity"
        if _DATA.match(value):
            return f"data{(len(value) - 2) // 2}" if len(value) in (42, 66) else "data"
        return "text"
    return type(value).__name__


def differences(anvil: Any, devnet: Any, path: str = "$", key: str = "") -> list[str]:
    """Where the two answers disagree in shape, or in value outside `VOLATILE`."""
    if isinstance(anvil, dict) and isinstance(devnet, dict):
        found = []
        anvil_keys = set(anvil) - ANVIL_EXTRAS
        if anvil_keys != set(devnet):
            found.append(f"{path}: fields only on anvil {sorted(anvil_keys - set(devnet))}, "
                         f"only on the devnet {sorted(set(devnet) - anvil_keys)}")
        for name in sorted(anvil_keys & set(devnet)):
            found += differences(anvil[name], devnet[name], f"{path}.{name}", name)
        return found
    if isinstance(anvil, list) and isinstance(devnet, list):
        if len(anvil) != len(devnet):
            return [f"{path}: {len(anvil)} items on anvil, {len(devnet)} on the devnet"]
        return [d for i, (a, b) in enumerate(zip(anvil, devnet)) for d in differences(a, b, f"{path}[{i}]", key)]
    if key == "blockTimestamp" and isinstance(anvil, int):  # anvil writes it as a JSON number in receipts
        anvil = hex(anvil)
    if kind(anvil) != kind(devnet):
        return [f"{path}: {kind(anvil)} {anvil!r} on anvil, {kind(devnet)} {devnet!r} on the devnet"]
    if key not in VOLATILE and anvil != devnet:
        return [f"{path}: {anvil!r} on anvil, {devnet!r} on the devnet"]
    return []


@pytest.fixture(scope="module")
def nodes() -> Iterator[tuple[RpcNode, RpcNode]]:
    if not anvil_binary().exists():
        pytest.fail("The anvil test node is missing; run `npm ci` in contracts/.", pytrace=False)
    anvil = AnvilProcess(chain_id=DEVNET_CHAIN_ID, balance_eth=1_000_000)
    server = DevnetServer(Devnet(None), port=0, admin=True)
    server.start()
    try:
        pair = RpcNode("anvil", anvil.url), RpcNode("devnet", server.url)
        for node in pair:
            play_history(node)
        yield pair
    finally:
        server.stop()
        anvil.stop()


def probe(node: RpcNode) -> str:
    return node.history["probe"]


def tx_hash(name: str) -> Callable[[RpcNode], list[Any]]:
    return lambda node: [node.history["hashes"][name]]


def block_hash(number: int) -> Callable[[RpcNode], str]:
    return lambda node: node.result("eth_getBlockByNumber", [hex(number), False])["hash"]


CASES: dict[str, tuple[str, Any]] = {
    "chain id": ("eth_chainId", []),
    "network version": ("net_version", []),
    "block number": ("eth_blockNumber", []),
    "syncing": ("eth_syncing", []),
    "priority fee": ("eth_maxPriorityFeePerGas", []),
    "balance of the recipient": ("eth_getBalance", [RECIPIENT, "latest"]),
    "balance at an EIP-1898 block number": ("eth_getBalance", [RECIPIENT, {"blockNumber": "0x3"}]),
    "code": ("eth_getCode", lambda n: [probe(n), "latest"]),
    "storage slot": ("eth_getStorageAt", lambda n: [probe(n), "0x0", "latest"]),
    "nonce": ("eth_getTransactionCount", lambda n: [n.history["accounts"][1], "latest"]),
    "pending nonce": ("eth_getTransactionCount", lambda n: [n.history["accounts"][1], "pending"]),
    "call with input": ("eth_call", lambda n: [{"to": probe(n), "input": encode_call("value()")}, "latest"]),
    "call with data": ("eth_call", lambda n: [{"to": probe(n), "data": encode_call("value()")}, "latest"]),
    "call with equal input and data": ("eth_call", lambda n: [{"to": probe(n), "input": encode_call("value()"),
                                                               "data": encode_call("value()")}]),
    "call without a block": ("eth_call", lambda n: [{"to": probe(n), "input": encode_call("value()")}]),
    "call at an EIP-1898 block number": ("eth_call", lambda n: [{"to": probe(n), "input": encode_call("value()")},
                                                                {"blockNumber": "0x1"}]),
    "call at an EIP-1898 block hash": ("eth_call", lambda n: [{"to": probe(n), "input": encode_call("value()")},
                                                              {"blockHash": block_hash(2)(n)}]),
    "call sees the zero address as sender": ("eth_call", lambda n: [{"to": probe(n),
                                                                     "input": encode_call("whoami()")}]),
    "call from an account": ("eth_call", lambda n: [{"from": n.history["accounts"][2], "to": probe(n),
                                                     "input": encode_call("whoami()")}]),
    "call reverting with a custom error": ("eth_call", lambda n: [{"to": probe(n),
                                                                   "input": encode_call("set(uint256)", 5000)}]),
    "call reverting with a reason": ("eth_call", lambda n: [{"to": probe(n),
                                                             "input": encode_call("fail(string)", "nope")}]),
    "estimate of a store": ("eth_estimateGas", lambda n: [{"from": n.history["accounts"][1], "to": probe(n),
                                                           "input": encode_call("set(uint256)", 7)}]),
    "estimate of a loop": ("eth_estimateGas", lambda n: [{"to": probe(n), "input": encode_call("churn(uint256)", 40)}]),
    "estimate of a transfer": ("eth_estimateGas", [{"to": RECIPIENT, "value": "0x1"}]),
    "estimate of a revert": ("eth_estimateGas", lambda n: [{"to": probe(n),
                                                            "input": encode_call("set(uint256)", 5000)}]),
    "receipt of a deployment": ("eth_getTransactionReceipt", tx_hash("deploy")),
    "receipt of a call with a log": ("eth_getTransactionReceipt", tx_hash("set")),
    "receipt of a mined revert": ("eth_getTransactionReceipt", tx_hash("revert")),
    "receipt of a transfer": ("eth_getTransactionReceipt", tx_hash("transfer")),
    "receipt of an unknown transaction": ("eth_getTransactionReceipt", ["0x" + "11" * 32]),
    "transaction": ("eth_getTransactionByHash", tx_hash("set")),
    "deployment transaction": ("eth_getTransactionByHash", tx_hash("deploy")),
    "unknown transaction": ("eth_getTransactionByHash", ["0x" + "11" * 32]),
    "transaction by block and index": ("eth_getTransactionByBlockNumberAndIndex", ["0x2", "0x0"]),
    "block with hashes": ("eth_getBlockByNumber", ["0x2", False]),
    "block with transactions": ("eth_getBlockByNumber", ["0x1", True]),
    "genesis block": ("eth_getBlockByNumber", ["earliest", False]),
    "latest block": ("eth_getBlockByNumber", ["latest", False]),
    "block by hash": ("eth_getBlockByHash", lambda n: [block_hash(3)(n), False]),
    "block beyond the head": ("eth_getBlockByNumber", ["0x99", False]),
    "transaction count of a block": ("eth_getBlockTransactionCountByNumber", ["0x1"]),
    "logs of a contract": ("eth_getLogs", lambda n: [{"address": probe(n), "fromBlock": "0x0", "toBlock": "latest"}]),
    "logs by topic": ("eth_getLogs", lambda n: [{"fromBlock": "earliest", "topics": [
        None, "0x" + n.history["accounts"][1][2:].lower().rjust(64, "0")]}]),
    "logs of an EIP-234 block hash": ("eth_getLogs", lambda n: [{"blockHash": block_hash(2)(n)}]),
    "logs of an unknown block hash": ("eth_getLogs", [{"blockHash": "0x" + "11" * 32}]),
    "fee history with percentiles": ("eth_feeHistory", ["0x3", "latest", [25, 75]]),
    "fee history of old blocks": ("eth_feeHistory", ["0x2", "0x2", [50]]),
    "fee history longer than the chain": ("eth_feeHistory", ["0x10", "latest", [10]]),
    "unknown method": ("eth_noSuchMethod", []),
    "address of the wrong length": ("eth_getBalance", ["0x1234", "latest"]),
    "hash of the wrong length": ("eth_getTransactionReceipt", ["0x1234"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_devnet_answers_like_anvil(nodes, case):
    anvil, devnet = nodes
    method, params = CASES[case]
    answers = [node.call(method, params(node) if callable(params) else params) for node in nodes]
    expected, got = answers
    if "error" in expected or "error" in got:
        assert "error" in expected and "error" in got, f"anvil: {expected}\ndevnet: {got}"
        assert got["error"]["code"] == expected["error"]["code"], (expected, got)
        assert got["error"].get("data") == expected["error"].get("data")
        return
    assert differences(expected["result"], got["result"]) == [], json.dumps(answers)[:3000]


def test_a_batch_is_answered_in_order_with_ids(nodes):
    batch = [{"jsonrpc": "2.0", "id": 7, "method": "eth_chainId", "params": []},
             {"jsonrpc": "2.0", "id": "b", "method": "eth_noSuchMethod", "params": []},
             {"jsonrpc": "2.0", "id": 9, "method": "eth_blockNumber"}]
    answers = [post(node.url, json.dumps(batch).encode()) for node in nodes]
    assert [a["id"] for a in answers[1]] == [7, "b", 9]
    assert differences(answers[0], answers[1]) == [] or [a.get("error", {}).get("code") for a in answers[1]] == \
        [a.get("error", {}).get("code") for a in answers[0]]
    assert answers[1][0]["result"] == hex(DEVNET_CHAIN_ID) and answers[1][1]["error"]["code"] == -32601


def test_refused_transactions_carry_the_codes_and_words_clients_classify(nodes):
    accounts = funded_accounts()
    cases = {
        "nonce too low": signed(accounts[0], 0, to=RECIPIENT, value=1),
        "insufficient funds for gas * price + value": signed(accounts[2], 1, to=RECIPIENT, value=10**30),
        "max fee per gas less than block base fee": signed(accounts[2], 1, to=RECIPIENT, max_fee=1, tip=1),
    }
    for words, raw in cases.items():
        expected, got = (node.call("eth_sendRawTransaction", [raw]) for node in nodes)
        assert got["error"]["code"] == expected["error"]["code"] == -32003, (expected, got)
        assert got["error"]["message"].lower().startswith(words), got
        assert expected["error"]["message"].lower().startswith(words), expected
    expected, got = (node.call("eth_sendRawTransaction", ["0x1234"]) for node in nodes)
    assert got["error"]["code"] == expected["error"]["code"] == -32602


def test_a_replaced_transaction_is_never_mined_and_its_replacement_is(nodes):
    """With automine off, a transaction with the same nonce and higher fees replaces the first."""
    sender = funded_accounts()[3]
    for node in nodes:
        node.result("evm_setAutomine", [False])
        try:
            nonce = int(node.result("eth_getTransactionCount", [sender.address, "latest"]), 16)
            first = node.result("eth_sendRawTransaction", [
                signed(sender, nonce, to=RECIPIENT, value=1, max_fee=10 * 10**9, tip=10**9)])
            assert node.result("eth_getTransactionCount", [sender.address, "pending"]) == hex(nonce + 1)
            assert node.result("eth_getTransactionByHash", [first])["blockHash"] is None
            second = node.result("eth_sendRawTransaction", [
                signed(sender, nonce, to=RECIPIENT, value=2, max_fee=20 * 10**9, tip=2 * 10**9)])
            assert node.result("eth_getTransactionReceipt", [second]) is None
            node.result("evm_mine", [])
            assert node.receipt(second)["status"] == "0x1"
            assert node.result("eth_getTransactionReceipt", [first]) is None, node.name
            assert node.result("eth_getTransactionCount", [sender.address, "latest"]) == hex(nonce + 1)
        finally:
            node.result("evm_setAutomine", [True])
