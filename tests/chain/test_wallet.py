"""The built-in wallet: BIP-39/BIP-44 vectors, encryption at rest, lock, import/export round trips."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from studio.chain.hdkeys import ACCOUNT_PATH, derive_key, generate_phrase, normalize_phrase, phrase_seed
from studio.chain.keystore import (CorruptKeystore, WrongPassword, decrypt_keystore, decrypt_secret, encrypt_secret,
                                   encrypt_keystore)
from studio.chain.wallet import Wallet, wallet_path
from studio.errors import InputError, NotFound, WalletLocked

TEST_PHRASE = "test test test test test test test test test test test junk"
ABANDON = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
PASSWORD = "correct horse battery"
FAST_N = 2**10

# Web3 Secret Storage definition, scrypt test vector (password "testpassword").
SPEC_SCRYPT_KEYSTORE = {
    "crypto": {
        "cipher": "aes-128-ctr",
        "cipherparams": {"iv": "83dbcc02d8ccb40e466191a123791e0e"},
        "ciphertext": "d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c",
        "kdf": "scrypt",
        "kdfparams": {"dklen": 32, "n": 262144, "p": 8, "r": 1,
                      "salt": "ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19"},
        "mac": "2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097",
    },
    "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
    "version": 3,
}
SPEC_KEY = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d"


def make_wallet(tmp_path: Path, **kwargs) -> Wallet:
    return Wallet(tmp_path / "wallet" / "wallet.json", kdf_n=FAST_N, **kwargs)


def test_test_phrase_gives_anvil_and_metamask_addresses(tmp_path):
    wallet = make_wallet(tmp_path)
    wallet.create(PASSWORD, phrase=TEST_PHRASE, accounts=3)
    addresses = [a.address for a in wallet.accounts()]
    assert addresses == ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
                         "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                         "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"]
    assert [a.path for a in wallet.accounts()] == [ACCOUNT_PATH.format(i) for i in range(3)]


def test_bip39_published_vector_seed_and_bip44_address():
    # BIP-39 reference vector (Trezor python-mnemonic vectors.json, passphrase "TREZOR").
    from eth_account.hdaccount import seed_from_mnemonic

    seed = seed_from_mnemonic(ABANDON, "TREZOR")
    assert seed.hex() == ("c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c"
                          "92f2cf141630c7a3c4ab7c81b2f001698e7463b04")
    from eth_account import Account

    first = Account.from_key(derive_key(phrase_seed(ABANDON), ACCOUNT_PATH.format(0))).address
    assert first == "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"


def test_new_phrases_have_the_asked_length_and_pass_the_checksum():
    for words in (12, 24):
        phrase = generate_phrase(words)
        assert len(phrase.split()) == words
        assert normalize_phrase(phrase.upper()) == phrase
    with pytest.raises(InputError, match="12 or 24"):
        generate_phrase(13)


def test_bad_phrases_are_refused_without_echoing_them():
    with pytest.raises(InputError, match="checksum") as wrong:
        normalize_phrase("test " * 11 + "test")
    assert "test test" not in str(wrong.value)
    with pytest.raises(InputError, match="Word 3"):
        normalize_phrase("test test tezt test test test test test test test test junk")
    with pytest.raises(InputError, match="11"):
        normalize_phrase("test " * 11)


def test_spec_scrypt_vector_decrypts_to_its_key():
    assert decrypt_keystore(SPEC_SCRYPT_KEYSTORE, "testpassword").hex() == SPEC_KEY
    with pytest.raises(WrongPassword, match="Wrong password"):
        decrypt_keystore(SPEC_SCRYPT_KEYSTORE, "testpassworD")


def test_keystore_interoperates_with_eth_account_both_ways():
    from eth_account import Account

    key = bytes.fromhex(SPEC_KEY)
    ours = encrypt_keystore(key, "pw-123456", kdf_n=FAST_N)
    assert bytes(Account.decrypt(ours, "pw-123456")) == key
    theirs = Account.encrypt(key, "pw-123456", kdf="pbkdf2", iterations=1000)
    assert decrypt_keystore(json.dumps(theirs), "pw-123456") == key
    theirs_scrypt = Account.encrypt(key, "pw-123456", kdf="scrypt", iterations=FAST_N)
    assert decrypt_keystore(theirs_scrypt, "pw-123456") == key


@pytest.mark.parametrize("damage", ["not json", "{}", '{"version": 3, "crypto": {"cipher": "aes-128-ctr"}}'])
def test_corrupt_keystore_files_are_reported_as_damaged(damage):
    with pytest.raises(CorruptKeystore):
        decrypt_keystore(damage, "whatever")


def test_tampered_keystore_address_is_refused():
    tampered = encrypt_keystore(bytes.fromhex(SPEC_KEY), "pw-123456", kdf_n=FAST_N)
    tampered["address"] = "f39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    with pytest.raises(CorruptKeystore, match="does not belong"):
        decrypt_keystore(tampered, "pw-123456")


def test_wallet_file_is_owner_only_and_holds_no_plaintext_secret(tmp_path):
    wallet = make_wallet(tmp_path)
    wallet.create(PASSWORD, phrase=TEST_PHRASE)
    wallet.import_private_key(SPEC_KEY, PASSWORD, name="Spec")
    mode = stat.S_IMODE(os.stat(wallet.path).st_mode)
    assert mode == 0o600
    text = wallet.path.read_text()
    assert "junk" not in text and SPEC_KEY not in text and PASSWORD not in text
    assert [a.name for a in wallet.accounts()] == ["Account 1", "Spec"]
    assert wallet.accounts()[1].source == "imported key"


def test_wrong_password_leaves_wallet_unchanged_and_locked(tmp_path):
    wallet = make_wallet(tmp_path)
    wallet.create(PASSWORD, phrase=TEST_PHRASE)
    before = wallet.path.read_bytes()
    with pytest.raises(WrongPassword, match="Wrong password") as caught:
        wallet.unlock("not the password")
    assert "Nothing was changed" in str(caught.value)
    with pytest.raises(WrongPassword):
        wallet.import_private_key(SPEC_KEY, "not the password")
    with pytest.raises(WrongPassword):
        wallet.change_password("not the password", "a new password")
    assert wallet.path.read_bytes() == before
    assert not wallet.is_unlocked


def test_unlock_sign_lock(tmp_path):
    from eth_account import Account
    from eth_account.messages import encode_defunct

    wallet = make_wallet(tmp_path)
    wallet.create(PASSWORD, phrase=TEST_PHRASE)
    with pytest.raises(WalletLocked):
        wallet.signer()
    wallet.unlock(PASSWORD)
    signer = wallet.signer("Account 1")
    signature = signer.sign_message("hello")
    assert Account.recover_message(encode_defunct(text="hello"), signature=signature) == signer.address
    wallet.lock()
    with pytest.raises(WalletLocked):
        signer.sign_message("hello")


def test_idle_lock_after_the_configured_time(tmp_path):
    now = [1000.0]
    wallet = make_wallet(tmp_path, idle_lock_seconds=60, clock=lambda: now[0])
    wallet.create(PASSWORD, phrase=TEST_PHRASE)
    wallet.unlock(PASSWORD)
    signer = wallet.signer()
    now[0] += 50
    assert not wallet.lock_if_idle()
    signer.sign_message("activity")  # touches
    now[0] += 50
    assert not wallet.lock_if_idle()
    assert wallet.seconds_until_lock() == pytest.approx(10)
    now[0] += 10
    assert wallet.lock_if_idle()
    assert not wallet.is_unlocked


def test_add_and_rename_accounts(tmp_path):
    wallet = make_wallet(tmp_path)
    wallet.create(PASSWORD, phrase=TEST_PHRASE)
    with pytest.raises(WalletLocked):
        wallet.add_account()
    wallet.unlock(PASSWORD)
    second = wallet.add_account("Sales")
    assert second.address == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert wallet.signer("Sales").address == second.address
    wallet.rename(second.address, "Shop")
    assert wallet.account("shop").address == second.address
    with pytest.raises(NotFound):
        wallet.account("Sales")


def test_a_second_recovery_phrase_adds_its_accounts_beside_the_first(tmp_path):
    wallet = make_wallet(tmp_path)
    wallet.import_private_key(SPEC_KEY, PASSWORD)
    added = wallet.import_phrase(TEST_PHRASE, PASSWORD, count=2)
    assert [a.address for a in added][0] == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    first_version = json.loads(wallet.path.read_text())["version"]
    second = wallet.import_phrase(ABANDON, PASSWORD, count=2)
    abandon_0 = address_of_phrase(ABANDON, 0)
    assert [(a.address, a.name, a.path, a.phrase) for a in second] == [
        (abandon_0, "Account 1 · phrase 2", ACCOUNT_PATH.format(0), 1),
        (address_of_phrase(ABANDON, 1), "Account 2 · phrase 2", ACCOUNT_PATH.format(1), 1)]
    assert wallet.phrase_count == 2 and len(wallet.accounts()) == 5
    document = json.loads(wallet.path.read_text())
    assert first_version == 1 and document["version"] == 2  # one phrase stays readable by older studios
    assert ABANDON.split()[0] not in json.dumps(document["accounts"]) and "abandon" not in wallet.path.read_text()
    assert wallet.reveal_phrase(PASSWORD) == TEST_PHRASE
    assert wallet.reveal_phrase(PASSWORD, account=abandon_0) == ABANDON
    with pytest.raises(InputError, match="imported as a key"):
        wallet.reveal_phrase(PASSWORD, account="Imported 1")
    assert wallet.import_phrase(ABANDON, PASSWORD, count=2) == []  # the same phrase again adds nothing

    reopened = Wallet(wallet.path, kdf_n=FAST_N)
    reopened.unlock(PASSWORD)  # every account's key is derived from its own phrase
    assert reopened.signer(abandon_0).address == abandon_0
    third = reopened.add_account(phrase=1)
    assert (third.address, third.path, third.phrase) == (address_of_phrase(ABANDON, 2), ACCOUNT_PATH.format(2), 1)
    assert reopened.add_account().address == address_of_phrase(TEST_PHRASE, 2)


def address_of_phrase(phrase: str, index: int) -> str:
    from eth_account import Account

    return Account.from_key(derive_key(phrase_seed(phrase), ACCOUNT_PATH.format(index))).address


def test_a_cancelled_change_writes_nothing(tmp_path):
    from studio.cancel import CancelToken
    from studio.errors import Cancelled

    wallet = make_wallet(tmp_path)
    cancel = CancelToken()
    steps: list[str] = []

    def progress(_fraction: float, line: str) -> None:
        steps.append(line)
        if line == "Encrypting the wallet":
            cancel.cancel()  # pressed while the keys are being encrypted

    with pytest.raises(Cancelled):
        wallet.import_phrase(TEST_PHRASE, PASSWORD, progress=progress, cancel=cancel)
    assert "Encrypting the wallet" in steps and not wallet.exists
    wallet.create(PASSWORD, phrase=TEST_PHRASE)
    before = wallet.path.read_bytes()
    for change in (lambda token: wallet.import_private_key(SPEC_KEY, PASSWORD, progress=progress, cancel=token),
                   lambda token: wallet.import_phrase(ABANDON, PASSWORD, progress=progress, cancel=token)):
        cancel = CancelToken()
        with pytest.raises(Cancelled):
            change(cancel)
        assert wallet.path.read_bytes() == before


def test_export_keystore_round_trip_and_reimport(tmp_path):
    wallet = make_wallet(tmp_path)
    wallet.create(PASSWORD, phrase=TEST_PHRASE)
    exported = wallet.export_keystore("Account 1", PASSWORD, keystore_password="export-pass")
    assert exported["version"] == 3 and exported["address"] == "f39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    with pytest.raises(WrongPassword):
        wallet.export_keystore("Account 1", "export-pass")
    other = Wallet(tmp_path / "other" / "wallet.json", kdf_n=FAST_N)
    account = other.import_keystore(json.dumps(exported), "export-pass", "other password")
    assert account.address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    other.unlock("other password")
    assert other.signer().address == account.address


def test_change_password_reencrypts_everything(tmp_path):
    wallet = make_wallet(tmp_path)
    wallet.create(PASSWORD, phrase=TEST_PHRASE)
    wallet.import_private_key(SPEC_KEY, PASSWORD)
    wallet.change_password(PASSWORD, "brand new password")
    with pytest.raises(WrongPassword):
        wallet.unlock(PASSWORD)
    wallet.unlock("brand new password")
    assert len(wallet.accounts()) == 2
    with pytest.raises(InputError, match="at least 8"):
        wallet.change_password("brand new password", "short")


def test_crash_during_change_password_leaves_the_old_wallet(tmp_path, monkeypatch):
    import studio.fileio as fileio

    wallet = make_wallet(tmp_path)
    wallet.create(PASSWORD, phrase=TEST_PHRASE)
    before = wallet.path.read_bytes()

    def crash(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(fileio.os, "replace", crash)
    with pytest.raises(Exception):
        wallet.change_password(PASSWORD, "brand new password")
    monkeypatch.undo()
    assert wallet.path.read_bytes() == before
    assert [p.name for p in wallet.path.parent.iterdir()] == ["wallet.json"]
    wallet.unlock(PASSWORD)


def test_damaged_wallet_file_is_reported(tmp_path):
    wallet = make_wallet(tmp_path)
    wallet.create(PASSWORD, phrase=TEST_PHRASE)
    data = json.loads(wallet.path.read_text())
    data["crypto"]["ciphertext"] = data["crypto"]["ciphertext"][:-4]
    wallet.path.write_text(json.dumps(data))
    with pytest.raises(WrongPassword):  # the MAC covers the ciphertext: tampering reads as a wrong password
        wallet.unlock(PASSWORD)
    wallet.path.write_text("{not json")
    with pytest.raises(CorruptKeystore, match="damaged"):
        wallet.accounts()


def test_altered_account_list_is_detected_on_unlock(tmp_path):
    wallet = make_wallet(tmp_path)
    wallet.create(PASSWORD, phrase=TEST_PHRASE)
    data = json.loads(wallet.path.read_text())
    data["accounts"][0]["address"] = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    wallet.path.write_text(json.dumps(data))
    with pytest.raises(CorruptKeystore, match="altered"):
        wallet.unlock(PASSWORD)


def test_product_kdf_parameters_round_trip(tmp_path):
    """The real cost (scrypt n=262144, r=8, p=1) as the product uses it, once."""
    wallet = Wallet.default()
    assert wallet.kdf_n == 262144 and wallet.idle_lock_seconds == 15 * 60
    wallet.create(PASSWORD, phrase=TEST_PHRASE)
    params = json.loads(wallet.path.read_text())["crypto"]["kdfparams"]
    assert (params["n"], params["r"], params["p"]) == (262144, 8, 1)
    wallet.unlock(PASSWORD)
    assert wallet.signer().address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert wallet.path == wallet_path(wallet.path.parents[1])


@settings(max_examples=25, deadline=None)
@given(secret=st.binary(max_size=300), password=st.text(max_size=40), other=st.text(max_size=40))
def test_secret_round_trip_and_any_other_password_fails(secret, password, other):
    crypto = encrypt_secret(secret, password, kdf_n=2**4)
    assert decrypt_secret(crypto, password) == secret
    if other != password:
        with pytest.raises(WrongPassword):
            decrypt_secret(crypto, other)


# ---- service secrets (a pinning service's access token)

TOKEN = "psa-token-Zx81kQ2vLm94TrWs0aBc"


def test_a_service_secret_round_trips_encrypted(tmp_path):
    wallet = make_wallet(tmp_path)
    wallet.create(PASSWORD, phrase=TEST_PHRASE)
    wallet.set_service_secret("pinning", f"  {TOKEN}\n", PASSWORD)
    assert TOKEN.encode() not in wallet.path.read_bytes()
    assert wallet.path.stat().st_mode & 0o077 == 0
    with pytest.raises(WalletLocked):
        wallet.service_secret("pinning")
    reopened = make_wallet(tmp_path)
    reopened.unlock(PASSWORD)
    assert reopened.service_secret("pinning") == TOKEN and reopened.service_secret("other") is None
    # the keys are untouched, and a new password carries the secret along
    assert [a.address for a in reopened.accounts()] == ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"]
    reopened.change_password(PASSWORD, "another long password")
    again = make_wallet(tmp_path)
    again.unlock("another long password")
    assert again.service_secret("pinning") == TOKEN
    assert again.reveal_phrase("another long password") == TEST_PHRASE


def test_setting_a_secret_on_an_unlocked_wallet_is_seen_at_once_and_removal_forgets_it(tmp_path):
    wallet = make_wallet(tmp_path)
    wallet.create(PASSWORD)
    wallet.unlock(PASSWORD)
    wallet.set_service_secret("pinning", TOKEN, PASSWORD)
    assert wallet.service_secret("pinning") == TOKEN
    wallet.set_service_secret("pinning", "replacement-token-1", PASSWORD)
    assert wallet.service_secret("pinning") == "replacement-token-1"
    assert wallet.remove_service_secret("pinning", PASSWORD) is True
    assert wallet.service_secret("pinning") is None
    before = wallet.path.read_bytes()
    assert wallet.remove_service_secret("pinning", PASSWORD) is False
    assert wallet.path.read_bytes() == before
    reopened = make_wallet(tmp_path)
    reopened.unlock(PASSWORD)
    assert reopened.service_secret("pinning") is None


def test_wrong_password_leaves_the_service_secrets_unchanged(tmp_path):
    wallet = make_wallet(tmp_path)
    wallet.create(PASSWORD)
    wallet.set_service_secret("pinning", TOKEN, PASSWORD)
    before = wallet.path.read_bytes()
    with pytest.raises(WrongPassword):
        wallet.set_service_secret("pinning", "stolen-replacement", "not the password")
    with pytest.raises(WrongPassword):
        wallet.remove_service_secret("pinning", "not the password")
    assert wallet.path.read_bytes() == before
    assert [p.name for p in wallet.path.parent.iterdir()] == ["wallet.json"]  # no temp file left
    wallet.unlock(PASSWORD)
    assert wallet.service_secret("pinning") == TOKEN


def test_bad_service_secret_names_and_values_are_refused(tmp_path):
    wallet = make_wallet(tmp_path)
    wallet.create(PASSWORD)
    before = wallet.path.read_bytes()
    for name in ("", "Pinning", "../x", "a" * 40):
        with pytest.raises(InputError, match="not a service secret name"):
            wallet.set_service_secret(name, TOKEN, PASSWORD)
    for value in ("", "   ", "two words"):
        with pytest.raises(InputError, match="one token"):
            wallet.set_service_secret("pinning", value, PASSWORD)
    assert wallet.path.read_bytes() == before


def test_a_service_secret_needs_a_wallet(tmp_path):
    with pytest.raises(NotFound, match="no wallet"):
        make_wallet(tmp_path).set_service_secret("pinning", TOKEN, PASSWORD)


def test_the_studio_paths_name_the_wallet_file_the_wallet_uses(studio_home):
    from studio.config import load_config

    assert Wallet.default().path == load_config().paths.wallet_file == wallet_path(load_config().paths.data_dir)
