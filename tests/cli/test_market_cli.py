"""`studio list|buy|offers|market` on the embedded devnet: Seaport listings (one, bulk), buying, WETH offers,
cancel one and cancel all; the escrow marketplace with --escrow; lazy listings; refusals."""
from __future__ import annotations

import builtins
import json
import sys

import pytest

from studio.cli.exit_codes import Exit
from studio.cli.main import main

TEST_PHRASE = "test test test test test test test test test test test junk"
PASSWORD = "wallet-pass-for-market"
ARTIST = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
COLLECTOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ETH = 10**18


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch):
    """The product's scrypt cost takes a second per operation; these tests use a low one."""
    import studio.chain.keystore as keystore

    monkeypatch.setattr(keystore, "DEFAULT_KDF_N", 2**10)
    monkeypatch.delenv("STUDIO_WALLET_PASSWORD", raising=False)
    monkeypatch.delenv("STUDIO_PINNING_TOKEN", raising=False)


@pytest.fixture(autouse=True)
def close_devnets():
    yield
    import studio.chain.devnet as devnet_module

    for devnet in list(devnet_module._shared.values()):
        devnet.close()


def run(capsys, *argv) -> tuple[int, str, str]:
    """(exit status, stdout, stderr); under --json a failure's JSON object is also said on stderr's text."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    if code != 0 and "--json" in argv:
        error = json.loads(out.strip().splitlines()[-1])
        assert set(error) == {"error", "hint", "exit"} and error["exit"] == code
        err += f"error: {error['error']} {error['hint'] or ''}"
    return code, out, err


@pytest.fixture
def studio(tmp_path, capsys):
    """A wallet with two accounts (artist, collector), a collection and three minted works."""
    from PIL import Image

    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "password").write_text(PASSWORD + "\n")
    (folder / "phrase").write_text(TEST_PHRASE + "\n")
    code, _, err = run(capsys, "wallet", "import", "--phrase-file", folder / "phrase", "--count", "2",
                       "--password-file", folder / "password")
    assert code == 0, err
    signing = ("--password-file", folder / "password", "--yes", "--json")
    code, out, err = run(capsys, "collection", "create", "--name", "Dawns", "--symbol", "DAWN", "--royalty", "5%",
                         *signing)
    assert code == 0, err
    collection = json.loads(out)[0]["address"]
    for index, colour in enumerate([(250, 120, 0), (0, 120, 250), (120, 250, 0)]):
        Image.new("RGB", (16, 16), colour).save(folder / f"work-{index}.png")
    code, out, err = run(capsys, "mint", *(folder / f"work-{i}.png" for i in range(3)), "--collection", collection,
                         "--name", "Dawn", *signing)
    assert code == 0, err
    assert [t["token_id"] for t in json.loads(out)["tokens"]] == [1, 2, 3]
    return folder, collection, signing


def _balance(address: str) -> int:
    from studio.chain.devnet import Devnet

    return Devnet.shared().connection().balance(address)


def test_escrow_list_then_a_second_account_buys_and_the_market_shows_it(studio, capsys):
    folder, collection, signing = studio
    code, out, err = run(capsys, "list", collection, 1, "--price", "0.1", "--escrow", *signing)
    assert code == 0, err
    assert json.loads(out)["action"] == "list" and len(json.loads(out)["transactions"]) == 2  # approve + list
    code, out, err = run(capsys, "market", "listings", "--json")
    assert code == 0, err
    listings = json.loads(out)["listings"]
    assert [(l["token_id"], l["seller"], l["price_wei"]) for l in listings] == [(1, ARTIST, str(ETH // 10))]
    artist_before, collector_before = _balance(ARTIST), _balance(COLLECTOR)
    code, _, err = run(capsys, "buy", collection, 1, "--account", COLLECTOR, *signing)
    assert code == Exit.INPUT and "not listed for sale on Seaport" in err and "--escrow" in err
    code, out, err = run(capsys, "buy", collection, 1, "--price", "0.1", "--escrow", "--account", COLLECTOR,
                         *signing)
    assert code == 0, err
    bought = json.loads(out)
    # The artist is also the royalty receiver here: seller's share plus royalty is the whole price.
    assert _balance(ARTIST) - artist_before == ETH // 10
    assert collector_before - _balance(COLLECTOR) == ETH // 10 + int(bought["fee_wei"])
    code, out, _ = run(capsys, "market", "listings", "--json")
    assert json.loads(out)["listings"] == []
    code, out, _ = run(capsys, "market", "mine", "--account", COLLECTOR, "--json")
    assert [t["token_id"] for t in json.loads(out)] == [1]
    code, _, err = run(capsys, "buy", collection, 1, "--escrow", "--account", COLLECTOR, *signing)
    assert code == Exit.INPUT and "not listed" in err


def test_escrow_change_price_and_cancel_from_the_command_line(studio, capsys):
    folder, collection, signing = studio
    assert run(capsys, "list", collection, 3, "--price", "1000wei", "--escrow", *signing)[0] == 0
    code, out, err = run(capsys, "list", collection, 3, "--change-price", "2000wei", "--escrow", *signing)
    assert code == 0, err
    assert json.loads(out)["price_wei"] == "2000"
    code, out, _ = run(capsys, "market", "listings", "--json")
    assert [l["price_wei"] for l in json.loads(out)["listings"]] == ["2000"]
    code, _, err = run(capsys, "list", collection, 3, "--cancel", *signing)
    assert code == Exit.INPUT and "no open Seaport listing" in err and "--escrow" in err
    code, out, err = run(capsys, "list", collection, 3, "--cancel", "--escrow", *signing)
    assert code == 0, err
    code, out, _ = run(capsys, "market", "mine", "--json")
    assert {(t["token_id"], t["listed"]) for t in json.loads(out)} == {(1, False), (2, False), (3, False)}
    code, _, err = run(capsys, "list", collection, 3, "--price", "0", *signing)
    assert code == Exit.INPUT and "more than zero" in err


def test_lazy_listing_is_bought_with_its_voucher_file(studio, capsys):
    folder, collection, signing = studio
    metadata = folder / "lazy.json"
    metadata.write_text(json.dumps({"name": "Lazy dawn", "description": "not minted yet"}))
    voucher = folder / "voucher.json"
    code, out, err = run(capsys, "list", collection, "--lazy", metadata, "--price", "0.05", "--voucher-out",
                         voucher, *signing)
    assert code == 0, err
    lazy = json.loads(out)
    assert json.loads(voucher.read_text())["signature"] == lazy["voucher"]["signature"]
    code, out, _ = run(capsys, "market", "listings", "--json")
    assert [v["id"] for v in json.loads(out)["lazy"]] == [lazy["id"]]
    artist_before = _balance(ARTIST)
    code, out, err = run(capsys, "buy", "--voucher", voucher, "--account", COLLECTOR, *signing)
    assert code == 0, err
    token = json.loads(out)["token_id"]
    assert token == 4 and _balance(ARTIST) - artist_before == ETH // 20
    code, out, _ = run(capsys, "market", "listings", "--json")
    assert json.loads(out)["lazy"] == []
    code, out, _ = run(capsys, "market", "mine", "--account", COLLECTOR, "--json")
    assert [t["token_id"] for t in json.loads(out)] == [4]
    code, _, err = run(capsys, "buy", "--voucher", voucher, "--account", COLLECTOR, *signing)
    assert code == Exit.INPUT and "already bought" in err


def test_escrow_offers_made_listed_incoming_withdrawn_and_accepted(studio, capsys):
    folder, collection, signing = studio
    collector = ("--account", COLLECTOR, "--escrow")
    assert run(capsys, "offers", "--make", collection, 2, "0.01", *collector, *signing)[0] == 0
    code, out, _ = run(capsys, "offers", "--account", COLLECTOR, "--json")
    assert [(o["venue"], o["token_id"], o["amount_wei"]) for o in json.loads(out)] == [("escrow", 2, str(ETH // 100))]
    code, out, _ = run(capsys, "offers", "--incoming", "--json")
    assert [(o["token_id"], o["buyer"]) for o in json.loads(out)] == [(2, COLLECTOR)]
    assert run(capsys, "offers", "--withdraw", collection, 2, *collector, *signing)[0] == 0
    code, out, _ = run(capsys, "offers", "--incoming", "--json")
    assert json.loads(out) == []
    assert run(capsys, "offers", "--make", collection, 2, "0.02", *collector, *signing)[0] == 0
    code, out, err = run(capsys, "offers", "--accept", collection, 2, COLLECTOR, "--amount", "0.02", "--escrow",
                         *signing)
    assert code == 0, err
    code, out, _ = run(capsys, "market", "mine", "--account", COLLECTOR, "--json")
    assert [t["token_id"] for t in json.loads(out)] == [2]
    code, _, err = run(capsys, "market", "withdraw", *signing)
    assert code == Exit.INPUT and "holds nothing" in err


def test_a_refused_preview_sends_nothing(studio, capsys, monkeypatch):
    folder, collection, signing = studio
    answers = []
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(builtins, "input", lambda question: answers.append(question) or "n")
    no_yes = [a for a in signing if a != "--yes"]
    code, _, err = run(capsys, "list", collection, 1, "--price", "0.1", *no_yes)
    assert code == Exit.CANCELLED and "nothing was sent" in err
    assert "Approving Seaport for Dawns" in err and answers == ["Sign and send? [y/N] "]
    from studio.chain.contracts import CollectionContract
    from studio.chain.devnet import Devnet

    assert CollectionContract(Devnet.shared().connection(), collection).owner_of(1) == ARTIST


# ---- Seaport, the default venue


def test_seaport_listings_one_and_bulk_are_bought_cancelled_and_cancelled_all(studio, capsys):
    folder, collection, signing = studio
    code, out, err = run(capsys, "list", collection, 1, "--price", "0.1", "--expiry", "1d", *signing)
    assert code == 0, err
    listed = json.loads(out)
    assert listed["venue"] == "seaport" and len(listed["transactions"]) == 1  # the approval of Seaport, once
    [order] = listed["orders"]
    assert (order["kind"], order["token_id"], order["price_wei"]) == ("listing", 1, str(ETH // 10))
    assert 86_000 < order["end_time"] - order["start_time"] <= 86_400
    artist_before = _balance(ARTIST)
    code, out, err = run(capsys, "list", collection, "--bulk", 2, "3=0.2", "--price", "0.1", *signing)
    assert code == 0, err
    bulk = json.loads(out)
    assert bulk["action"] == "bulk-list" and bulk["transactions"] == [] and _balance(ARTIST) == artist_before
    assert [(o["token_id"], o["price_wei"]) for o in bulk["orders"]] == [(2, str(ETH // 10)), (3, str(ETH // 5))]
    code, out, _ = run(capsys, "market", "listings", "--json")
    assert [(o["token_id"], o["seller"]) for o in json.loads(out)["orders"]] == [(1, ARTIST), (2, ARTIST),
                                                                                (3, ARTIST)]
    artist_before = _balance(ARTIST)  # (reading the market deployed the escrow marketplace from account 0)
    code, out, err = run(capsys, "buy", collection, 1, "--price", "0.1", "--account", COLLECTOR, *signing)
    assert code == 0, err
    assert json.loads(out)["orders"][0]["status"] == "filled"
    # the artist is the royalty receiver here: the whole price is theirs
    assert _balance(ARTIST) - artist_before == ETH // 10
    code, out, _ = run(capsys, "market", "mine", "--account", COLLECTOR, "--json")
    assert [t["token_id"] for t in json.loads(out)] == [1]
    code, _, err = run(capsys, "buy", collection, 1, "--account", COLLECTOR, *signing)
    assert code == Exit.INPUT and "not listed" in err
    code, out, err = run(capsys, "list", collection, 2, "--change-price", "0.3", *signing)
    assert code == 0, err
    assert json.loads(out)["orders"][0]["price_wei"] == str(3 * ETH // 10)
    code, out, _ = run(capsys, "market", "mine", "--json")
    assert {(t["token_id"], t["venue"], t["price_wei"]) for t in json.loads(out)} == {
        (2, "seaport", str(3 * ETH // 10)), (3, "seaport", str(ETH // 5))}
    code, out, err = run(capsys, "list", collection, 3, "--cancel", *signing)
    assert code == 0, err
    code, out, err = run(capsys, "offers", "cancel-all", *signing)
    assert code == 0, err
    assert json.loads(out)["cancelled"] == 1  # token 2's listing at its new price
    code, out, _ = run(capsys, "market", "listings", "--json")
    assert json.loads(out)["orders"] == []


def test_seaport_offers_made_in_weth_accepted_and_cancelled(studio, capsys):
    folder, collection, signing = studio
    collector = ("--account", COLLECTOR)
    code, out, err = run(capsys, "offers", "--make", collection, 2, "0.01", "--expiry", "30d", *collector, *signing)
    assert code == 0, err
    made = json.loads(out)
    assert made["action"] == "offer" and len(made["transactions"]) == 2  # wrap ETH, approve WETH
    code, out, err = run(capsys, "offers", "--make", collection, "any", "0.005", *collector, *signing)
    assert code == 0, err
    collection_offer = json.loads(out)["orders"][0]
    assert collection_offer["kind"] == "collection offer" and json.loads(out)["transactions"] == []
    code, out, _ = run(capsys, "offers", *collector, "--json")
    assert {(o["venue"], o["token_id"], o["amount_wei"]) for o in json.loads(out)} == {
        ("seaport", 2, str(ETH // 100)), ("seaport", None, str(ETH // 200))}
    code, out, _ = run(capsys, "offers", "--incoming", "--json")
    assert {(o["token_id"], o["buyer"]) for o in json.loads(out)} == {(2, COLLECTOR), (None, COLLECTOR)}
    code, _, err = run(capsys, "offers", "--accept", collection, 2, COLLECTOR, "--amount", "0.02", *signing)
    assert code == Exit.INPUT and "no open Seaport offer" in err
    code, out, err = run(capsys, "offers", "--accept", collection, 2, COLLECTOR, "--amount", "0.01", *signing)
    assert code == 0, err
    code, out, _ = run(capsys, "market", "mine", "--account", COLLECTOR, "--json")
    assert [t["token_id"] for t in json.loads(out)] == [2]
    code, _, err = run(capsys, "offers", "--cancel", collection_offer["order_hash"], *signing)
    assert code == Exit.INPUT and "signed by" in err
    code, out, err = run(capsys, "offers", "--cancel", collection_offer["order_hash"], *collector, *signing)
    assert code == 0, err
    code, out, _ = run(capsys, "offers", *collector, "--json")
    assert json.loads(out) == []


@pytest.mark.slow
def test_listed_from_the_command_line_bought_by_seaport_js_and_by_the_studio(studio, capsys, tmp_path):
    """Issue #21's end to end: the artist lists two tokens under one signature (no gas after the approval);
    seaport-js, a client no one here wrote, buys one through the devnet served over HTTP; the collector
    buys the other with the studio; the order book says both were filled."""
    import shutil
    import subprocess

    from eth_account import Account

    from studio.chain.artifacts import CONTRACTS_DIR
    from studio.chain.contracts import CollectionContract
    from studio.chain.devnet import Devnet
    from studio.chain.devnet_server import DevnetServer

    folder, collection, signing = studio
    code, out, err = run(capsys, "list", collection, "--bulk", 1, "2=0.2", "--price", "0.1", "--expiry", "1d", *signing)
    assert code == 0, err
    first, second = json.loads(out)["orders"]
    assert (first["token_id"], second["token_id"]) == (1, 2) and len(first["order"]["signature"]) > 132  # bulk proof

    Account.enable_unaudited_hdwallet_features()
    stranger = Account.from_mnemonic(TEST_PHRASE, account_path="m/44'/60'/0'/0/2")  # no account of this wallet
    devnet = Devnet.shared()
    seaport = devnet.seaport_contracts()["Seaport"]
    (tmp_path / "order.json").write_text(json.dumps(first["order"]))
    node = shutil.which("node")
    assert node and (CONTRACTS_DIR / "node_modules" / "@opensea" / "seaport-js").exists(), "run `npm ci` in contracts/"
    artist_before = _balance(ARTIST)
    with DevnetServer(devnet, port=0) as served:
        result = subprocess.run([node, "scripts/seaport-js.mjs", "fulfil", str(tmp_path / "order.json")],
                                cwd=CONTRACTS_DIR, capture_output=True, text=True, timeout=180,
                                env={"PATH": "/usr/bin:/bin", "RPC_URL": served.url,
                                     "PRIVATE_KEY": "0x" + stranger.key.hex(), "SEAPORT": seaport})
    assert result.returncode == 0, result.stderr[-3000:]
    filled = json.loads(result.stdout.strip().splitlines()[-1])
    assert filled["status"] == 1 and filled["to"].lower() == seaport.lower()
    token = CollectionContract(devnet.connection(), collection)
    assert token.owner_of(1) == stranger.address
    assert _balance(ARTIST) - artist_before == ETH // 10  # the artist is the royalty receiver: the whole price

    code, out, err = run(capsys, "buy", collection, 2, "--price", "0.2", "--account", COLLECTOR, *signing)
    assert code == 0, err
    assert token.owner_of(2) == COLLECTOR
    code, out, _ = run(capsys, "market", "listings", "--json")
    assert json.loads(out)["orders"] == []  # token 1's order reads filled once Seaport says so
    code, _, err = run(capsys, "buy", collection, 1, "--account", COLLECTOR, *signing)
    assert code == Exit.INPUT and "not listed" in err


def test_the_opensea_key_is_kept_in_the_wallet_and_the_devnet_is_never_posted_to_opensea(studio, capsys):
    folder, collection, signing = studio
    (folder / "opensea-key").write_text("os-cli-key-7c1e\n")
    folder.joinpath("opensea-key").chmod(0o600)
    password = ("--password-file", folder / "password")
    code, out, err = run(capsys, "market", "opensea-key", "set", "--key-file", folder / "opensea-key", *password,
                         "--json")
    assert code == 0 and json.loads(out) == {"kept": True}, err
    from studio.chain.wallet import Wallet

    assert b"os-cli-key-7c1e" not in Wallet.default().path.read_bytes()  # encrypted with the keys
    code, out, err = run(capsys, "list", collection, 1, "--price", "0.1", "--opensea", *signing)
    assert code == Exit.INPUT and "OpenSea does not serve chain 1337" in err and "os-cli-key" not in out + err
    code, out, _ = run(capsys, "market", "listings", "--json")
    assert json.loads(out)["orders"] == []  # refused before anything was signed
    code, _, err = run(capsys, "offers", "--make", collection, 1, "0.01", "--opensea", "--account", COLLECTOR,
                       *signing)
    assert code == Exit.INPUT and "does not serve chain 1337" in err
    code, _, err = run(capsys, "market", "opensea", collection, *password)
    assert code == Exit.INPUT and "does not serve chain 1337" in err
    for removed in (True, False):
        code, out, err = run(capsys, "market", "opensea-key", "remove", *password, "--json")
        assert code == 0 and json.loads(out) == {"removed": removed}, err
