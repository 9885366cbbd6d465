"""Web3 Secret Storage (v3): scrypt + AES-128-CTR + keccak MAC, as geth, MetaMask and Foundry write it.

The wallet encrypts its secrets with `encrypt_secret` (a v3 "crypto" section over any bytes) and
exchanges single keys with other wallets as full v3 keystore files (`encrypt_keystore`,
`decrypt_keystore`). A wrong password is `WrongPassword`; a damaged file is `CorruptKeystore`.
scrypt at the default cost takes about a second and 256 MiB: never call it on the GUI thread.

A keystore names its own key-derivation cost, so a hostile file could ask for gigabytes or hours
(scrypt n=2**22 is 4 GiB, pbkdf2 c=2**30 runs for hours). :func:`check_kdf` refuses, before any
work, parameters beyond what geth, MetaMask and eth-keyfile write (docs/wallet.md lists them),
and keystore files are read with a size cap (``MAX_KEYSTORE_BYTES``).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from typing import Any

from pathlib import Path

from studio import safejson
from studio.errors import InputError

#: scrypt cost of everything the studio encrypts (geth's "standard" v3 parameters).
DEFAULT_KDF_N = 262144
KDF_R = 8
KDF_P = 1
DKLEN = 32

#: The largest keystore file read (geth's and MetaMask's are under 1 KB).
MAX_KEYSTORE_BYTES = 256 * 1024
#: Bounds on a keystore's own KDF parameters (docs/wallet.md, "Keystore limits"). geth writes
#: scrypt n=2**18 r=8 p=1 ("standard") or n=2**12 r=8 p=6 ("light"); MetaMask and eth-keyfile
#: n=2**18 r=8 p=1 (eth-keyfile's pbkdf2: c=1,000,000 hmac-sha256); the specification's example
#: uses r=1. Memory is 128·n·r bytes (256 MiB at most) and time grows with n·r·p.
MAX_SCRYPT_N = 2**18
MAX_SCRYPT_R = 8
MAX_SCRYPT_P = 16
MAX_SCRYPT_COST = 2**22           # n·r·p: twice geth's standard work
MAX_PBKDF2_C = 10_000_000         # about 3 s of HMAC-SHA256 on a laptop core
DKLEN_RANGE = (32, 64)            # the MAC needs 32 bytes; nobody writes more than 64
SALT_BYTES_RANGE = (1, 128)       # geth: 32, eth-keyfile: 16


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


def _whole(params: dict[str, Any], name: str) -> int:
    """An integer KDF parameter (a JSON number, or decimal digits as some tools write them)."""
    value = params.get(name)
    if isinstance(value, str) and value.isdigit() and len(value) <= 12:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CorruptKeystore(f"The keystore's KDF parameter {name!r} is not a whole number ({str(value)[:40]!r}).",
                              hint="Use a backup of the file, or import the account from its phrase.")
    return value


def check_kdf(crypto: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The KDF name and its checked parameters; CorruptKeystore for anything unsupported or beyond
    the bounds (refused before any derivation runs, so a hostile file costs nothing)."""
    kdf = crypto.get("kdf")
    params = crypto.get("kdfparams")
    if not isinstance(params, dict):
        raise CorruptKeystore("The keystore has no KDF parameters (kdfparams).")
    salt_hex = params.get("salt")
    if not isinstance(salt_hex, str) or not SALT_BYTES_RANGE[0] * 2 <= len(salt_hex) <= SALT_BYTES_RANGE[1] * 2:
        raise CorruptKeystore("The keystore's salt is missing or of an unusual length.")
    try:
        salt = bytes.fromhex(salt_hex)
    except ValueError as exc:
        raise CorruptKeystore("The keystore's salt is not hexadecimal.") from exc
    dklen = _whole(params, "dklen")
    if not DKLEN_RANGE[0] <= dklen <= DKLEN_RANGE[1]:
        raise _beyond(f"dklen={dklen}", f"dklen from {DKLEN_RANGE[0]} to {DKLEN_RANGE[1]}")
    if kdf == "scrypt":
        n, r, p = _whole(params, "n"), _whole(params, "r"), _whole(params, "p")
        if n < 2 or n & (n - 1):
            raise CorruptKeystore(f"The keystore's scrypt n={n} is not a power of two above 1.")
        if n > MAX_SCRYPT_N or not 1 <= r <= MAX_SCRYPT_R or not 1 <= p <= MAX_SCRYPT_P or n * r * p > MAX_SCRYPT_COST:
            raise _beyond(f"scrypt n={n}, r={r}, p={p}",
                          f"n up to {MAX_SCRYPT_N:,}, r up to {MAX_SCRYPT_R}, p up to {MAX_SCRYPT_P}, "
                          f"n·r·p up to {MAX_SCRYPT_COST:,}")
        return "scrypt", {"salt": salt, "n": n, "r": r, "p": p, "dklen": dklen}
    if kdf == "pbkdf2":
        if params.get("prf") != "hmac-sha256":
            raise CorruptKeystore(f"The keystore uses an unsupported PBKDF2 function {str(params.get('prf'))[:40]!r}.",
                                  hint="Only hmac-sha256 (what geth and eth-keyfile write) is supported.")
        c = _whole(params, "c")
        if not 1 <= c <= MAX_PBKDF2_C:
            raise _beyond(f"pbkdf2 c={c:,}", f"c from 1 to {MAX_PBKDF2_C:,}")
        return "pbkdf2", {"salt": salt, "c": c, "dklen": dklen}
    raise CorruptKeystore(f"The keystore uses an unsupported key derivation {str(kdf)[:40]!r}.",
                          hint="Only scrypt and pbkdf2 keystores (v3) can be imported.")


