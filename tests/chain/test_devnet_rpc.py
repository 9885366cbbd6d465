"""The devnet's JSON-RPC methods in-process, against the execution-API spec itself (the comparison
with anvil is tests/chain/test_devnet_conformance.py): what wallets read, fee history's layout,
every transaction type, filters, snapshots."""
from __future__ import annotations

from typing import Any

import pytest

from studio.chain.devnet import Devnet

from rpc_nodes import RECIPIENT, encode_call, funded_accounts, probe_artifact, signed


@pytest.fixture
def devnet() -> Devnet:
    return Devnet(None)


def result(devnet: Devnet, method: str, params: list[Any] | None = None) -> Any:
    answer = devnet.request(method, params or [])
    assert "error" not in answer, answer
    return answer["result"]


def error(devnet: Devnet, method: str, params: list[Any] | None = None) -> dict[str, Any]:
    answer = devnet.request(method, params or [])
    assert "error" in answer, answer
    return answer["error"]


def test_the_fields_wallets_read_are_present(devnet):
    assert result(devnet, "eth_chainId") == "0x539" and result(devnet, "net_version") == "1337"
    result(devnet, "eth_sendRawTransaction", [signed(funded_accounts(1)[0], 0, to=RECIPIENT, value=1)])
    block = result(devnet, "eth_getBlockByNumber", ["latest", False])
    for field in ("number", "hash", "parentHash", "timestamp", "gasLimit", "gasUsed", "baseFeePerGas", "miner",
                  "logsBloom", "transactions", "stateRoot", "receiptsRoot", "transactionsRoot", "size"):
        assert block[field] is not None, field
    assert block["number"] == "0x1" == result(devnet, "eth_blockNumber")
    assert int(result(devnet, "eth_gasPrice"), 16) > int(result(devnet, "eth_maxPriorityFeePerGas"), 16) > 0
    assert int(result(devnet, "eth_getBalance", [RECIPIENT, "latest"]), 16) > 0
    assert result(devnet, "eth_getCode", [RECIPIENT, "latest"]) == "0x"


def test_fee_history_follows_eip_1559_layout(devnet):
    account = funded_accounts(1)[0]
    for nonce in range(3):
        result(devnet, "eth_sendRawTransaction", [signed(account, nonce, to=RECIPIENT, value=1, tip=2 * 10**9)])
    history = result(devnet, "eth_feeHistory", ["0x2", "latest", [10, 90]])
    assert history["oldestBlock"] == "0x2"
    assert len(history["baseFeePerGas"]) == 3 and len(history["gasUsedRatio"]) == 2
    blocks = [result(devnet, "eth_getBlockByNumber", [hex(n), False]) for n in (2, 3)]
    assert history["baseFeePerGas"][:2] == [b["baseFeePerGas"] for b in blocks]  # oldest first
    next_block = result(devnet, "eth_getBlockByNumber", ["pending", False])
    assert history["baseFeePerGas"][2] == next_block["baseFeePerGas"]  # the last is the next block's
    assert history["reward"] == [[hex(2 * 10**9)] * 2] * 2  # each block paid a 2 gwei tip
    assert "reward" not in result(devnet, "eth_feeHistory", ["0x1", "latest", []])
    assert result(devnet, "eth_feeHistory", ["0x10", "0x1", [50]])["oldestBlock"] == "0x0"
    assert error(devnet, "eth_feeHistory", ["0x1", "latest", [90, 10]])["code"] == -32602


def test_every_common_transaction_type_is_accepted_and_described(devnet):
    account = funded_accounts(1)[0]
    legacy = account.sign_transaction({"nonce": 0, "gas": 21_000, "gasPrice": 5 * 10**9, "to": RECIPIENT,
                                       "value": 1, "chainId": 1337}).raw_transaction
    access = account.sign_transaction({"nonce": 1, "gas": 30_000, "gasPrice": 5 * 10**9, "to": RECIPIENT,
                                       "value": 1, "chainId": 1337, "type": 1,
                                       "accessList": [{"address": RECIPIENT, "storageKeys": ["0x" + "00" * 32]}]
                                       }).raw_transaction
    dynamic = signed(account, 2, to=RECIPIENT, value=1)
    for raw, kind in ((legacy, "0x0"), (access, "0x1"), (dynamic, "0x2")):
        tx_hash = result(devnet, "eth_sendRawTransaction", ["0x" + bytes(raw).hex().removeprefix("0x")
                                                            if isinstance(raw, bytes) else raw])
        receipt = result(devnet, "eth_getTransactionReceipt", [tx_hash])
        tx = result(devnet, "eth_getTransactionByHash", [tx_hash])
        assert receipt["type"] == tx["type"] == kind and receipt["status"] == "0x1"
        assert "stateRoot" not in receipt and len(receipt["logsBloom"]) == 2 + 512
        assert tx["chainId"] == "0x539" and tx["input"] == "0x"
    assert tx["accessList"] == [] and "maxFeePerGas" in tx


