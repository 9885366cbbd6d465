"""The Wallet's keys: creating or importing a wallet (the setup wizard), deriving another account, and
the secrets shown on request (the recovery phrase, a keystore file), each after the password is asked
again. Every scrypt runs in a background job of the :class:`WalletState` that owns this; what can be
refused without a password (a weak new one, two that differ, a hostile keystore) is refused first.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.errors import InputError
from studio.ui.workers import Job

if TYPE_CHECKING:
    from studio.ui.state.wallet import Report, WalletState


class WalletKeys:
    """Setup, new accounts and secrets on request, for one :class:`WalletState`."""

    def __init__(self, state: "WalletState") -> None:
        self.state = state

    # -- creating and importing (the setup wizard) --------------------------------------

    def _setup(self, title: str, password: str, repeat: str | None, work: Any) -> Job:
        """Run `work(report, cancel)` that writes the wallet; a new wallet's password is checked first."""
        if not self.state.wallet.exists:
            _check_new_password(password, repeat)
        job = self.state.start_job(title, work)
        state = self.state

        def done(_: Any) -> None:
            state.error = ""
            state.reload_accounts()
            state.refresh()

        job.to(state).succeeded.connect(done)
        job.to(state).cancelled.connect(lambda: setattr(state, "notice", "Cancelled: the wallet was not changed."))
        return job

    def create_wallet(self, phrase: str, password: str, repeat: str | None = None) -> Job:
        """Save a new wallet from the phrase the person confirmed, encrypted under `password`."""
        _check_new_password(password, repeat)
        wallet = self.state.wallet

        def work(report: "Report", cancel: Any) -> None:
            wallet.create(password, phrase=phrase, progress=report, cancel=cancel)  # the phrase is not the result

        return self._setup("Creating the wallet", password, repeat, work)

    def import_phrase(self, phrase: str, password: str, repeat: str | None = None, *, count: int = 1) -> Job:
        from studio.chain.hdkeys import normalize_phrase

        phrase, wallet = normalize_phrase(phrase), self.state.wallet
        return self._setup("Importing the phrase", password, repeat, lambda report, cancel: wallet.import_phrase(
            phrase, password, count=count, progress=report, cancel=cancel))

    def import_private_key(self, key_text: str, password: str, repeat: str | None = None,
                           name: str | None = None) -> Job:
        from studio.chain.hdkeys import parse_private_key

        key, wallet = parse_private_key(key_text), self.state.wallet
        return self._setup("Importing the key", password, repeat, lambda report, cancel: wallet.import_private_key(
            key, password, name=name or None, progress=report, cancel=cancel))

    def import_keystore(self, keystore_text: str, keystore_password: str, password: str,
                        repeat: str | None = None, name: str | None = None) -> Job:
        from studio.chain.keystore import check_kdf, parse_keystore

        keystore = parse_keystore(keystore_text)  # size, depth, v3 shape: refused here, before a thread starts
        check_kdf(keystore["crypto"])  # a hostile KDF cost is refused before any work
        if not keystore_password:
            raise InputError("Enter the keystore file's own password.")
        wallet = self.state.wallet
        return self._setup("Importing the keystore", password, repeat, lambda report, cancel: wallet.import_keystore(
            keystore, keystore_password, password, name=name or None, progress=report, cancel=cancel))

    # -- accounts -----------------------------------------------------------------------

    def phrase_of(self, address: str | None = None) -> int:
        """Which of the wallet's phrases an account was derived from (0, the first, for an imported key)."""
        accounts = self.state.accounts
        index = accounts.index_of(address or self.state.current_account)
        return (accounts.row(index).phrase or 0) if index >= 0 else 0

    def add_account(self, name: str | None = None, *, phrase: int | None = None) -> Job:
        """Derive the next account of a phrase (default: the current account's) while unlocked."""
        state = self.state
        state.require_unlocked("add an account")
        if not state.has_phrase:
            raise InputError("This wallet has no recovery phrase to derive accounts from.",
                             hint="Import a key instead.")
        state.touch()
        wallet, number = state.wallet, self.phrase_of() if phrase is None else phrase
        job = state.start_job("Adding an account", lambda _r, _c: wallet.add_account(name or None, phrase=number))

        def added(account: Any) -> None:
            state.reload_accounts()
            state.select_account(account.address)
            state.refresh()

        job.to(state).succeeded.connect(added)
        job.to(state).failed.connect(state.show_failure)
        return job

    # -- secrets on request (the password is asked again) ----------------------------------

    def reveal_phrase(self, password: str, account: str | None = None) -> Job:
        """The recovery phrase of `account` (or of the first phrase when it is an imported key) after
        re-checking the password (scrypt, in the background)."""
        state = self.state
        if not password:
            raise InputError("Enter the wallet password.")
        if not state.has_phrase:
            raise InputError("This wallet has no recovery phrase (its accounts were imported as keys).")
        wallet = state.wallet
        index = state.accounts.index_of(account or state.current_account)
        row = state.accounts.row(index) if index >= 0 else None
        of = row.address if row is not None and row.path else None
        return state.start_job("Checking the password",
                            lambda report, _c: wallet.reveal_phrase(password, report, account=of))

    def export_keystore(self, address: str, password: str, destination: str | Path, *,
                        keystore_password: str = "") -> Job:
        """Write one account as a v3 keystore file (owner-only), encrypted with `keystore_password`
        (the wallet password when empty)."""
        if not password:
            raise InputError("Enter the wallet password.")
        if keystore_password:
            from studio.chain.wallet import check_new_password

            check_new_password(keystore_password)
        if not str(destination).strip():
            raise InputError("Choose where to save the keystore file.")
        target = Path(destination)
        if not target.parent.is_dir():
            raise InputError(f"The folder {target.parent} does not exist.", hint="Choose another folder.")
        row = self.state.account_row(address)
        wallet = self.state.wallet

        def work(report: "Report", _cancel: Any) -> Path:
            import json

            from studio.fileio import atomic_write_bytes

            keystore = wallet.export_keystore(row.address, password, keystore_password=keystore_password or None,
                                              progress=report)
            atomic_write_bytes(target, json.dumps(keystore).encode("utf-8"), mode=0o600)
            return target

        return self.state.start_job(f"Exporting {row.name}", work)


def _check_new_password(password: str, repeat: str | None) -> None:
    from studio.chain.wallet import check_new_password

    check_new_password(password)
    if repeat is not None and password != repeat:
        raise InputError("The two passwords differ.", hint="Type the same password in both boxes.")
