"""The studio's built-in wallet: HD accounts from a BIP-39 phrase and imported keys, encrypted at rest.

One file, ``<data>/wallet/wallet.json`` (owner-only), holds the public account list (names,
addresses, derivation paths and which phrase each came from: readable while locked) and one Web3
Secret Storage "crypto" section (scrypt + AES-128-CTR + keccak MAC) over the secrets: the recovery
phrases (a wallet can hold several, as MetaMask and Rabby do), any imported keys and service
secrets (a pinning service's access token), which never go to the settings.
Every change is a whole new file written atomically, so a crash leaves the old wallet or the new
one; a cancel token given to a change is checked after the slow encryption, just before the
write, so a cancelled change writes nothing. Keys exist decrypted only in this object's memory while it is unlocked; everything else
gets a `WalletSigner`. Slow calls (every one taking a password: scrypt runs) accept a
``progress`` callback; run them off the GUI thread.
"""
from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from studio.cancel import Cancellable, ProgressCallback
from studio.chain.hdkeys import (ACCOUNT_PATH, address_of, derive_key, generate_phrase, normalize_phrase,
                                 parse_private_key, phrase_seed)
from studio import safejson
from studio.chain.keystore import (DEFAULT_KDF_N, CorruptKeystore, WrongPassword, decrypt_keystore,
                                   decrypt_secret, encrypt_keystore, encrypt_secret)
from studio.errors import Cancelled, InputError, NotFound, StorageError, StudioError, WalletLocked
from studio.fileio import atomic_write_bytes, read_bounded

WALLET_FORMAT = "provenance-studio-wallet"
#: Version 2 files hold accounts of more than one recovery phrase; a wallet with one phrase is
#: still written as version 1, which older studios read.
WALLET_VERSION = 2
MIN_PASSWORD_LENGTH = 8
#: Environment variable scripts may use to give the wallet password (documented in docs/wallet.md).
PASSWORD_ENV = "STUDIO_WALLET_PASSWORD"
DEFAULT_IDLE_LOCK_MINUTES = 15
#: The largest wallet file read (a wallet with a thousand imported keys is about 300 KB).
MAX_WALLET_BYTES = 8 * 1024 * 1024
#: The largest password, phrase or key file read.
MAX_SECRET_FILE_BYTES = 64 * 1024
#: Wrong wallet passwords allowed in a row before each further try must wait (docs/wallet.md).
FREE_PASSWORD_TRIES = 5
#: The longest wait between tries (seconds); the wait doubles from 1 s after the free tries.
MAX_PASSWORD_DELAY = 60.0
#: Names of service secrets (access tokens the studio keeps for a service, e.g. "pinning").
SERVICE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")

__all__ = ["Wallet", "WalletAccount", "WalletSigner", "WrongPassword", "CorruptKeystore", "TooManyTries",
           "PASSWORD_ENV", "check_new_password", "wallet_path"]


@dataclass(frozen=True)
class WalletAccount:
    """One account as the wallet lists it (no secret)."""

    address: str
    name: str
    path: str | None  # derivation path for phrase accounts, None for an imported key
    phrase: int | None = None  # which of the wallet's phrases (0: the first), None for an imported key

    @property
    def source(self) -> str:
        if not self.path:
            return "imported key"
        return "phrase" if not self.phrase else f"phrase {self.phrase + 1}"


def wallet_path(data_dir: Path) -> Path:
    """Where a studio home keeps its wallet (as ``StudioPaths.wallet_file`` says)."""
    return data_dir / "wallet" / "wallet.json"


