"""`studio wallet|network|devnet` end to end in-process, and the scan proving no secret reaches disk or logs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli.main import main

TEST_PHRASE = "test test test test test test test test test test test junk"
ACCOUNT0_KEY = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
OTHER_KEY = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d"
PASSWORD = "wallet-pass-for-cli"
RECIPIENT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch):
    """The product's scrypt cost takes a second per operation; these tests use a low one."""
    import studio.chain.keystore as keystore

    monkeypatch.setattr(keystore, "DEFAULT_KDF_N", 2**10)
    monkeypatch.delenv("STUDIO_WALLET_PASSWORD", raising=False)


@pytest.fixture(autouse=True)
def close_devnets():
    yield
    import studio.chain.devnet as devnet_module

    for devnet in list(devnet_module._shared.values()):
        devnet.close()


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "password").write_text(PASSWORD + "\n")
    (folder / "phrase").write_text(TEST_PHRASE + "\n")
    (folder / "key").write_text("0x" + OTHER_KEY + "\n")
    (folder / "ks-password").write_text("keystore-pass\n")
    return folder


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_create_list_and_export_phrase(capsys, files, tmp_path):
    code, out, err = run(capsys, "wallet", "create", "--words", "24", "--password-file", files / "password",
                         "--phrase-out", tmp_path / "new-phrase")
    assert code == 0, err
    phrase = (tmp_path / "new-phrase").read_text().strip()
    assert len(phrase.split()) == 24 and phrase not in out
    code, out, _ = run(capsys, "wallet", "list", "--json")
    listed = json.loads(out)
    assert listed[0]["path"] == "m/44'/60'/0'/0/0" and listed[0]["address"].startswith("0x")
    code, out, err = run(capsys, "wallet", "export", "--phrase", "--password-file", files / "password")
    assert code == 0 and out.strip() == phrase and "owns every account" in err
    code, _, err = run(capsys, "wallet", "create", "--password-file", files / "password")
    assert code == 2 and "already exists" in err


def test_import_phrase_key_and_keystore_print_addresses(capsys, files, tmp_path, monkeypatch):
    code, out, err = run(capsys, "wallet", "import", "--phrase-file", files / "phrase", "--count", "2",
                         "--password-file", files / "password", "--json")
    assert code == 0, err
    assert json.loads(out) == [
        {"address": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "path": "m/44'/60'/0'/0/0", "name": "Account 1",
         "phrase": 0},
        {"address": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "path": "m/44'/60'/0'/0/1", "name": "Account 2",
         "phrase": 0}]
    code, out, _ = run(capsys, "wallet", "import", "--key-file", files / "key", "--name", "Spec",
                       "--password-file", files / "password", "--json")
    assert json.loads(out)[0]["path"] is None
    # export account 2 as a keystore with its own password, then import it into a second studio home
    keystore_file = tmp_path / "account2.json"
    code, _, err = run(capsys, "wallet", "export", "--account", "Account 2", "-o", keystore_file,
                       "--keystore-password-file", files / "ks-password", "--password-file", files / "password")
    assert code == 0, err
    assert keystore_file.stat().st_mode & 0o777 == 0o600
    assert json.loads(keystore_file.read_text())["address"] == "70997970c51812dc3a010c7d01b50e0d17dc79c8"
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "second-home"))
    code, out, err = run(capsys, "wallet", "import", "--keystore", keystore_file, "--keystore-password-file",
                         files / "ks-password", "--password-file", files / "password", "--json")
    assert code == 0, err
    assert json.loads(out)[0]["address"] == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_a_second_phrase_is_imported_beside_the_first_and_exported_by_its_account(capsys, files):
    abandon = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
    (files / "second-phrase").write_text(abandon + "\n")
    run(capsys, "wallet", "import", "--phrase-file", files / "phrase", "--password-file", files / "password")
    code, out, err = run(capsys, "wallet", "import", "--phrase-file", files / "second-phrase",
                         "--password-file", files / "password")
    assert code == 0, err
    assert out.strip() == ("0x9858EfFD232B4033E47d90003D41EC34EcaEda94  Account 1 · phrase 2  "
                           "(m/44'/60'/0'/0/0 of phrase 2)")
    code, out, _ = run(capsys, "wallet", "export", "--account", "Account 1 · phrase 2", "--phrase",
                       "--password-file", files / "password")
    assert code == 0 and out.strip() == abandon
    code, out, _ = run(capsys, "wallet", "export", "--phrase", "--password-file", files / "password")
    assert out.strip() == TEST_PHRASE


