"""Hostile keystores and wallet files: KDF costs beyond what geth, MetaMask and eth-keyfile write are
refused before any work, files are read with a cap, and wrong wallet passwords meet a growing wait."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.chain import keystore
from studio.chain.keystore import (CorruptKeystore, MAX_KEYSTORE_BYTES, check_kdf, decrypt_keystore,
                                   encrypt_keystore, read_keystore_file)
from studio.chain.wallet import (FREE_PASSWORD_TRIES, MAX_PASSWORD_DELAY, TooManyTries, Wallet, WrongPassword,
                                 password_delay)
from studio.errors import InputError

KEY = bytes.fromhex("7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d")


_REAL = encrypt_keystore(KEY, "pw-123456", kdf_n=2**4)  # made before any test spies on the KDF


def _keystore(kdf: str = "scrypt", **params) -> dict:
    """A v3 keystore (real, for n=2**4) with its KDF parameters overwritten by `params`."""
    document = json.loads(json.dumps(_REAL))
    crypto = document["crypto"]
    if kdf == "pbkdf2":
        crypto["kdf"] = "pbkdf2"
        crypto["kdfparams"] = {"c": 1000, "dklen": 32, "prf": "hmac-sha256", "salt": crypto["kdfparams"]["salt"]}
    crypto["kdfparams"].update(params)
    return document


@pytest.fixture
def no_derivation(monkeypatch):
    """Fails the test if any key derivation runs (the bounds must refuse first)."""
    def refuse(*args, **kwargs):
        raise AssertionError("a key derivation ran for a keystore that should have been refused")

    monkeypatch.setattr(keystore, "_scrypt", refuse)
    monkeypatch.setattr(keystore.hashlib, "pbkdf2_hmac", refuse)


@pytest.mark.parametrize("kdf, params, words", [
    ("scrypt", {"n": 2**22}, "n=4194304"),                    # 4 GiB of memory
    ("scrypt", {"n": 2**18, "r": 4096}, "r=4096"),            # 128 GiB
    ("scrypt", {"n": 2**10, "r": 8, "p": 1000}, "p=1000"),    # hangs
    ("scrypt", {"n": 2**18, "r": 8, "p": 16}, "n·r·p up to"),  # 16 times geth's standard work
    ("scrypt", {"dklen": 2**30}, "dklen=1073741824"),
    ("scrypt", {"dklen": 2**31}, "dklen=2147483648"),          # OverflowError before
    ("scrypt", {"n": 2**64}, "n=18446744073709551616"),
    ("pbkdf2", {"c": 2**30}, "c=1,073,741,824"),               # hours
    ("pbkdf2", {"c": 2**31}, "c=2,147,483,648"),               # OverflowError before
    ("pbkdf2", {"c": 0}, "c=0"),
])
def test_kdf_costs_beyond_standard_wallets_are_refused_before_any_work(no_derivation, kdf, params, words):
    hostile = _keystore(kdf, **params)
    with pytest.raises(CorruptKeystore, match="beyond what geth, MetaMask and eth-keyfile write") as caught:
        decrypt_keystore(json.dumps(hostile), "pw-123456")
    assert words in caught.value.message


@pytest.mark.parametrize("params, words", [
    ({"n": 1000}, "not a power of two"),
    ({"n": 1}, "not a power of two"),
    ({"n": "lots"}, "not a whole number"),
    ({"n": 1024.0}, "not a whole number"),
    ({"r": True}, "not a whole number"),
    ({"p": None}, "not a whole number"),
    ({"salt": "zz" * 16}, "not hexadecimal"),
    ({"salt": "ab" * 4096}, "unusual length"),
    ({"salt": 7}, "salt"),
])
def test_malformed_kdf_parameters_are_damaged_keystores(no_derivation, params, words):
    with pytest.raises(CorruptKeystore, match=words):
        decrypt_keystore(_keystore(**params), "pw-123456")


def test_unknown_kdfs_and_prfs_are_refused(no_derivation):
    with pytest.raises(CorruptKeystore, match="unsupported key derivation"):
        decrypt_keystore(_keystore() | {"crypto": {**_keystore()["crypto"], "kdf": "argon2"}}, "pw")
    with pytest.raises(CorruptKeystore, match="PBKDF2 function"):
        decrypt_keystore(_keystore("pbkdf2", prf="hmac-sha512"), "pw")


def test_what_geth_metamask_and_eth_keyfile_write_is_within_the_bounds():
    from eth_account import Account

    for params in ({"n": 2**18, "r": 8, "p": 1},   # geth standard, MetaMask, eth-keyfile
                   {"n": 2**12, "r": 8, "p": 6},   # geth light
                   {"n": 2**18, "r": 1, "p": 8}):  # the Web3 Secret Storage test vector
        check_kdf(_keystore(**params)["crypto"])
    check_kdf(Account.encrypt(KEY, "pw", kdf="pbkdf2")["crypto"])  # eth-keyfile's default pbkdf2 (c=1,000,000)
    check_kdf(Account.encrypt(KEY, "pw", kdf="scrypt")["crypto"])
    assert decrypt_keystore(Account.encrypt(KEY, "pw-123456", kdf="pbkdf2", iterations=1000), "pw-123456") == KEY
    with pytest.raises(WrongPassword):  # accepted parameters are computed; the MAC then decides
        decrypt_keystore(_keystore(n=2**4, r=8, p=2), "pw-123456")


def test_a_keystore_holding_no_valid_key_is_damaged_not_a_crash():
    document = {"version": 3, "crypto": keystore.encrypt_secret(b"\x00" * 32, "pw-123456", kdf_n=2**4)}
    with pytest.raises(CorruptKeystore, match="not a private key"):
        decrypt_keystore(document, "pw-123456")


def test_a_100_mb_keystore_file_is_refused_from_its_size(tmp_path: Path):
    huge = tmp_path / "UTC--huge.json"
    with huge.open("wb") as out:
        out.truncate(100 * 1024 * 1024)  # sparse: the size is what is checked, nothing is read
    with pytest.raises(InputError, match="over the limit of"):
        read_keystore_file(huge)
    with pytest.raises(CorruptKeystore, match="over the limit"):
        decrypt_keystore(b"{" + b" " * MAX_KEYSTORE_BYTES + b"}", "pw")


def test_a_deeply_nested_keystore_is_damaged():
    with pytest.raises(CorruptKeystore, match="nested"):
        decrypt_keystore("[" * 200_000, "pw")


def test_cli_import_of_a_hostile_keystore_exits_2_with_a_message(tmp_path: Path, studio_home):
    hostile = tmp_path / "UTC--hostile.json"
    hostile.write_text(json.dumps(_keystore(n=2**22)))
    password_file = tmp_path / "pw.txt"
    password_file.write_text("a good password\n")
    env = dict(os.environ)  # STUDIO_HOME is the test's own (studio_home)
    done = subprocess.run([sys.executable, "-m", "studio", "wallet", "import", "--keystore", str(hostile),
                           "--keystore-password-file", str(password_file), "--password-file", str(password_file)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2, done.stderr
    assert "beyond what geth" in done.stderr and "Traceback" not in done.stderr
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "keystore-fifo.json"
        os.mkfifo(fifo)
        done = subprocess.run([sys.executable, "-m", "studio", "wallet", "import", "--keystore", str(fifo),
                               "--password-file", str(password_file)], capture_output=True, text=True, timeout=120,
                              env=env)
        assert done.returncode == 2 and "not a regular file" in done.stderr, done.stderr


# ---------------------------------------------------------------- wallet.json from a stranger

def test_a_wallet_file_nested_200k_deep_is_reported_damaged_not_a_recursion_error(tmp_path: Path):
    path = tmp_path / "wallet" / "wallet.json"
    path.parent.mkdir()
    path.write_text('{"format": "provenance-studio-wallet", "accounts": ' + "[" * 200_000 + "]" * 200_000 + "}")
    with pytest.raises(CorruptKeystore, match="nested"):
        Wallet(path, kdf_n=2**4).accounts()


def test_a_wallet_file_replaced_by_a_fifo_is_refused_at_once(tmp_path: Path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("named pipes are POSIX")
    path = tmp_path / "wallet" / "wallet.json"
    path.parent.mkdir()
    os.mkfifo(path)
    with pytest.raises(CorruptKeystore, match="not a regular file"):
        Wallet(path, kdf_n=2**4).accounts()


# ---------------------------------------------------------------- wrong-password backoff

def test_the_wait_after_wrong_passwords_doubles_and_is_capped():
    assert [password_delay(n) for n in range(FREE_PASSWORD_TRIES)] == [0.0] * FREE_PASSWORD_TRIES
    assert [password_delay(FREE_PASSWORD_TRIES + n) for n in range(4)] == [1.0, 2.0, 4.0, 8.0]
    assert password_delay(FREE_PASSWORD_TRIES + 30) == password_delay(10**9) == MAX_PASSWORD_DELAY


def test_twenty_wrong_passwords_in_a_row_meet_a_growing_wait_and_the_right_one_resets_it(tmp_path: Path):
    now = [1000.0]
    wallet = Wallet(tmp_path / "wallet" / "wallet.json", kdf_n=2**4, clock=lambda: now[0])
    wallet.create("the right password")
    refused_without_trying = 0
    for attempt in range(20):
        try:
            wallet.unlock(f"wrong {attempt}")
        except TooManyTries as exc:
            refused_without_trying += 1
            assert "try again in" in exc.message and exc.wait > 0
            now[0] += exc.wait  # the person waits as told, then tries again
            with pytest.raises(WrongPassword):
                wallet.unlock(f"wrong {attempt}")
        except WrongPassword:
            pass
    assert refused_without_trying == 20 - FREE_PASSWORD_TRIES
    assert wallet.password_wait() == MAX_PASSWORD_DELAY
    with pytest.raises(TooManyTries):
        wallet.unlock("the right password")  # even the right one waits: the wait is not a password oracle
    now[0] += MAX_PASSWORD_DELAY
    wallet.unlock("the right password")
    assert wallet.is_unlocked and wallet.password_wait() == 0
    wallet.lock()
    with pytest.raises(WrongPassword):
        wallet.unlock("wrong again")
    assert wallet.password_wait() == 0  # the count started over after the right password