def check_new_password(password: str) -> None:
    """A new wallet password is at least 8 characters (the only rule: a long phrase is best)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"The wallet password needs at least {MIN_PASSWORD_LENGTH} characters.",
                         hint="A few unrelated words make a strong password that is easy to remember.")


@dataclass
class _Secrets:
    phrases: list[str]  # the first is the one a version 1 wallet held
    imported: dict[str, str]  # address -> hex private key
    services: dict[str, str] = field(default_factory=dict)  # service name -> access token

    @property
    def phrase(self) -> str | None:
        return self.phrases[0] if self.phrases else None

    def to_bytes(self) -> bytes:
        document: dict[str, Any] = {"phrase": self.phrase, "imported": self.imported}
        if len(self.phrases) > 1:
            document["more_phrases"] = self.phrases[1:]
        if self.services:
            document["services"] = self.services
        return json.dumps(document, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> "_Secrets":
        try:
            raw = safejson.loads(data, what="The wallet's encrypted part", max_bytes=MAX_WALLET_BYTES, max_depth=16)
            services = {str(name): str(value) for name, value in dict(raw.get("services") or {}).items()}
            first = raw.get("phrase")
            phrases = ([str(first)] if first else []) + [str(p) for p in list(raw.get("more_phrases") or [])]
            return cls(phrases, dict(raw.get("imported") or {}), services)
        except (InputError, ValueError, UnicodeDecodeError, AttributeError, TypeError) as exc:
            raise CorruptKeystore("The wallet's encrypted part is damaged.",
                                  hint="Restore the wallet from its recovery phrase or a backup.") from exc


class TooManyTries(InputError):
    """Too many wrong passwords in a row: the next try is refused until a short wait has passed."""

    def __init__(self, failures: int, wait: float) -> None:
        super().__init__(f"{failures} wrong passwords in a row; try again in {max(1, round(wait))} s.",
                         hint="Nothing was changed. The wait doubles with each further wrong password "
                              f"(up to {MAX_PASSWORD_DELAY:.0f} s) and ends with the right one.")
        self.wait = wait


def password_delay(failures: int) -> float:
    """Seconds the next try waits after `failures` wrong passwords in a row (0 for the first few)."""
    if failures < FREE_PASSWORD_TRIES:
        return 0.0
    return min(MAX_PASSWORD_DELAY, float(2 ** min(failures - FREE_PASSWORD_TRIES, 16)))


class Wallet:
    """Accounts, lock state and signing for one wallet file.

    `kdf_n` is scrypt's cost for what this wallet encrypts (tests lower it; the product keeps
    262144). `clock` gives seconds for the idle lock (monotonic by default).
    """

    def __init__(self, path: Path, *, kdf_n: int = DEFAULT_KDF_N, idle_lock_seconds: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path)
        self.kdf_n = kdf_n
        self.idle_lock_seconds = idle_lock_seconds
        self._clock = clock
        self._lock = threading.RLock()
        self._keys: dict[str, bytes] = {}
        self._secrets: _Secrets | None = None
        self._last_used = clock()
        self._tries = threading.Lock()
        self._failures = 0            # wrong passwords in a row
        self._last_failure = 0.0

    @classmethod
    def default(cls, **kwargs: Any) -> "Wallet":
        """The wallet in this studio home, with the idle lock from settings."""
        from studio.config import load_config

        from studio.chain import keystore

        config = load_config()
        minutes = config.values.get("wallet_idle_lock_minutes", DEFAULT_IDLE_LOCK_MINUTES)
        kwargs.setdefault("idle_lock_seconds", float(minutes) * 60 if minutes else None)
        kwargs.setdefault("kdf_n", keystore.DEFAULT_KDF_N)  # read now: tests lower the module's value
        return cls(wallet_path(config.paths.data_dir), **kwargs)

    # ---- reading the file (no password)
    @property
    def exists(self) -> bool:
        return self.path.exists()

    def _read(self) -> dict[str, Any]:
        try:
            raw = read_bounded(self.path, MAX_WALLET_BYTES, what="The wallet file")
        except NotFound as exc:
            raise NotFound("There is no wallet yet.",
                           hint="Create one (`studio wallet create`) or import a phrase or key.") from exc
        except StudioError as exc:
            raise CorruptKeystore(exc.message,
                                  hint="Restore it from a backup, or import your phrase into a new wallet.") from exc
        try:
            data = safejson.loads(raw, what=f"The wallet file {self.path}", max_bytes=MAX_WALLET_BYTES, max_depth=16)
        except InputError as exc:
            raise CorruptKeystore(f"{exc.message} It is damaged.",
                                  hint="Restore it from a backup, or import your phrase into a new wallet.") from exc
        if not isinstance(data, dict) or data.get("format") != WALLET_FORMAT or \
                not isinstance(data.get("crypto"), dict) or not isinstance(data.get("accounts"), list):
            raise CorruptKeystore(f"The wallet file {self.path} is not a studio wallet.",
                                  hint="Restore it from a backup, or import your phrase into a new wallet.")
        if data.get("version", 0) > WALLET_VERSION:
            raise CorruptKeystore("The wallet file was written by a newer studio.", hint="Update the studio.")
        return data

    def accounts(self) -> list[WalletAccount]:
        """The accounts, in the order they were added (empty when there is no wallet)."""
        if not self.exists:
            return []
        try:
            return [WalletAccount(a["address"], a["name"], a.get("path"),
                                  int(a.get("phrase") or 0) if a.get("path") else None)
                    for a in self._read()["accounts"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptKeystore(f"The wallet file {self.path} lists a damaged account.") from exc

    def account(self, address_or_name: str | None = None) -> WalletAccount:
        """An account by address or name; the first account when None."""
        accounts = self.accounts()
        if not accounts:
            raise NotFound("The wallet has no accounts yet.", hint="Create or import one first.")
        if address_or_name is None:
            return accounts[0]
        wanted = address_or_name.lower()
        for account in accounts:
            if account.address.lower() == wanted or account.name.lower() == wanted:
                return account
        raise NotFound(f"No wallet account is called {address_or_name!r}.",
                       hint="`studio wallet list` shows the accounts.")

    @property
    def has_phrase(self) -> bool:
        return self.phrase_count > 0

    @property
    def phrase_count(self) -> int:
        """How many recovery phrases the wallet holds (read without the password)."""
        if not self.exists:
            return 0
        data = self._read()
        return int(data.get("phrases", 1 if data.get("has_phrase") else 0))

    # ---- writing the file
    def _write(self, accounts: list[WalletAccount], secrets: _Secrets, password: str,
               progress: ProgressCallback | None = None, cancel: Cancellable | None = None) -> None:
        if progress:
            progress(0.1, "Encrypting the wallet")
        crypto = encrypt_secret(secrets.to_bytes(), password, kdf_n=self.kdf_n)
        if cancel is not None and cancel.cancelled:  # the last moment a change can still be dropped
            raise Cancelled("Cancelled: the wallet was not saved.")
        self._write_raw(accounts, crypto, phrases=len(secrets.phrases))
        if progress:
            progress(1.0, "Wallet saved")

    def _write_raw(self, accounts: list[WalletAccount], crypto: dict[str, Any], *, phrases: int) -> None:
        def entry(account: WalletAccount) -> dict[str, Any]:
            fields: dict[str, Any] = {"address": account.address, "name": account.name, "path": account.path}
            if account.phrase:
                fields["phrase"] = account.phrase
            return fields

        document = {
            "format": WALLET_FORMAT,
            "version": WALLET_VERSION if phrases > 1 else 1,
            "has_phrase": phrases > 0,
            "phrases": phrases,
            "accounts": [entry(a) for a in accounts],
            "crypto": crypto,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(self.path.parent, 0o700)
        except OSError:
            pass
        atomic_write_bytes(self.path, json.dumps(document, indent=2).encode("utf-8"), mode=0o600)

    def password_wait(self, now: float | None = None) -> float:
        """Seconds until the wallet takes another password try (0 when it takes one now)."""
        with self._tries:
            delay = password_delay(self._failures)
            if not delay:
                return 0.0
            now = self._clock() if now is None else now
            return max(0.0, self._last_failure + delay - now)

    def _open(self, password: str, progress: ProgressCallback | None = None) -> tuple[dict[str, Any], _Secrets]:
        data = self._read()
        wait = self.password_wait()
        if wait > 0:
            raise TooManyTries(self._failures, wait)
        if progress:
            progress(0.05, "Checking the password")
        try:
            plain = decrypt_secret(data["crypto"], password)
        except WrongPassword:
            with self._tries:
                self._failures += 1
                self._last_failure = self._clock()
            raise
        with self._tries:
            self._failures = 0
        return data, _Secrets.from_bytes(plain)

    # ---- creating and importing
    def create(self, password: str, *, phrase: str | None = None, words: int = 12, accounts: int = 1,
               progress: ProgressCallback | None = None, cancel: Cancellable | None = None) -> str:
        """Start a new wallet from `phrase` (or a new one of `words` words); returns the phrase.

        The GUI shows a new phrase and asks for it back before calling this with `phrase=`.
        """
        if self.exists:
            raise InputError("A wallet already exists here.",
                             hint="Import into it, or move the wallet file away to start again.")
        check_new_password(password)
        phrase = normalize_phrase(phrase) if phrase else generate_phrase(words)
        created = self._derive_accounts(phrase, 0, range(max(1, accounts)), [])
        self._write(created, _Secrets([phrase], {}), password, progress, cancel)
        return phrase

    def import_phrase(self, phrase: str, password: str, *, count: int = 1, progress: ProgressCallback | None = None,
                      cancel: Cancellable | None = None) -> list[WalletAccount]:
        """Add the phrase's first `count` accounts (creating the wallet if there is none).

        A phrase the wallet does not hold yet is added beside the others (its accounts are named
        after it: "Account 1 · phrase 2"); one it holds gets the accounts it lacks."""
        phrase = normalize_phrase(phrase)
        if not self.exists:
            self.create(password, phrase=phrase, accounts=count, progress=progress, cancel=cancel)
            return self.accounts()
        with self._lock:
            data, secrets = self._open(password, progress)
            if phrase not in secrets.phrases:
                secrets.phrases.append(phrase)
            number = secrets.phrases.index(phrase)
            existing = self.accounts()
            new = [a for a in self._derive_accounts(phrase, number, range(count), existing)
                   if a.address not in {e.address for e in existing}]
            self._write(existing + new, secrets, password, progress, cancel)
            self._refresh_if_unlocked(password, secrets)
            return new

    def import_private_key(self, private_key: str | bytes, password: str, *, name: str | None = None,
                           progress: ProgressCallback | None = None,
                           cancel: Cancellable | None = None) -> WalletAccount:
        """Add an account from a raw key (hex text or 32 bytes)."""
        key = private_key if isinstance(private_key, bytes) else parse_private_key(private_key)
        if len(key) != 32:
            raise InputError("A private key is 32 bytes.")
        address = address_of(key)
        with self._lock:
            if self.exists:
                data, secrets = self._open(password, progress)
                existing = self.accounts()
            else:
                check_new_password(password)
                secrets, existing = _Secrets([], {}), []
            if address in {a.address for a in existing}:
                raise InputError(f"The account {address} is already in the wallet.")
            account = WalletAccount(address, self._unique_name(name or f"Imported {len(existing) + 1}", existing),
                                    None)
            secrets.imported[address] = key.hex()
            self._write(existing + [account], secrets, password, progress, cancel)
            self._refresh_if_unlocked(password, secrets)
            return account

    def import_keystore(self, keystore: str | bytes | dict[str, Any], keystore_password: str, password: str, *,
                        name: str | None = None, progress: ProgressCallback | None = None,
                        cancel: Cancellable | None = None) -> WalletAccount:
        """Add the account of a v3 keystore (geth, MetaMask), opened with its own password."""
        if progress:
            progress(0.0, "Opening the keystore")
        key = decrypt_keystore(keystore, keystore_password)
        return self.import_private_key(key, password, name=name, progress=progress, cancel=cancel)

    def add_account(self, name: str | None = None, *, phrase: int = 0) -> WalletAccount:
        """Derive the next account of the wallet's phrase number `phrase` (0: the first); the wallet
        must be unlocked; no secret changes."""
        with self._lock:
            secrets = self._require_unlocked()
            if not secrets.phrases:
                raise InputError("This wallet has no recovery phrase to derive accounts from.",
                                 hint="Import a key instead, or create a wallet with a phrase.")
            if not 0 <= phrase < len(secrets.phrases):
                raise NotFound(f"The wallet holds {len(secrets.phrases)} recovery phrases, not {phrase + 1}.")
            existing = self.accounts()
            used = {a.path for a in existing if a.path and (a.phrase or 0) == phrase}
            index = 0
            while ACCOUNT_PATH.format(index) in used:
                index += 1
            words = secrets.phrases[phrase]
            (account,) = self._derive_accounts(words, phrase, [index], existing, name=name)
            if account.address in {a.address for a in existing}:
                raise InputError(f"The next account of this phrase, {account.address}, is already in the wallet.")
            self._keys[account.address] = derive_key(phrase_seed(words), ACCOUNT_PATH.format(index))
            data = self._read()
            self._write_raw(existing + [account], data["crypto"], phrases=len(secrets.phrases))
            self.touch()
            return account

    def rename(self, address_or_name: str, name: str) -> WalletAccount:
        """Give an account a new name (public data: no password needed)."""
        name = name.strip()
        if not name:
            raise InputError("An account name cannot be empty.")
        with self._lock:
            data = self._read()
            target = self.account(address_or_name)
            accounts = [WalletAccount(a.address, name if a.address == target.address else a.name, a.path)
                        for a in self.accounts()]
            if sum(a.name.lower() == name.lower() for a in accounts) > 1:
                raise InputError(f"Another account is already called {name!r}.")
            self._write_raw(accounts, data["crypto"], phrases=self.phrase_count)
            return next(a for a in accounts if a.address == target.address)

    def _derive_accounts(self, phrase: str, number: int, indices: Any, existing: list[WalletAccount],
                         name: str | None = None) -> list[WalletAccount]:
        """Accounts `indices` of the wallet's phrase number `number` (its words are `phrase`)."""
        seed = phrase_seed(phrase)
        out: list[WalletAccount] = []
        for index in indices:
            path = ACCOUNT_PATH.format(index)
            default = f"Account {index + 1}" if number == 0 else f"Account {index + 1} · phrase {number + 1}"
            label = self._unique_name(name or default, existing + out)
            out.append(WalletAccount(address_of(derive_key(seed, path)), label, path, number))
        return out

    @staticmethod
    def _unique_name(name: str, existing: list[WalletAccount]) -> str:
        names = {a.name.lower() for a in existing}
        candidate, n = name, 2
        while candidate.lower() in names:
            candidate, n = f"{name} ({n})", n + 1
        return candidate

    # ---- lock state
    @property
    def is_unlocked(self) -> bool:
        return self._secrets is not None

    def unlock(self, password: str, progress: ProgressCallback | None = None) -> None:
        """Decrypt the keys into memory; WrongPassword changes nothing."""
        with self._lock:
            data, secrets = self._open(password, progress)
            keys = self._keys_for(secrets, self.accounts())
            self._secrets, self._keys = secrets, keys
            self.touch()
            if progress:
                progress(1.0, "Wallet unlocked")

    def _keys_for(self, secrets: _Secrets, accounts: list[WalletAccount]) -> dict[str, bytes]:
        keys: dict[str, bytes] = {}
        seeds: dict[int, bytes] = {}
        for account in accounts:
            if account.path:
                number = account.phrase or 0
                if number >= len(secrets.phrases):
                    raise CorruptKeystore("The wallet lists phrase accounts but does not hold their phrase.",
                                          hint="Restore the wallet from its recovery phrases or a backup.")
                if number not in seeds:
                    seeds[number] = phrase_seed(secrets.phrases[number])
                key = derive_key(seeds[number], account.path)
            else:
                hex_key = secrets.imported.get(account.address)
                if hex_key is None:
                    raise CorruptKeystore(f"The wallet holds no key for {account.address}.")
                key = bytes.fromhex(hex_key)
            if address_of(key) != account.address:
                raise CorruptKeystore(f"The wallet file was altered: {account.address} does not match its key.",
                                      hint="Restore the wallet from its recovery phrase or a backup.")
            keys[account.address] = key
        return keys

    def _refresh_if_unlocked(self, password: str, secrets: _Secrets) -> None:
        if self.is_unlocked:
            self._secrets, self._keys = secrets, self._keys_for(secrets, self.accounts())

    def lock(self) -> None:
        """Forget every decrypted key and the phrase."""
        with self._lock:
            self._keys.clear()
            self._secrets = None

    def touch(self, now: float | None = None) -> None:
        """Note activity (each signature touches); the idle lock counts from here."""
        self._last_used = self._clock() if now is None else now

    def lock_if_idle(self, now: float | None = None) -> bool:
        """Lock when unlocked and idle for `idle_lock_seconds`; True when it locked. A timer calls this."""
        if not self.is_unlocked or not self.idle_lock_seconds:
            return False
        now = self._clock() if now is None else now
        if now - self._last_used >= self.idle_lock_seconds:
            self.lock()
            return True
        return False

    def seconds_until_lock(self, now: float | None = None) -> float | None:
        """How long until the idle lock (None when locked or when the idle lock is off)."""
        if not self.is_unlocked or not self.idle_lock_seconds:
            return None
        now = self._clock() if now is None else now
        return max(0.0, self.idle_lock_seconds - (now - self._last_used))

    def _require_unlocked(self) -> _Secrets:
        if self._secrets is None:
            raise WalletLocked("The wallet is locked.", hint="Unlock it with your password first.")
        return self._secrets

    # ---- signing
    def signer(self, address_or_name: str | None = None) -> "WalletSigner":
        """A `Signer` for one account; it refuses once the wallet locks."""
        account = self.account(address_or_name)
        self._require_unlocked()
        return WalletSigner(self, account.address)

    def _key(self, address: str) -> bytes:
        with self._lock:
            self._require_unlocked()
            key = self._keys.get(address)
            if key is None:
                raise NotFound(f"The wallet has no key for {address}.")
            self.touch()
            return key

    # ---- secrets on request (password asked again)
    def reveal_phrase(self, password: str, progress: ProgressCallback | None = None, *,
                      account: str | None = None) -> str:
        """The recovery phrase `account` was derived from (None: the wallet's first phrase), after
        checking the password again. Whoever sees it owns the funds."""
        number = 0
        if account is not None:
            chosen = self.account(account)
            if not chosen.path:
                raise InputError(f"{chosen.name} was imported as a key: it has no recovery phrase.",
                                 hint="Choose an account that was made from a phrase.")
            number = chosen.phrase or 0
        _, secrets = self._open(password, progress)
        if not secrets.phrases:
            raise NotFound("This wallet has no recovery phrase (its accounts were imported as keys).")
        if number >= len(secrets.phrases):
            raise CorruptKeystore("The wallet does not hold the phrase of this account.")
        return secrets.phrases[number]

    def export_keystore(self, address_or_name: str, password: str, *, keystore_password: str | None = None,
                        kdf_n: int | None = None, progress: ProgressCallback | None = None) -> dict[str, Any]:
        """One account as a v3 keystore, encrypted with `keystore_password` (default: the wallet's)."""
        account = self.account(address_or_name)
        _, secrets = self._open(password, progress)
        key = self._keys_for(secrets, [account])[account.address]
        new_password = keystore_password if keystore_password is not None else password
        check_new_password(new_password)
        if progress:
            progress(0.5, "Encrypting the keystore")
        return encrypt_keystore(key, new_password, kdf_n=kdf_n or self.kdf_n)

    # ---- service secrets (access tokens of storage services), encrypted with the keys
    def set_service_secret(self, name: str, value: str, password: str,
                           progress: ProgressCallback | None = None) -> None:
        """Keep `value` (e.g. the pinning service's token, name "pinning") in the encrypted section,
        replacing any earlier one, in one atomic file replacement; WrongPassword changes nothing."""
        _check_service_name(name)
        value = value.strip()
        if not value or len(value.split()) != 1:
            raise InputError(f"The {name} secret should be one token, without spaces or line breaks.")
        with self._lock:
            _, secrets = self._open(password, progress)
            self._keys_for(secrets, self.accounts())  # refuse to rewrite a file that does not add up
            secrets.services[name] = value
            self._write(self.accounts(), secrets, password, progress)
            self._refresh_if_unlocked(password, secrets)

    def remove_service_secret(self, name: str, password: str, progress: ProgressCallback | None = None) -> bool:
        """Forget the service secret `name`; False (and the file untouched) when there was none."""
        _check_service_name(name)
        with self._lock:
            _, secrets = self._open(password, progress)
            if name not in secrets.services:
                return False
            self._keys_for(secrets, self.accounts())
            del secrets.services[name]
            self._write(self.accounts(), secrets, password, progress)
            self._refresh_if_unlocked(password, secrets)
            return True

    def service_secret(self, name: str) -> str | None:
        """The service secret `name` (None when the wallet keeps none); needs the wallet unlocked."""
        _check_service_name(name)
        with self._lock:
            return self._require_unlocked().services.get(name)

    def change_password(self, old_password: str, new_password: str,
                        progress: ProgressCallback | None = None) -> None:
        """Re-encrypt every secret under `new_password` in one atomic file replacement."""
        check_new_password(new_password)
        with self._lock:
            _, secrets = self._open(old_password, progress)
            self._keys_for(secrets, self.accounts())  # refuse to rewrite a file that does not add up
            self._write(self.accounts(), secrets, new_password, progress)


