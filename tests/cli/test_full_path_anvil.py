"""The artist's whole path from the command line on a real anvil node: add the network, import the wallet,
create a collection, mint two works, list one, lazily list another, and a second account buys both;
listings, holdings, balances (exact wei: seller, buyer, royalty receiver), royalties and the library
are checked afterwards. The studio marketplace on anvil is deployed here and named in the
``marketplace_addresses`` setting, as a person does for any network other than the devnet."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli.exit_codes import Exit
from studio.cli.main import main

TEST_PHRASE = "test test test test test test test test test test test junk"
PASSWORD = "wallet-pass-for-the-full-path"
ARTIST = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
COLLECTOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
RECEIVER = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"  # account 10 of the phrase: royalties only
PRICE = 10**17        # 0.1 ETH
LAZY_PRICE = 5 * 10**16  # 0.05 ETH
ROYALTY_BPS = 500


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch):
    """The product's scrypt cost takes a second per operation; this test uses a low one."""
    import studio.chain.keystore as keystore

    monkeypatch.setattr(keystore, "DEFAULT_KDF_N", 2**10)
    monkeypatch.delenv("STUDIO_WALLET_PASSWORD", raising=False)
    monkeypatch.delenv("STUDIO_PINNING_TOKEN", raising=False)


@pytest.fixture
def node():
    from studio.chain.anvil import AnvilProcess, anvil_binary

    if not anvil_binary().exists():
        pytest.fail(f"The anvil test node is missing ({anvil_binary()}). Run `python3 dev.py test`.", pytrace=False)
    with AnvilProcess() as process:
        yield process