def _beyond(asked: str, allowed: str) -> CorruptKeystore:
    return CorruptKeystore(f"The keystore asks for {asked}, beyond what geth, MetaMask and eth-keyfile write "
                           f"({allowed}); it was not opened, and nothing was computed.",
                           hint="Re-export the key from its wallet with standard settings (docs/wallet.md).")


def _derive(crypto: dict[str, Any], password: str) -> bytes:
    kdf, params = check_kdf(crypto)
    secret = password.encode("utf-8")
    if kdf == "scrypt":
        return _scrypt(secret, params["salt"], params["n"], params["r"], params["p"], params["dklen"])
    return hashlib.pbkdf2_hmac("sha256", secret, params["salt"], params["c"], params["dklen"])


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
        if len(iv) != 16 or len(expected) != 32:
            raise CorruptKeystore(f"{what.capitalize()} has an IV or MAC of the wrong length.",
                                  hint="Use a backup of the file, or import the account from its phrase.")
        derived = _derive(crypto, password)
    except CorruptKeystore:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, MemoryError) as exc:
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


def read_keystore_file(path: Path | str) -> bytes:
    """A keystore file's bytes: a regular file of at most ``MAX_KEYSTORE_BYTES`` (never a FIFO or a device)."""
    from studio.fileio import read_bounded

    return read_bounded(path, MAX_KEYSTORE_BYTES, what="The keystore file")


def parse_keystore(text: str | bytes | dict[str, Any]) -> dict[str, Any]:
    """A keystore file's JSON, checked for the v3 shape (MetaMask's "Crypto" spelling accepted)."""
    if isinstance(text, dict):
        data = text
    else:
        try:
            data = safejson.loads(text, what="The keystore file", max_bytes=MAX_KEYSTORE_BYTES, max_depth=16)
        except InputError as exc:
            raise CorruptKeystore(f"The keystore file is not usable JSON: {exc.message}",
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
    try:
        actual = Account.from_key(key).address[2:].lower()
    except Exception as exc:  # eth-keys: zero or above the curve order
        raise CorruptKeystore("The keystore holds a value that is not a private key.") from exc
    stated = data.get("address")
    if stated:
        if str(stated).lower().removeprefix("0x") != actual:
            raise CorruptKeystore("The keystore's key does not belong to the address it states.",
                                  hint="The file was altered; do not use it.")
    return key