def test_wrong_password_is_refused_and_changes_nothing(capsys, files, tmp_path):
    run(capsys, "wallet", "import", "--phrase-file", files / "phrase", "--password-file", files / "password")
    from studio.chain.wallet import Wallet

    before = Wallet.default().path.read_bytes()
    (files / "wrong").write_text("not-the-password\n")
    code, _, err = run(capsys, "wallet", "import", "--key-file", files / "key", "--password-file", files / "wrong")
    assert code == 2 and "Wrong password" in err and "Nothing was changed" in err
    assert Wallet.default().path.read_bytes() == before


def test_password_from_environment_and_no_password_source(capsys, files, monkeypatch):
    monkeypatch.setenv("STUDIO_WALLET_PASSWORD", PASSWORD)
    code, _, err = run(capsys, "wallet", "import", "--phrase-file", files / "phrase")
    assert code == 0, err
    monkeypatch.delenv("STUDIO_WALLET_PASSWORD")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    code, _, err = run(capsys, "wallet", "sign", "--message", "hi", "--yes")
    assert code == 2 and "--password-file" in err and "STUDIO_WALLET_PASSWORD" in err


def test_lock_is_honest_about_the_command_line(capsys):
    code, out, _ = run(capsys, "wallet", "lock")
    assert code == 0 and "never keeps the wallet unlocked" in out


def test_send_on_the_devnet_sign_and_history(capsys, files):
    from eth_account import Account
    from eth_account.messages import encode_defunct

    run(capsys, "wallet", "import", "--phrase-file", files / "phrase", "--password-file", files / "password")
    code, out, err = run(capsys, "wallet", "send", RECIPIENT, "0.5", "--password-file", files / "password",
                         "--json")
    assert code == 0, err
    assert "Network" in err and "Studio devnet" in err and "500000000000000000 wei" in err  # the preview
    sent = json.loads(out)
    assert sent["gas_used"] == 21_000
    code, out, _ = run(capsys, "wallet", "history", "--json")
    (entry,) = json.loads(out)
    assert entry["tx_hash"] == sent["tx_hash"] and entry["status"] == "confirmed" and entry["network"] == "devnet"
    code, out, err = run(capsys, "wallet", "list", "--balances", "--json")
    assert code == 0, err
    code, out, err = run(capsys, "wallet", "sign", "--message", "I made this", "--yes",
                         "--password-file", files / "password")
    assert code == 0, err
    signature = out.strip()
    assert Account.recover_message(encode_defunct(text="I made this"), signature=signature) == \
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert "I made this" in err  # previewed before signing


def test_typed_data_for_another_chain_is_refused(capsys, files, tmp_path):
    run(capsys, "wallet", "import", "--phrase-file", files / "phrase", "--password-file", files / "password")
    typed = {"types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
                       "Note": [{"name": "text", "type": "string"}]},
             "primaryType": "Note", "domain": {"name": "Studio", "chainId": 1}, "message": {"text": "hello"}}
    path = tmp_path / "typed.json"
    path.write_text(json.dumps(typed))
    code, _, err = run(capsys, "wallet", "sign", "--typed-data-file", path, "--yes", "--password-file",
                       files / "password")
    assert code == 1 and "chain id 1" in err and "Nothing was signed" in err
    typed["domain"]["chainId"] = 1337
    path.write_text(json.dumps(typed))
    code, out, err = run(capsys, "wallet", "sign", "--typed-data-file", path, "--yes", "--password-file",
                         files / "password")
    assert code == 0 and out.startswith("0x") and "Note.text: hello" in err


