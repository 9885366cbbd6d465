"""`studio collection` and `studio mint` end to end: on the embedded devnet in-process, and on a real anvil node."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli.main import main

TEST_PHRASE = "test test test test test test test test test test test junk"
PASSWORD = "wallet-pass-for-mint"
ARTIST = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


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


@pytest.fixture
def files(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "password").write_text(PASSWORD + "\n")
    (folder / "phrase").write_text(TEST_PHRASE + "\n")
    for index, colour in enumerate([(250, 120, 0), (0, 120, 250), (120, 250, 0)]):
        Image.new("RGB", (24, 24), colour).save(folder / f"work-{index}.png")
    code, _, err = run(capsys, "wallet", "import", "--phrase-file", folder / "phrase", "--count", "2",
                       "--password-file", folder / "password")
    assert code == 0, err
    return folder


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _create_and_mint(capsys, files: Path, *network: str) -> tuple[dict, dict, dict]:
    signing = ("--password-file", files / "password", "--yes", "--json", *network)
    code, out, err = run(capsys, "collection", "create", "--name", "Dawns", "--symbol", "DAWN", "--royalty", "5%",
                         "--description", "Sunrises", *signing)
    assert code == 0, err
    (collection,) = json.loads(out)
    code, out, err = run(capsys, "mint", files / "work-0.png", "--collection", collection["address"], "--name",
                         "Orange", "--trait", "Mood=warm", "--trait", "Rank=3", "--license", "cc0", "--royalty",
                         "2.5%", *signing)
    assert code == 0, err
    single = json.loads(out)
    code, out, err = run(capsys, "mint", files / "work-1.png", files / "work-2.png", "--collection",
                         collection["address"], "--name", "Pair", *signing)
    assert code == 0, err
    return collection, single, json.loads(out)


def _check_on_chain(connection, collection: dict, single: dict, batch: dict) -> None:
    from studio.chain.contracts import CollectionContract
    from studio.storage.cid import Cid
    from studio.storage.store import LocalStore

    contract = CollectionContract(connection, collection["address"])
    assert contract.owner() == ARTIST and contract.total_supply() == 3
    (token,) = single["tokens"]
    assert token["token_id"] == 1 and token["owner"] == ARTIST
    assert contract.token_uri(1) == f"ipfs://{token['metadata_cid']}"
    assert contract.royalty_info(1, 10_000).amount_wei == 250
    assert contract.royalty_info(2, 10_000).amount_wei == 500
    store = LocalStore.default()
    metadata = json.loads(store.cat(Cid.parse(token["metadata_cid"])))
    assert metadata["name"] == "Orange" and metadata["license"] == "CC0-1.0"
    assert {"trait_type": "Rank", "value": 3} in metadata["attributes"]
    assert metadata["image"] == f"ipfs://{token['media_cid']}"
    assert [t["token_id"] for t in batch["tokens"]] == [2, 3]
    uri = contract.token_uri(3)
    cid, _, entry = uri[len("ipfs://"):].partition("/")
    assert entry == "1" and json.loads(store.cat(Cid.parse(cid), entry))["name"] == "Pair #2"


def test_create_a_collection_and_mint_one_work_and_a_batch_on_the_devnet(capsys, files):
    from studio.chain.devnet import Devnet

    collection, single, batch = _create_and_mint(capsys, files)
    assert collection["name"] == "Dawns" and collection["royalty_bps"] == 500 and collection["network"] == "devnet"
    _check_on_chain(Devnet.shared().connection(), collection, single, batch)

    code, out, err = run(capsys, "collection", "list", "--json")
    assert code == 0 and [c["address"] for c in json.loads(out)] == [collection["address"]]
    code, out, err = run(capsys, "collection", "import", collection["address"].lower(), "--json")
    assert code == 0, err
    assert json.loads(out)[0]["description"] == "Sunrises"

    code, out, err = run(capsys, "mint", files / "work-0.png", "--collection", collection["address"],
                         "--password-file", files / "password", "--yes")
    assert code == 2 and "already minted in Dawns as token 1" in err


def test_text_output_names_each_token_and_the_preview_is_shown_without_yes(capsys, files, monkeypatch):
    signing = ("--password-file", files / "password")
    code, out, err = run(capsys, "collection", "create", "--name", "Plain", "--symbol", "PLN", *signing)
    assert code == 0, err
    address = out.split()[0]
    assert "Deploying the collection" in err and "Plain (PLN)" in out
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda question: "n")
    code, out, err = run(capsys, "mint", files / "work-0.png", "--collection", address, *signing)
    assert code == 130 and "Nothing was signed" in err and "Function: StudioCollection.mint" in err.replace("  ", "")
    monkeypatch.setattr("builtins.input", lambda question: "y")
    code, out, err = run(capsys, "mint", files / "work-0.png", "--collection", address, *signing)
    assert code == 0, err
    assert out.startswith("token 1  work-0.png  ipfs://")


def test_unknown_collection_bad_trait_bad_royalty_and_no_password_are_reported(capsys, files, monkeypatch):
    code, _, err = run(capsys, "mint", files / "work-0.png", "--collection", "0x" + "12" * 20, "--password-file",
                       files / "password", "--yes")
    assert code == 2 and "collection import" in err
    code, _, err = run(capsys, "mint", files / "work-0.png", "--collection", "0x" + "12" * 20, "--trait", "Mood")
    assert code == 2 and "KEY=VALUE" in err
    code, _, err = run(capsys, "collection", "create", "--name", "X", "--symbol", "X", "--royalty", "50%")
    assert code == 2 and "between 0% and 10%" in err
    code, _, err = run(capsys, "collection", "import", "0x" + "12" * 20)
    assert code == 2 and "no contract" in err
    code, _, err = run(capsys, "collection", "create", "--name", "X", "--symbol", "X", "--yes")
    assert code == 2 and "--password-file" in err


@pytest.mark.slow
def test_create_and_mint_from_the_command_line_on_anvil(capsys, files):
    from studio.chain.anvil import AnvilProcess, anvil_binary
    from studio.chain.transactions import Connection

    if not anvil_binary().exists():
        pytest.fail(f"The anvil test node is missing ({anvil_binary()}). Run `python3 dev.py test`.", pytrace=False)
    with AnvilProcess() as node:
        code, _, err = run(capsys, "network", "add", "anvil", "--rpc", node.url, "--chain-id", "31337")
        assert code == 0, err
        collection, single, batch = _create_and_mint(capsys, files, "--network", "anvil")
        _check_on_chain(Connection.from_url(node.url), collection, single, batch)
        code, out, _ = run(capsys, "collection", "list", "--network", "anvil", "--json")
        assert [c["chain_id"] for c in json.loads(out)] == [31337]
        code, out, _ = run(capsys, "collection", "list", "--json")
        assert json.loads(out) == []