def test_calls_take_input_or_data_and_block_objects(devnet):
    from eth_abi import encode

    account = funded_accounts(1)[0]
    deploy = probe_artifact().bytecode + encode(["uint256"], [7]).hex()
    tx_hash = result(devnet, "eth_sendRawTransaction", [signed(account, 0, to=None, data=deploy, gas=400_000)])
    probe = result(devnet, "eth_getTransactionReceipt", [tx_hash])["contractAddress"]
    result(devnet, "eth_sendRawTransaction", [signed(account, 1, to=probe, data=encode_call("set(uint256)", 9),
                                                     gas=100_000)])
    value = encode_call("value()")
    seven, nine = "0x" + f"{7:064x}", "0x" + f"{9:064x}"
    assert result(devnet, "eth_call", [{"to": probe, "input": value}]) == nine
    assert result(devnet, "eth_call", [{"to": probe, "data": value}, "latest"]) == nine
    assert result(devnet, "eth_call", [{"to": probe, "data": value, "input": value}]) == nine
    assert error(devnet, "eth_call", [{"to": probe, "data": value, "input": "0x00"}])["code"] == -32602
    assert result(devnet, "eth_call", [{"to": probe, "input": value}, {"blockNumber": "0x1"}]) == seven
    block_one = result(devnet, "eth_getBlockByNumber", ["0x1", False])["hash"]
    assert result(devnet, "eth_call", [{"to": probe, "input": value},
                                       {"blockHash": block_one, "requireCanonical": True}]) == seven
    assert error(devnet, "eth_call", [{"to": probe, "input": value}, {"blockHash": "0x" + "11" * 32}])["code"] \
        == -32000
    reverted = error(devnet, "eth_call", [{"to": probe, "input": encode_call("fail(string)", "no")}])
    assert reverted["code"] == 3 and reverted["message"] == "execution reverted: no"
    assert reverted["data"].startswith("0x08c379a0")
    logs = result(devnet, "eth_getLogs", [{"blockHash": result(devnet, "eth_getBlockByNumber", ["0x2", False])[
        "hash"]}])
    assert len(logs) == 1 and logs[0]["blockNumber"] == "0x2" and logs[0]["logIndex"] == "0x0"


def test_send_transaction_without_gas_is_estimated_and_signed_by_the_node(devnet):
    sender = funded_accounts(2)[1].address
    tx_hash = result(devnet, "eth_sendTransaction", [{"from": sender, "to": RECIPIENT, "value": "0x5"}])
    tx = result(devnet, "eth_getTransactionByHash", [tx_hash])
    assert tx["gas"] == hex(21_000) and tx["from"] == sender.lower() and tx["type"] == "0x2"
    raw = result(devnet, "eth_signTransaction", [{"from": sender, "to": RECIPIENT, "value": "0x6"}])
    assert result(devnet, "eth_sendRawTransaction", [raw])
    assert devnet.request("eth_sendTransaction", [{"from": sender, "to": RECIPIENT}], unlocked=False)[
        "error"]["code"] == -32601
    assert error(devnet, "eth_sendTransaction", [{"from": "0x" + "ab" * 20, "to": sender}])["message"].startswith(
        "unknown account")


def test_filters_report_new_blocks_and_logs_once(devnet):
    account = funded_accounts(1)[0]
    blocks = result(devnet, "eth_newBlockFilter")
    pending = result(devnet, "eth_newPendingTransactionFilter")
    logs = result(devnet, "eth_newFilter", [{"fromBlock": "latest"}])
    tx_hash = result(devnet, "eth_sendRawTransaction", [signed(account, 0, to=RECIPIENT, value=1)])
    assert result(devnet, "eth_getFilterChanges", [blocks]) == [
        result(devnet, "eth_getBlockByNumber", ["latest", False])["hash"]]
    assert result(devnet, "eth_getFilterChanges", [blocks]) == []
    assert result(devnet, "eth_getFilterChanges", [pending]) == [tx_hash]
    assert result(devnet, "eth_getFilterChanges", [logs]) == []  # a transfer logs nothing
    assert result(devnet, "eth_uninstallFilter", [blocks]) is True
    assert error(devnet, "eth_getFilterChanges", [blocks])["message"] == "filter not found"


def test_revert_to_a_snapshot_forgets_later_transactions(devnet):
    account = funded_accounts(1)[0]
    snapshot = result(devnet, "evm_snapshot")
    tx_hash = result(devnet, "eth_sendRawTransaction", [signed(account, 0, to=RECIPIENT, value=1)])
    assert result(devnet, "evm_revert", [snapshot]) is True
    assert result(devnet, "eth_blockNumber") == "0x0"
    assert result(devnet, "eth_getTransactionReceipt", [tx_hash]) is None
    assert result(devnet, "evm_revert", [snapshot]) is False  # used up
    again = result(devnet, "eth_sendRawTransaction", [signed(account, 0, to=RECIPIENT, value=1)])
    assert result(devnet, "eth_getTransactionReceipt", [again])["blockNumber"] == "0x1"


def test_time_moves_forward_only_when_asked(devnet):
    latest = int(result(devnet, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    assert error(devnet, "evm_setNextBlockTimestamp", [hex(latest)])["code"] == -32602
    result(devnet, "testing_timeTravel", [latest + 86_400])
    assert int(result(devnet, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16) == latest + 86_400


def test_a_transaction_ahead_of_its_nonce_waits_for_the_gap(devnet):
    account = funded_accounts(1)[0]
    later = result(devnet, "eth_sendRawTransaction", [signed(account, 1, to=RECIPIENT, value=1)])
    assert result(devnet, "eth_getTransactionReceipt", [later]) is None
    assert result(devnet, "eth_getTransactionByHash", [later])["blockHash"] is None
    assert result(devnet, "eth_getTransactionCount", [account.address, "pending"]) == "0x0"
    first = result(devnet, "eth_sendRawTransaction", [signed(account, 0, to=RECIPIENT, value=1)])
    assert result(devnet, "eth_getTransactionReceipt", [first])["blockNumber"] == "0x1"
    assert result(devnet, "eth_getTransactionReceipt", [later])["blockNumber"] == "0x2"
    assert error(devnet, "eth_sendRawTransaction", [signed(account, 1, to=RECIPIENT, value=1)])["message"] \
        .startswith("nonce too low")
