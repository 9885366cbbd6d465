"""Web3 Secret Storage (v3): scrypt + AES-128-CTR + keccak MAC, as geth, MetaMask and Foundry write it.

The wallet encrypts its secrets with `encrypt_secret` (a v3 "crypto" section over any bytes) and
exchanges single keys with other wallets as full v3 keystore files (`encrypt_keystore`,
`decrypt_keystore`). A wrong password is `WrongPassword`; a damaged file is `CorruptKeystore`.
scrypt at the default cost takes about a second and 256 MiB: never call it on the GUI thread.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from typing import Any

from studio import safejson
from studio.errors import InputError

#: scrypt cost of everything the studio encrypts (geth's "standard" v3 parameters).
DEFAULT_KDF_N = 262144
KDF_R = 8
KDF_P = 1
DKLEN = 32


class WrongPassword(InputError):
    """The password does not open this wallet or keystore; nothing was changed."""

    def __init__(self, what: str = "the wallet") -> None:
        super().__init__(f"Wrong password for {what}.",
                         hint="Nothing was changed. Check the password (it is case-sensitive) and try again.")


class CorruptKeystore(InputError):
    """A keystore or wallet file is not readable as Web3 Secret Storage."""


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # pycryptodome's scrypt (the one eth-keyfile uses): OpenSSL's, behind hashlib, refuses
    # n >= 2**(16*r), which rules out keystores such as the specification's own (n=2**18, r=1).
    from Crypto.Protocol.KDF import scrypt

    derived = scrypt(password, salt, dklen, N=n, r=r, p=p)  # type: ignore[arg-type]  # stubs say str; bytes work
    assert isinstance(derived, bytes)  # one key (num_keys=1)
    return derived


def _derive(crypto: dict[str, Any], password: str) -> bytes:
    kdf = crypto.get("kdf")
    params = crypto.get("kdfparams") or {}
    secret = password.encode("utf-8")
    salt = bytes.fromhex(params["salt"])
    if kdf == "scrypt":
        return _scrypt(secret, salt, int(params["n"]), int(params["r"]), int(params["p"]), int(params["dklen"]))
    if kdf == "pbkdf2":
        if params.get("prf") != "hmac-sha256":
            raise CorruptKeystore(f"The keystore uses an unsupported PBKDF2 function {params.get('prf')!r}.")
        return hashlib.pbkdf2_hmac("sha256", secret, salt, int(params["c"]), int(params["dklen"]))
    raise CorruptKeystore(f"The keystore uses an unsupported key derivation {kdf!r}.",
                          hint="Only scrypt and pbkdf2 keystores (v3) can be imported.")


def _aes_ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    from Crypto.Cipher import AES
    from Crypto.Util import Counter

    counter = Counter.new(128, initial_value=int.from_bytes(iv, "big"))
    return AES.new(key, AES.MODE_CTR, counter=counter).encrypt(data)


def _mac(derived: bytes, ciphertext: bytes) -> bytes:
    from eth_utils import keccak

    return keccak(derived[16:32] + ciphertext)


def encrypt_secret(secret: bytes, password: str, *, kdf_n: int = DEFAULT_KDF_N) -> dict[str, Any]:
    """A v3 "crypto" section holding `secret` (any length) under `password`."""
    salt, iv = os.urandom(32), os.urandom(16)
    derived = _scrypt(password.encode("utf-8"), salt, kdf_n, KDF_R, KDF_P, DKLEN)
    ciphertext = _aes_ctr(derived[:16], iv, secret)
    return {
        "cipher": "aes-128-ctr",
        "cipherparams": {"iv": iv.hex()},
        "ciphertext": ciphertext.hex(),
        "kdf": "scrypt",
        "kdfparams": {"dklen": DKLEN, "n": kdf_n, "r": KDF_R, "p": KDF_P, "salt": salt.hex()},
        "mac": _mac(derived, ciphertext).hex(),
    }


def decrypt_secret(crypto: dict[str, Any], password: str, *, what: str = "the wallet") -> bytes:
    """The secret inside a v3 "crypto" section; WrongPassword when the MAC does not match."""
    try:
        if crypto.get("cipher") != "aes-128-ctr":
            raise CorruptKeystore(f"{what.capitalize()} uses an unsupported cipher {crypto.get('cipher')!r}.")
        ciphertext = bytes.fromhex(crypto["ciphertext"])
        iv = bytes.fromhex(crypto["cipherparams"]["iv"])
        expected = bytes.fromhex(crypto["mac"])
        derived = _derive(crypto, password)
    except CorruptKeystore:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CorruptKeystore(f"{what.capitalize()} is damaged or not a v3 keystore ({exc.__class__.__name__}).",
                              hint="Use a backup of the file, or import the account from its phrase.") from exc
    if not hmac.compare_digest(_mac(derived, ciphertext), expected):
        raise WrongPassword(what)
    return _aes_ctr(derived[:16], iv, ciphertext)


def encrypt_keystore(private_key: bytes, password: str, *, kdf_n: int = DEFAULT_KDF_N) -> dict[str, Any]:
    """A complete v3 keystore for one key, importable by geth, MetaMask and eth-account."""
    from eth_account import Account

    address = Account.from_key(private_key).address
    return {"address": address[2:].lower(), "crypto": encrypt_secret(private_key, password, kdf_n=kdf_n),
            "id": str(uuid.uuid4()), "version": 3}


def parse_keystore(text: str | bytes | dict[str, Any]) -> dict[str, Any]:
    """A keystore file's JSON, checked for the v3 shape (MetaMask's "Crypto" spelling accepted)."""
    if isinstance(text, dict):
        data = text
    else:
        try:
            data = safejson.loads(text, what="The keystore file")
        except InputError as exc:
            raise CorruptKeystore("The keystore file is not JSON.",
                                  hint="Choose the keystore (UTC--…) file exported by geth or MetaMask.") from exc
    if not isinstance(data, dict):
        raise CorruptKeystore("The keystore file is not a JSON object.")
    if "crypto" not in data and "Crypto" in data:
        data = {**data, "crypto": data["Crypto"]}
    if data.get("version") != 3 or not isinstance(data.get("crypto"), dict):
        raise CorruptKeystore("This is not a version 3 keystore.",
                              hint="Only Web3 Secret Storage v3 files (geth, MetaMask, Foundry) can be imported.")
    return data


def decrypt_keystore(keystore: str | bytes | dict[str, Any], password: str) -> bytes:
    """The 32-byte private key in a v3 keystore; checks it matches the file's address if any."""
    from eth_account import Account

    data = parse_keystore(keystore)
    key = decrypt_secret(data["crypto"], password, what="the keystore file")
    if len(key) != 32:
        raise CorruptKeystore("The keystore does not hold a 32-byte private key.")
    stated = data.get("address")
    if stated:
        actual = Account.from_key(key).address[2:].lower()
        if str(stated).lower().removeprefix("0x") != actual:
            raise CorruptKeystore("The keystore's key does not belong to the address it states.",
                                  hint="The file was altered; do not use it.")
    return key
