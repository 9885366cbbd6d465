"""Tools no one here wrote drive the served devnet: foundry's cast 1.7.1 and ethers v6 (both from
npm, pinned in contracts/package-lock.json). Deploy, call, estimate, send, receipts, logs, fee
history, reverts (in a call and mined), and a transaction replaced by one with the same nonce
and higher fees."""
from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from studio.chain.anvil import CONTRACTS_DIR
from studio.chain.devnet import Devnet
from studio.chain.devnet_server import DevnetServer

from rpc_nodes import RECIPIENT, funded_accounts, probe_artifact

pytestmark = pytest.mark.slow

ETHERS_SCRIPT = Path(__file__).parent / "clients" / "ethers_drive.cjs"
TOO_LARGE = "0x677fd0e3"  # selector of RpcProbe's TooLarge(uint256,uint256)


def cast_binary() -> Path:
    suffix = {("Linux", "aarch64"): "linux-arm64", ("Darwin", "arm64"): "darwin-arm64",
              ("Darwin", "x86_64"): "darwin-amd64"}.get((platform.system(), platform.machine()), "linux-amd64")
    # the native binary: the npm bin wrapper drops the exit code
    return CONTRACTS_DIR / "node_modules" / "@foundry-rs" / f"cast-{suffix}" / "bin" / "cast"


@pytest.fixture(scope="module")
def served() -> Iterator[DevnetServer]:
    with DevnetServer(Devnet(None), port=0, admin=True) as server:
        yield server


@pytest.fixture(scope="module")
def cast(served):
    binary = cast_binary()
    if not binary.exists():
        pytest.fail(f"cast is missing ({binary}); run `npm ci` in contracts/.", pytrace=False)
    env = {**os.environ, "ETH_RPC_URL": served.url, "NO_COLOR": "1", "FOUNDRY_DISABLE_NIGHTLY_WARNING": "1"}

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=60, env=env)
        if ok:
            assert done.returncode == 0, f"cast {' '.join(args)}: {done.stderr}"
        return done

    return run


@pytest.fixture(scope="module")
def probe(cast) -> str:
    key = funded_accounts(1)[0].key.hex()
    code = probe_artifact().bytecode + f"{7:064x}"
    receipt = json.loads(cast("send", "--private-key", "0x" + key.removeprefix("0x"), "--json", "--create",
                              code).stdout)
    assert receipt["status"] == "0x1" and receipt["logsBloom"] != "0x" + "00" * 256
    return receipt["contractAddress"]


def key_of(index: int) -> str:
    return "0x" + funded_accounts(index + 1)[index].key.hex().removeprefix("0x")


def test_cast_reads_the_chain(cast):
    assert cast("chain-id").stdout.strip() == "1337"
    assert int(cast("balance", RECIPIENT).stdout) > 0
    block = json.loads(cast("block", "latest", "--json").stdout)
    assert {"hash", "number", "baseFeePerGas", "timestamp", "logsBloom", "gasLimit"} <= set(block)
    assert int(cast("gas-price").stdout) > int(cast("base-fee").stdout) > 0
    assert cast("client").stdout.startswith("ProvenanceStudio/devnet")


def test_cast_deploys_calls_estimates_and_sends(cast, probe):
    assert cast("call", probe, "value()(uint256)").stdout.strip() == "7"
    sender = funded_accounts(2)[1].address
    estimate = int(cast("estimate", probe, "set(uint256)", "42", "--from", sender).stdout)
    assert 21_000 < estimate < 100_000
    receipt = json.loads(cast("send", probe, "set(uint256)", "42", "--private-key", key_of(1), "--json").stdout)
    assert receipt["status"] == "0x1" and int(receipt["gasUsed"], 16) <= estimate
    assert cast("call", probe, "value()(uint256)").stdout.strip() == "42"
    again = json.loads(cast("receipt", receipt["transactionHash"], "--json").stdout)
    assert again["blockHash"] == receipt["blockHash"] and again["logs"] == receipt["logs"]
    tx = json.loads(cast("tx", receipt["transactionHash"], "--json").stdout)
    assert tx["hash"] == receipt["transactionHash"] and tx["input"].startswith("0x60fe47b1")


def test_cast_reads_logs_and_fee_history(cast, probe):
    logs = json.loads(cast("logs", "--from-block", "0", "--address", probe,
                           "ValueSet(address indexed,uint256 indexed,string)", "--json").stdout)
    assert len(logs) >= 1 and all(log["address"] == probe for log in logs)
    history = json.loads(cast("rpc", "--raw", "eth_feeHistory", '["0x2", "latest", [25, 75]]').stdout)
    assert len(history["baseFeePerGas"]) == 3 and len(history["reward"]) == 2 and len(history["reward"][0]) == 2
    newest = int(cast("block-number").stdout)
    assert int(history["oldestBlock"], 16) == newest - 1


def test_cast_sees_reverts_with_their_data(cast, probe):
    call = cast("call", probe, "set(uint256)", "5000", ok=False)
    assert call.returncode != 0 and "execution reverted" in call.stderr and TOO_LARGE in call.stderr
    estimate = cast("estimate", probe, "set(uint256)", "5000", ok=False)
    assert estimate.returncode != 0 and TOO_LARGE in estimate.stderr
    mined = cast("send", probe, "set(uint256)", "5000", "--gas-limit", "100000", "--private-key", key_of(1),
                 "--json", ok=False)
    receipt = json.loads(mined.stdout)
    assert receipt["status"] == "0x0" and receipt["blockHash"]


def test_cast_replaces_a_pending_transaction(cast):
    sender = funded_accounts(3)[2]
    key = key_of(2)
    cast("rpc", "evm_setAutomine", "false")
    try:
        nonce = cast("nonce", sender.address, "--block", "pending").stdout.strip()
        common = ["--async", "--private-key", key, "--nonce", nonce, RECIPIENT, "--value", "1"]
        first = cast("send", "--gas-price", "10gwei", "--priority-gas-price", "1gwei", *common).stdout.strip()
        underpriced = cast("send", "--gas-price", "10000000001", "--priority-gas-price", "1000000001", *common,
                           ok=False)
        assert underpriced.returncode != 0 and "replacement transaction underpriced" in underpriced.stderr
        second = cast("send", "--gas-price", "20gwei", "--priority-gas-price", "2gwei", *common).stdout.strip()
        cast("rpc", "evm_mine")
        assert json.loads(cast("receipt", second, "--json").stdout)["status"] == "0x1"
        assert cast("rpc", "eth_getTransactionReceipt", first).stdout.strip() == "null"
    finally:
        cast("rpc", "evm_setAutomine", "true")


def test_cast_sends_from_a_node_account_without_gas(cast):
    sender = funded_accounts(2)[1].address
    receipt = json.loads(cast("send", "--unlocked", "--from", sender, RECIPIENT, "--value", "3", "--json").stdout)
    assert receipt["status"] == "0x1" and receipt["from"] == sender.lower()


def test_ethers_drives_the_devnet(served):
    done = subprocess.run(["node", str(ETHERS_SCRIPT), served.url, str(CONTRACTS_DIR / "build" / "RpcProbe.json"),
                           str(CONTRACTS_DIR)], capture_output=True, text=True, timeout=240)
    assert done.stdout.strip(), done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["failed"] == [], json.dumps(report["failed"], indent=1)
    assert {"deploy", "call", "estimate", "send and receipt with a log", "logs by filter", "fee history",
            "custom error in a call", "mined revert", "nonce too low", "insufficient funds",
            "replaced transaction", "node account sends without gas"} <= set(report["passed"])
    assert done.returncode == 0