def test_mainnet_send_needs_yes_and_chain_id_is_checked(capsys, files, monkeypatch):
    from studio.chain.devnet import Devnet
    from studio.chain.devnet_server import DevnetServer

    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    run(capsys, "wallet", "import", "--phrase-file", files / "phrase", "--password-file", files / "password")
    with DevnetServer(Devnet(None), port=0) as server:
        code, out, err = run(capsys, "network", "add", "pretend-main", "--rpc", server.url, "--mainnet")
        assert code == 0 and "chain id 1337" in out, err
        code, _, err = run(capsys, "wallet", "send", RECIPIENT, "1wei", "--network", "pretend-main",
                           "--password-file", files / "password")
        assert code == 2 and "real money" in err and "--yes" in err
        code, out, err = run(capsys, "wallet", "send", RECIPIENT, "1wei", "--network", "pretend-main", "--yes",
                             "--password-file", files / "password")
        assert code == 0 and "MAINNET" in err, err
        code, _, err = run(capsys, "network", "add", "liar", "--rpc", server.url, "--chain-id", "10")
        code, _, err = run(capsys, "network", "check", "liar")
        assert code == 1 and "serves chain id 1337" in err
        code, _, err = run(capsys, "wallet", "send", RECIPIENT, "1wei", "--network", "liar", "--yes",
                           "--password-file", files / "password")
        assert code == 1 and "Nothing was signed" in err
    code, out, _ = run(capsys, "network", "list", "--json")
    keys = [n["key"] for n in json.loads(out)]
    assert keys[:2] == ["devnet", "sepolia"] and "pretend-main" in keys


def test_devnet_info_and_deploy(capsys):
    code, out, err = run(capsys, "devnet", "deploy")
    assert code == 0 and out.startswith("StudioMarketplace: 0x"), err
    code, out, _ = run(capsys, "devnet", "info", "--json")
    info = json.loads(out)
    assert info["chain_id"] == 1337 and info["accounts"][0] == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert "StudioMarketplace" in info["contracts"]
    code, _, err = run(capsys, "devnet", "reset")
    assert code == 2 and "--yes" in err


@pytest.fixture
def fresh_log_handlers():
    """setup_logging keeps its first handlers for the process; this test needs them in its own home."""
    import logging

    root = logging.getLogger()
    previous = [h for h in root.handlers if getattr(h, "_studio", False)]
    for handler in previous:
        root.removeHandler(handler)
    yield
    for handler in [h for h in root.handlers if getattr(h, "_studio", False)]:
        root.removeHandler(handler)
        handler.close()
    for handler in previous:
        root.addHandler(handler)


def test_no_secret_reaches_the_data_folder_or_the_logs(capsys, files, studio_home, tmp_path, fresh_log_handlers):
    """A whole session, then every file of the studio home (data, config, cache, logs) is scanned."""
    import logging

    run(capsys, "wallet", "import", "--phrase-file", files / "phrase", "--password-file", files / "password")
    run(capsys, "wallet", "import", "--key-file", files / "key", "--password-file", files / "password")
    logging.getLogger("studio.test").warning("a key %s in a log line", "0x" + OTHER_KEY)  # the mask catches it
    assert run(capsys, "wallet", "send", RECIPIENT, "0.01", "--password-file", files / "password")[0] == 0
    assert run(capsys, "wallet", "sign", "--message", "hello", "--yes", "--password-file", files / "password")[0] == 0
    (files / "wrong").write_text("not-the-password\n")
    assert run(capsys, "wallet", "send", RECIPIENT, "0.01", "--password-file", files / "wrong")[0] == 2
    assert run(capsys, "wallet", "export", "--phrase", "--password-file", files / "password")[0] == 0
    assert run(capsys, "wallet", "export", "--account", "Account 1", "-o", tmp_path / "exported.json", "--password-file",
               files / "password")[0] == 0
    for handler in logging.getLogger().handlers:
        handler.flush()
    import studio.chain.devnet as devnet_module

    for devnet in list(devnet_module._shared.values()):
        devnet.close()
    secrets = [PASSWORD, "not-the-password", TEST_PHRASE, ACCOUNT0_KEY, OTHER_KEY]
    scanned = [p for p in Path(studio_home).rglob("*") if p.is_file()]
    assert any(p.name == "studio.log" for p in scanned) and any(p.name == "wallet.json" for p in scanned)
    assert any(p.name == "history.sqlite" for p in scanned) and any(p.name == "chain.bin" for p in scanned)
    for path in scanned:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"{secret[:6]}… found in {path}"
            assert secret.upper().encode() not in data
        for key in (ACCOUNT0_KEY, OTHER_KEY):
            assert bytes.fromhex(key) not in data, f"raw key bytes in {path}"
    assert "[secret masked]" in (Path(studio_home) / "data" / "logs" / "studio.log").read_text()