def _check_service_name(name: str) -> None:
    if not SERVICE_NAME.fullmatch(name):
        raise InputError(f"{name!r} is not a service secret name (lower-case letters, digits, - and _).")


class WalletSigner:
    """`Signer` for one wallet account: signs while the wallet is unlocked, never exposes the key."""

    def __init__(self, wallet: Wallet, address: str) -> None:
        self._wallet = wallet
        self._address = address

    @property
    def address(self) -> str:
        return self._address

    def sign_transaction(self, transaction: dict[str, Any]) -> bytes:
        from eth_account import Account

        return bytes(Account.sign_transaction(transaction, self._wallet._key(self._address)).raw_transaction)

    def sign_typed_data(self, full_message: dict[str, Any]) -> bytes:
        from eth_account import Account
        from eth_account.messages import encode_typed_data

        signable = encode_typed_data(full_message=full_message)
        return bytes(Account.sign_message(signable, self._wallet._key(self._address)).signature)

    def sign_message(self, message: str | bytes) -> bytes:
        """EIP-191 personal_sign of text or bytes."""
        from eth_account import Account
        from eth_account.messages import encode_defunct

        signable = encode_defunct(text=message) if isinstance(message, str) else encode_defunct(primitive=message)
        return bytes(Account.sign_message(signable, self._wallet._key(self._address)).signature)

    def __repr__(self) -> str:
        return f"WalletSigner({self._address})"


def password_from_environment() -> str | None:
    """The password scripts may pass in `STUDIO_WALLET_PASSWORD` (None when unset)."""
    value = os.environ.get(PASSWORD_ENV)
    return value if value else None


def read_secret_file(path: Path, what: str) -> str:
    """The first line of a password/phrase/key file (a trailing newline is not part of it).

    A pipe is accepted (``--password-file <(pass show studio)``); whatever it is, at most
    ``MAX_SECRET_FILE_BYTES`` are read, so ``/dev/zero`` is refused instead of filling memory.
    A keystore is read with its own limit (``keystore.read_keystore_file``).
    """
    from studio.fileio import read_text_bounded

    try:
        text = read_text_bounded(path, MAX_SECRET_FILE_BYTES, what=f"The {what} file", regular_only=False)
    except NotFound as exc:
        raise NotFound(f"The {what} file {path} does not exist.") from exc
    return text.rstrip("\r\n") if what == "password" else text.strip()