def run(capsys, *argv) -> tuple[int, str, str]:
    """(exit status, stdout, stderr); under --json a failure's JSON object is also said on stderr's text."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    if code != 0 and "--json" in argv:
        error = json.loads(out.strip().splitlines()[-1])
        assert set(error) == {"error", "hint", "exit"} and error["exit"] == code
        err += f"error: {error['error']} {error['hint'] or ''}"
    return code, out, err


def ok(capsys, *argv):
    """Run a command that must succeed; its --json output, parsed."""
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return json.loads(out) if "--json" in argv else out


def _works(folder: Path) -> list[Path]:
    from PIL import Image

    paths = []
    for index, colour in enumerate([(240, 110, 20), (20, 110, 240)]):
        path = folder / f"dawn-{index}.png"
        Image.new("RGB", (32, 32), colour).save(path)
        paths.append(path)
    return paths


@pytest.mark.slow
def test_create_mint_list_lazy_list_and_a_second_account_buys_both_on_anvil(capsys, node, tmp_path):
    from eth_account import Account

    from studio.chain.contracts import CollectionContract, MarketplaceContract
    from studio.chain.transactions import Connection, LocalSigner
    from studio.config import load_config
    from studio.library.db import Library
    from studio.library.market import MarketStore
    from studio.storage.cid import Cid
    from studio.storage.store import LocalStore

    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "password").write_text(PASSWORD + "\n")
    (folder / "phrase").write_text(TEST_PHRASE + "\n")
    works = _works(folder)
    connection = Connection.from_url(node.url)

    # The network, the wallet (two accounts of the phrase) and the marketplace the setting names.
    ok(capsys, "network", "add", "anvil", "--rpc", node.url, "--chain-id", "31337")
    ok(capsys, "wallet", "import", "--phrase-file", folder / "phrase", "--count", "2", "--password-file",
       folder / "password")
    Account.enable_unaudited_hdwallet_features()
    operator = LocalSigner(Account.from_mnemonic(TEST_PHRASE, account_path="m/44'/60'/0'/0/8"))
    marketplace, _ = MarketplaceContract.deploy(connection, operator)
    config = load_config()
    config.set("marketplace_addresses", f"anvil={marketplace.address}")
    config.save()
    signing = ("--network", "anvil", "--password-file", folder / "password", "--yes", "--json")

    # The artist creates a collection and mints two works (one batch).
    (collection,) = ok(capsys, "collection", "create", "--name", "Dawns", "--symbol", "DAWN", "--royalty", "5%",
                       "--receiver", RECEIVER, *signing)
    address = collection["address"]
    assert (collection["chain_id"], collection["royalty_bps"], collection["network"]) == (31337, 500, "anvil")
    minted = ok(capsys, "mint", *works, "--collection", address, "--name", "Dawn", "--license", "cc-by", *signing)
    tokens = minted["tokens"]
    assert [t["token_id"] for t in tokens] == [1, 2] and {t["owner"] for t in tokens} == {ARTIST}
    contract = CollectionContract(connection, address)
    assert contract.total_supply() == 2 and contract.owner_of(1) == ARTIST

    # It lists token 1 and lazily lists a third work (a signed voucher: no gas, nothing minted).
    code, _, err = run(capsys, "list", address, 1, "--price", "0.1", *signing)
    assert code == Exit.INPUT and "Seaport 1.6 is not deployed" in err and "--escrow" in err  # a bare private chain
    listed = ok(capsys, "list", address, 1, "--price", "0.1", "--escrow", *signing)
    assert listed["action"] == "list" and len(listed["transactions"]) == 2  # approval, then the listing
    metadata = folder / "lazy.json"
    metadata.write_text(json.dumps({"name": "Dawn, unminted", "description": "minted by its buyer"}))
    voucher = folder / "voucher.json"
    lazy = ok(capsys, "list", address, "--lazy", metadata, "--price", "0.05", "--voucher-out", voucher, *signing)
    assert lazy["price_wei"] == str(LAZY_PRICE) and json.loads(voucher.read_text())["signature"]
    assert contract.total_supply() == 2
    market = ok(capsys, "market", "listings", "--network", "anvil", "--json")
    assert market["marketplace"] == marketplace.address
    assert [(l["token_id"], l["seller"], l["price_wei"]) for l in market["listings"]] == [(1, ARTIST, str(PRICE))]
    assert [(v["id"], v["artist"], v["price_wei"]) for v in market["lazy"]] == [(lazy["id"], ARTIST,
                                                                                  str(LAZY_PRICE))]

    # The collector (the wallet's second account) buys both.
    balance = connection.balance
    before = {who: balance(who) for who in (ARTIST, COLLECTOR, RECEIVER)}
    collector = ("--account", COLLECTOR)
    bought = ok(capsys, "buy", address, 1, "--price", "0.1", "--escrow", *collector, *signing)
    redeemed = ok(capsys, "buy", "--voucher", voucher, "--price", "0.05", *collector, *signing)
    assert (bought["action"], bought["token_id"]) == ("buy", 1)
    assert (redeemed["action"], redeemed["token_id"]) == ("buy-voucher", 3)
    royalty = PRICE * ROYALTY_BPS // 10_000
    fees = int(bought["fee_wei"]) + int(redeemed["fee_wei"])
    assert balance(ARTIST) - before[ARTIST] == PRICE - royalty + LAZY_PRICE
    assert balance(RECEIVER) - before[RECEIVER] == royalty
    assert before[COLLECTOR] - balance(COLLECTOR) == PRICE + LAZY_PRICE + fees
    assert [contract.owner_of(t) for t in (1, 2, 3)] == [COLLECTOR, ARTIST, COLLECTOR]
    info = contract.royalty_info(3, 10_000)
    assert (info.receiver, info.amount_wei) == (RECEIVER, ROYALTY_BPS)  # the lazy token pays the same royalty
    assert contract.token_uri(3) == f"ipfs://{lazy['metadata_cid']}"
    assert json.loads(LocalStore.default().cat(Cid.parse(lazy["metadata_cid"])))["name"] == "Dawn, unminted"

    # What the market and the library say afterwards.
    market = ok(capsys, "market", "listings", "--network", "anvil", "--json")
    assert market["listings"] == [] and market["lazy"] == []
    mine = ok(capsys, "market", "mine", "--network", "anvil", *collector, "--json")
    assert [(t["token_id"], t["listed"]) for t in mine] == [(1, False), (3, False)]
    mine = ok(capsys, "market", "mine", "--network", "anvil", "--json")
    assert [(t["token_id"], t["listed"]) for t in mine] == [(2, False)]
    with Library.default() as library:
        assert [(t.token_id, t.tx_hash) for t in library.tokens(31337, address)] == [
            (1, minted["tx_hash"]), (2, minted["tx_hash"])]
        attempts = library.attempts(chain_id=31337)
        assert [a.state for a in attempts] == ["minted", "minted"]
        store = MarketStore(library)
        assert [t.token_id for t in store.my_tokens(31337, COLLECTOR)] == [1, 3]
        assert store.owner_of(31337, address, 2) == ARTIST

    # Buying either again is refused before anything is signed.
    code, _, err = run(capsys, "buy", address, 1, "--escrow", *collector, *signing)
    assert code == Exit.INPUT and "not listed" in err
    code, _, err = run(capsys, "buy", "--voucher", voucher, *collector, *signing)
    assert code == Exit.INPUT and "already bought" in err