def test_devnet_serve_process_serves_and_saves_on_sigterm(studio_home, tmp_path):
    """`studio devnet serve` as its own process: MetaMask-style raw transaction, SIGTERM, state kept."""
    import os
    import signal
    import subprocess
    import sys

    from eth_account import Account
    from web3 import Web3

    repo = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-m", "studio", "devnet", "serve", "--port", "0"], cwd=repo,
                               env={**os.environ, "STUDIO_HOME": str(studio_home)}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = line.split(" at ")[1].split(" ")[0]
        web3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 10}))
        key = bytes.fromhex(ACCOUNT0_KEY)
        tx = {"to": RECIPIENT, "value": 4242, "gas": 21_000, "nonce": 0, "chainId": 1337,
              "maxFeePerGas": 3 * 10**9, "maxPriorityFeePerGas": 10**9}
        tx_hash = web3.eth.send_raw_transaction(Account.sign_transaction(tx, key).raw_transaction)
        assert web3.eth.wait_for_transaction_receipt(tx_hash, timeout=10)["status"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
    assert "saved" in process.stderr.read()
    from studio.chain.devnet import Devnet

    reopened = Devnet(studio_home / "data" / "devnet")
    try:
        assert reopened.connection().web3.eth.get_transaction_count(Account.from_key(key).address) == 1
    finally:
        reopened.close()


def test_network_use_becomes_the_default_of_every_command(capsys, files, monkeypatch):
    from studio.chain.devnet import Devnet
    from studio.chain.devnet_server import DevnetServer

    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    run(capsys, "wallet", "import", "--phrase-file", files / "phrase", "--password-file", files / "password")
    code, _, err = run(capsys, "network", "use", "no-such-net")
    assert code != 0 and "no network called" in err
    with DevnetServer(Devnet(None), port=0) as server:
        run(capsys, "network", "add", "liar", "--rpc", server.url, "--chain-id", "10")
        code, out, err = run(capsys, "network", "use", "liar")
        assert code == 0 and "chain id 10" in out, err
        code, out, _ = run(capsys, "network", "list", "--json")
        assert [n["key"] for n in json.loads(out) if n["selected"]] == ["liar"]
        # no --network: the chosen network is used, so its chain id check refuses to sign
        code, _, err = run(capsys, "wallet", "send", RECIPIENT, "1wei", "--yes", "--password-file", files / "password")
        assert code == 1 and "Nothing was signed" in err
        code, _, err = run(capsys, "network", "check")
        assert code == 1 and "serves chain id 1337" in err
    code, out, _ = run(capsys, "network", "use", "devnet")
    assert code == 0
    code, out, err = run(capsys, "wallet", "send", RECIPIENT, "1wei", "--password-file", files / "password")
    assert code == 0, err


def test_devnet_fund_pays_a_wallet_account_from_the_test_accounts(capsys, files):
    from studio.chain.devnet import Devnet

    (files / "new-phrase").write_text("abandon " * 11 + "about\n")
    run(capsys, "wallet", "import", "--phrase-file", files / "new-phrase", "--password-file", files / "password")
    code, out, err = run(capsys, "devnet", "fund", "--account", "Account 1")
    assert code == 0, err
    assert out.startswith("0x9858EfFD232B4033E47d90003D41EC34EcaEda94 received 10 ETH on the devnet from the test "
                          "account 0x")
    assert Devnet.shared().connection().balance("0x9858EfFD232B4033E47d90003D41EC34EcaEda94") == 10 * 10**18
