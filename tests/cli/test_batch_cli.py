"""`studio batch-mint` end to end: errors, dry run and JSON report on the devnet; on anvil, the command
killed with SIGKILL at several steps (STUDIO_BATCH_CRASH_AT) and run again until the batch is done,
checked on chain: every work minted exactly once, to the artist, with its metadata, and listed."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli.main import main

TEST_PHRASE = "test test test test test test test test test test test junk"
PASSWORD = "wallet-pass-for-batch"
ARTIST = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch):
    import studio.chain.keystore as keystore

    monkeypatch.setattr(keystore, "DEFAULT_KDF_N", 2**10)
    monkeypatch.delenv("STUDIO_WALLET_PASSWORD", raising=False)
    monkeypatch.delenv("STUDIO_BATCH_CRASH_AT", raising=False)


@pytest.fixture(autouse=True)
def close_devnets():
    yield
    import studio.chain.devnet as devnet_module

    for devnet in list(devnet_module._shared.values()):
        devnet.close()


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def inputs(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "inputs"
    (folder / "art").mkdir(parents=True)
    (folder / "password").write_text(PASSWORD + "\n")
    (folder / "phrase").write_text(TEST_PHRASE + "\n")
    lines = ["file,name,description,attributes,price"]
    for index in range(12):
        Image.new("RGB", (16, 16), (index * 20, 255 - index * 20, 90)).save(folder / "art" / f"w{index:02d}.png")
        lines.append(f"art/w{index:02d}.png,Work {index},Made for the test,Index:{index},")
    (folder / "drop.csv").write_text("\n".join(lines) + "\n")
    code, _, err = run(capsys, "wallet", "import", "--phrase-file", folder / "phrase", "--count", "1",
                       "--password-file", folder / "password")
    assert code == 0, err
    return folder


def _collection(capsys, inputs: Path, *network: str) -> str:
    code, out, err = run(capsys, "collection", "create", "--name", "Batch", "--symbol", "BAT", "--password-file",
                         inputs / "password", "--yes", "--json", *network)
    assert code == 0, err
    return json.loads(out)[0]["address"]


def test_bad_manifest_dry_run_and_json_report_on_the_devnet(capsys, inputs):
    address = _collection(capsys, inputs)
    bad = inputs / "bad.csv"
    bad.write_text("file,name,price\nart/w00.png,A,cheap\nart/nope.png,B,\n")
    code, _, err = run(capsys, "batch-mint", bad, "--collection", address)
    assert code == 2 and "row 1, price:" in err and "row 2, file:" in err and "nothing was uploaded" in err
    signing = ("--collection", address, "--password-file", inputs / "password", "--yes")
    code, out, err = run(capsys, "batch-mint", inputs / "drop.csv", *signing, "--batch-size", "5", "--dry-run",
                         "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["mint_transactions"] == 3 and len(plan["works"]) == 12 and plan["estimated_gas"] > 0
    assert not (inputs / "drop.csv.journal.sqlite").exists()
    code, out, err = run(capsys, "batch-mint", inputs / "drop.csv", *signing, "--batch-size", "5", "--json",
                         "--list-price", "0.01")
    assert code == 0, err
    report = json.loads(out)
    assert report["minted"] == 12 and report["left"] == 0 and report["listed"] == 12
    assert [t["token_id"] for t in report["tokens"]] == list(range(1, 13))
    assert report["gas_used"] > 0 and int(report["cost_wei"]) > 0
    assert "12 of 12 minted, 12/12 listed" in err  # plain progress lines without a terminal
    code, out, err = run(capsys, "wallet", "history", "--json")  # the deployment and the batch are the wallet's
    descriptions = [entry["description"] for entry in json.loads(out) if entry["status"] == "confirmed"]
    assert descriptions.count("Deploying the collection Batch (BAT)") == 1
    assert sorted(d for d in descriptions if d.startswith("Minting")) == ["Minting 2 works in Batch"] + [
        "Minting 5 works in Batch"] * 2
    assert descriptions.count("Listing the token") == 12 and descriptions.count("Approving the marketplace") == 1
    code, out, _ = run(capsys, "wallet", "history", "--json", "--account", "Account 2")
    assert code == 2 and "No wallet account is called 'Account 2'" in json.loads(out)["error"]
    code, out, _ = run(capsys, "wallet", "history", "--json", "--account", "Account 1")
    assert len(json.loads(out)) == 17
    code, out, err = run(capsys, "batch-mint", inputs / "drop.csv", *signing, "--batch-size", "0")
    assert code == 2 and "1 to 1000" in err


def _cli(env: dict, *argv) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio", *map(str, argv)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=180)


@pytest.mark.slow
def test_killed_at_every_step_and_resumed_mints_each_work_once_and_lists_it(capsys, inputs, monkeypatch):
    from studio.chain.anvil import AnvilProcess, anvil_binary
    from studio.chain.contracts import CollectionContract, MarketplaceContract
    from studio.chain.transactions import Connection, LocalSigner
    from studio.config import load_config
    from studio.storage.cid import Cid
    from studio.storage.store import LocalStore

    if not anvil_binary().exists():
        pytest.fail(f"The anvil test node is missing ({anvil_binary()}). Run `python3 dev.py test`.", pytrace=False)
    with AnvilProcess() as node:
        from eth_account import Account

        connection = Connection.from_url(node.url)
        Account.enable_unaudited_hdwallet_features()
        operator = Account.from_mnemonic(TEST_PHRASE, account_path="m/44'/60'/0'/0/8")
        market, _ = MarketplaceContract.deploy(connection, LocalSigner(operator))
        code, _, err = run(capsys, "network", "add", "anvil", "--rpc", node.url, "--chain-id", "31337")
        assert code == 0, err
        config = load_config()
        config.set("marketplace_addresses", f"anvil={market.address}")
        config.save()
        address = _collection(capsys, inputs, "--network", "anvil")
        rpc = connection.web3.provider.make_request
        journal = inputs / "drop.csv.journal.sqlite"
        command = ("batch-mint", inputs / "drop.csv", "--collection", address, "--network", "anvil",
                   "--password-file", inputs / "password", "--yes", "--batch-size", "3", "--list-price", "0.02",
                   "--json")
        env = dict(os.environ)

        def killed_at(step: str) -> None:
            result = _cli({**env, "STUDIO_BATCH_CRASH_AT": step}, *command)
            assert result.returncode == -signal.SIGKILL, result.stderr

        contract = CollectionContract(connection, address)
        killed_at("after-upload:5")
        assert contract.total_supply() == 0
        killed_at("after-sign:2")  # batch 1 mined; batch 2 signed and journaled, never broadcast
        assert contract.total_supply() == 3
        killed_at("after-send:3")  # batch 2 broadcast again as signed; batch 3 mined, killed before its receipt
        assert contract.total_supply() == 9
        rpc("evm_setAutomine", [False])
        killed_at("after-send:4")  # batch 4 sent, still pending when killed
        with sqlite3.connect(journal) as db:
            (pending,) = db.execute("SELECT hash FROM txs WHERE kind = 'mint' AND subject = 4").fetchone()
            hashes = [h for (h,) in db.execute("SELECT hash FROM txs WHERE kind = 'mint' ORDER BY subject")]
        assert connection.web3.eth.get_transaction(pending)["blockNumber"] is None
        rpc("anvil_dropTransaction", [pending])  # and then the node forgets it
        with pytest.raises(Exception, match="not found"):
            connection.web3.eth.get_transaction(pending)
        rpc("evm_setIntervalMining", [1])
        killed_at("mid-listing:5")  # batch 4 broadcast again as signed; 5 listings sent, pending when killed
        rpc("evm_setIntervalMining", [0])
        rpc("evm_setAutomine", [True])
        result = _cli(env, *command)
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["minted"] == 12 and report["listed"] == 12 and report["left"] == 0

        with sqlite3.connect(journal) as db:
            mints = db.execute("SELECT subject, hash, nonce, state FROM txs WHERE kind = 'mint' ORDER BY subject")
            mints = mints.fetchall()
        assert [m[0] for m in mints] == [1, 2, 3, 4] and [m[1] for m in mints] == hashes
        assert {m[3] for m in mints} == {"landed"} and len({m[2] for m in mints}) == 4
        events = contract.contract.events.ContentCommitted().get_logs(from_block=0)
        assert [e["args"]["count"] for e in events] == [3, 3, 3, 3]  # four mints, no more
        assert contract.total_supply() == 12
        store = LocalStore.default()
        names = set()
        for token_id in range(1, 13):
            listing = market.listing(address, token_id)
            assert contract.owner_of(token_id) == market.address and listing.seller == ARTIST
            assert listing.price_wei == 2 * 10**16
            cid, _, entry = contract.token_uri(token_id)[len("ipfs://"):].partition("/")
            metadata = json.loads(store.cat(Cid.parse(cid), entry))
            names.add(metadata["name"])
            assert metadata["attributes"][0] == {"trait_type": "Index", "value": int(metadata["name"].split()[-1])}
        assert names == {f"Work {i}" for i in range(12)}
        # Every transaction the killed runs signed is in the wallet's history, and each one mined.
        from studio.chain.history import TxHistory

        history = {e.tx_hash: e for e in TxHistory.default().entries(chain_id=31337, limit=1000)}
        with sqlite3.connect(journal) as db:
            journaled = db.execute("SELECT hash, state FROM txs").fetchall()
        assert len(journaled) >= 17 and {state for _, state in journaled} == {"landed"}
        assert {history[tx_hash].status for tx_hash, _ in journaled} == {"confirmed"}
