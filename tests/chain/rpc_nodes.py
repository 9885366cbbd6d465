"""Raw JSON-RPC over HTTP, and one scripted history played on any node (the devnet or anvil).

The history uses transactions signed here with fixed nonces, gas and fees, so the very same
bytes go to both nodes: the transaction hashes, contract address, gas used, logs and receipts
roots must then agree, and only what legitimately differs (block hashes, timestamps, base fees,
genesis balances) is left out when answers are compared.
"""
from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from studio.chain.networks import DEVNET_CHAIN_ID

MAX_FEE = 20 * 10**9
TIP = 10**9
RECIPIENT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


def post(url: str, body: bytes, headers: dict[str, str] | None = None, timeout: float = 30) -> Any:
    request = urllib.request.Request(url, body, {"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


@dataclass
class RpcNode:
    """A node by URL; `call` returns the whole JSON-RPC answer (result or error)."""

    name: str
    url: str
    history: dict[str, Any] = field(default_factory=dict)

    def call(self, method: str, params: list[Any] | None = None) -> dict[str, Any]:
        return post(self.url, json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                                          "params": params or []}).encode())

    def result(self, method: str, params: list[Any] | None = None) -> Any:
        answer = self.call(method, params)
        assert "error" not in answer, f"{self.name} {method}: {answer['error']}"
        return answer["result"]

    def receipt(self, tx_hash: str, timeout: float = 10) -> dict[str, Any]:
        """The receipt, waiting for it (anvil mines a moment after it answers the send)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            receipt = self.result("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None or time.monotonic() > deadline:
                assert receipt is not None, f"{self.name}: no receipt for {tx_hash}"
                return receipt
            time.sleep(0.02)


def funded_accounts(count: int = 4) -> list[Any]:
    from eth_account import Account

    from studio.chain.anvil import TEST_MNEMONIC

    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(TEST_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)]


def probe_artifact() -> Any:
    from studio.chain.artifacts import load_artifact

    return load_artifact("RpcProbe")


def encode_call(signature: str, *args: Any) -> str:
    from eth_abi import encode
    from eth_utils import function_signature_to_4byte_selector

    types = signature[signature.index("(") + 1:-1]
    arguments = encode([t for t in types.split(",") if t], list(args)) if types else b""
    return "0x" + (function_signature_to_4byte_selector(signature) + arguments).hex()


def signed(account: Any, nonce: int, *, to: str | None, data: str = "0x", value: int = 0, gas: int = 21_000,
           max_fee: int = MAX_FEE, tip: int = TIP) -> str:
    tx: dict[str, Any] = {"nonce": nonce, "gas": gas, "maxFeePerGas": max_fee, "maxPriorityFeePerGas": tip,
                          "value": value, "data": data, "chainId": DEVNET_CHAIN_ID, "type": 2}
    if to is not None:
        from eth_utils import to_checksum_address

        tx["to"] = to_checksum_address(to)
    return "0x" + account.sign_transaction(tx).raw_transaction.hex()


def play_history(node: RpcNode) -> dict[str, Any]:
    """Deploy RpcProbe(7), set(42), a mined revert (set(5000)), and a plain transfer: one block each."""
    from eth_abi import encode

    accounts = funded_accounts()
    artifact = probe_artifact()
    deploy = artifact.bytecode + encode(["uint256"], [7]).hex()
    hashes = {
        "deploy": node.result("eth_sendRawTransaction", [signed(accounts[0], 0, to=None, data=deploy, gas=400_000)]),
    }
    probe = node.receipt(hashes["deploy"])["contractAddress"]
    hashes["set"] = node.result("eth_sendRawTransaction", [
        signed(accounts[1], 0, to=probe, data=encode_call("set(uint256)", 42), gas=100_000)])
    hashes["revert"] = node.result("eth_sendRawTransaction", [
        signed(accounts[1], 1, to=probe, data=encode_call("set(uint256)", 5000), gas=100_000)])
    hashes["transfer"] = node.result("eth_sendRawTransaction", [
        signed(accounts[2], 0, to=RECIPIENT, value=12345)])
    for tx_hash in hashes.values():
        node.receipt(tx_hash)
    node.history = {"probe": probe, "hashes": hashes, "accounts": [a.address for a in accounts]}
    return node.history
