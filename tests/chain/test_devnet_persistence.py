"""The devnet's chain on disk survives crashes: every answered change is journalled first, a torn
journal frame is dropped, and `studio devnet serve` killed with SIGKILL mid-stream reopens at a
block boundary with every receipt its client was given."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from studio.chain.devnet import Devnet

from rpc_nodes import RECIPIENT, RpcNode, funded_accounts, signed

REPO = Path(__file__).resolve().parents[2]


def send_transfer(devnet: Devnet, account, nonce: int) -> str:
    answer = devnet.request("eth_sendRawTransaction", [signed(account, nonce, to=RECIPIENT, value=nonce + 1)])
    assert "result" in answer, answer
    return answer["result"]


def test_an_answered_transaction_is_on_disk_before_close(tmp_path):
    """Copy the folder while the devnet is still open (as a crash would leave it): the transaction is there."""
    account = funded_accounts(1)[0]
    devnet = Devnet(tmp_path / "live")
    try:
        tx_hash = send_transfer(devnet, account, 0)
        shutil.copytree(tmp_path / "live", tmp_path / "crashed", ignore=shutil.ignore_patterns("lock"))
    finally:
        devnet.close()
    reopened = Devnet(tmp_path / "crashed")
    try:
        receipt = reopened.request("eth_getTransactionReceipt", [tx_hash])["result"]
        assert receipt["status"] == "0x1" and receipt["blockNumber"] == "0x1"
        assert send_transfer(reopened, account, 1)  # and the chain goes on from there
    finally:
        reopened.close()


def test_a_torn_journal_frame_is_dropped_and_the_journal_goes_on(tmp_path):
    account = funded_accounts(1)[0]
    devnet = Devnet(tmp_path / "devnet")
    journal = devnet.state_dir / "chain.log"
    first = send_transfer(devnet, account, 0)
    whole = journal.stat().st_size
    second = send_transfer(devnet, account, 1)
    data = journal.read_bytes()
    shutil.copytree(tmp_path / "devnet", tmp_path / "torn", ignore=shutil.ignore_patterns("lock"))
    devnet.close()
    torn = tmp_path / "torn" / "chain.log"
    torn.write_bytes(data[:whole + (len(data) - whole) // 2])  # the second frame half written
    reopened = Devnet(tmp_path / "torn")
    try:
        assert reopened.request("eth_getTransactionReceipt", [first])["result"]["status"] == "0x1"
        assert reopened.request("eth_getTransactionReceipt", [second])["result"] is None
        assert reopened.request("eth_blockNumber", [])["result"] == "0x1"
        third = send_transfer(reopened, account, 1)  # written after the good frames, not after the garbage
    finally:
        reopened.close()
    again = Devnet(tmp_path / "torn")
    try:
        assert again.request("eth_getTransactionReceipt", [third])["result"]["blockNumber"] == "0x2"
    finally:
        again.close()


def test_a_journal_already_folded_into_the_snapshot_is_not_replayed(tmp_path):
    """Killed between writing a new snapshot and starting a new journal: the old journal is ignored."""
    account = funded_accounts(1)[0]
    devnet = Devnet(tmp_path / "devnet")
    send_transfer(devnet, account, 0)
    old_journal = (devnet.state_dir / "chain.log").read_bytes()
    send_transfer(devnet, account, 1)
    devnet.save()  # snapshot of both transactions, new journal
    devnet.close()
    (tmp_path / "devnet" / "chain.log").write_bytes(old_journal)
    reopened = Devnet(tmp_path / "devnet")
    try:
        assert reopened.request("eth_blockNumber", [])["result"] == "0x2"
        assert reopened.request("eth_getTransactionCount", [account.address, "latest"])["result"] == "0x2"
    finally:
        reopened.close()


def start_serve(home: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-m", "studio", "devnet", "serve", "--port", "0"], cwd=REPO,
                               env={**os.environ, "STUDIO_HOME": str(home)}, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline() if process.stdout else ""
    assert " at http" in line, f"serve did not start: {line!r}"
    return process, line.split(" at ")[1].split(" ")[0]


@pytest.mark.slow
def test_sigkill_during_a_stream_of_transactions_loses_no_answered_receipt(tmp_path):
    home = tmp_path / "home"
    account = funded_accounts(1)[0]
    process, url = start_serve(home)
    node = RpcNode("devnet", url)
    got: dict[str, dict] = {}
    killed = threading.Event()

    def stream() -> None:
        nonce = 0
        while not killed.is_set() and nonce < 400:
            try:
                tx_hash = node.result("eth_sendRawTransaction", [signed(account, nonce, to=RECIPIENT, value=1)])
                receipt = node.result("eth_getTransactionReceipt", [tx_hash])
            except OSError:  # the server died under this request
                return
            got[tx_hash] = receipt
            nonce += 1

    sender = threading.Thread(target=stream)
    sender.start()
    try:
        while len(got) < 25 and sender.is_alive():
            sender.join(0.05)
        process.send_signal(signal.SIGKILL)  # while the stream is still writing
        process.wait(10)
    finally:
        killed.set()
        sender.join(30)
        if process.poll() is None:
            process.kill()
    assert len(got) >= 25

    process, url = start_serve(home)
    node = RpcNode("devnet", url)
    try:
        head = int(node.result("eth_blockNumber"), 16)
        for tx_hash, receipt in got.items():
            assert node.result("eth_getTransactionReceipt", [tx_hash]) == receipt
        # a block boundary: every block links to its parent, every transaction has its receipt,
        # and the sender's nonce counts exactly the transactions mined
        previous = None
        mined = 0
        for number in range(head + 1):
            block = node.result("eth_getBlockByNumber", [hex(number), False])
            if previous is not None:
                assert block["parentHash"] == previous
            previous = block["hash"]
            for tx_hash in block["transactions"]:
                assert node.result("eth_getTransactionReceipt", [tx_hash])["blockHash"] == block["hash"]
                mined += 1
        assert head >= len(got) and mined == head
        assert int(node.result("eth_getTransactionCount", [account.address, "latest"]), 16) == mined
        more = node.result("eth_sendRawTransaction", [signed(account, mined, to=RECIPIENT, value=1)])
        assert node.result("eth_getTransactionReceipt", [more])["status"] == "0x1"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
