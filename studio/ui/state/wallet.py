"""The Wallet tab's view-model: lock state, accounts with balances, network status, history, sending.

No widgets here. Everything that runs scrypt or talks to a node goes through the background pool
as a :class:`~studio.ui.workers.FunctionJob`; what can be checked without a node or a password
(locked wallet, bad address, bad amount, weak new password) is checked first and raised as a
:class:`~studio.errors.StudioError`, so a worker is never queued for a request that cannot succeed.
Dialogs call the methods that return a job and connect to its ``succeeded``/``failed`` signals.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from studio.errors import InputError, StudioError, WalletLocked
from studio.ui.binding import Field
from studio.ui.money import format_eth, parse_eth, short_address
from studio.ui.state.wallet_models import AccountRow, AccountsModel, HistoryModel, NftsModel
from studio.ui.workers import BackgroundPool, FunctionJob, Job, JobState, error_message

if TYPE_CHECKING:
    from studio.chain.history import HistoryEntry
    from studio.chain.sender import GasSettings
    from studio.library.address_book import AddressBook, Contact
    from studio.library.db import Library
    from studio.chain.networks import Network
    from studio.chain.sender import PreparedTx, SentTx
    from studio.chain.session import AccountBalance, NetworkStatus, WalletSession
    from studio.chain.transactions import MessagePreview, TxReceipt

log = logging.getLogger(__name__)

#: How often the idle lock is checked (the lock itself comes after the idle minutes from settings).
IDLE_CHECK_MS = 5_000
#: How long a passing notice ("Copied 0x…") stays.
FLASH_MS = 4_000
SPEEDS = ("slow", "normal", "fast")


# ---- networks as people read them -----------------------------------------------------


def network_line(status: "NetworkStatus") -> str:
    """The switcher's status line: ``Connected · chain 1337 · block 12`` or what is wrong."""
    if status.usable:
        return f"Connected · chain {status.reported_chain_id} · block {status.block_number}"
    return status.problem or "Not connected."


def network_label(network: "Network") -> str:
    """A network as the switcher lists it, with its marker (``MAINNET`` for real money)."""
    return f"{network.name} · {network.marker}"


# ---- the view-model -------------------------------------------------------------------


@dataclass(frozen=True)
class SendOutcome:
    """What a finished send reports: the accepted transaction and its receipt."""

    sent: "SentTx"
    receipt: "TxReceipt"


Report = Callable[[float, str], None]


class WalletState(QObject):
    """Everything the Wallet tab shows and does, over one :class:`~studio.chain.session.WalletSession`."""

    has_wallet_changed = Signal(bool)
    unlocked_changed = Signal(bool)
    has_phrase_changed = Signal(bool)
    network_key_changed = Signal(str)
    network_line_changed = Signal(str)
    network_ok_changed = Signal(bool)
    busy_changed = Signal(bool)
    progress_text_changed = Signal(str)
    progress_fraction_changed = Signal(float)
    error_changed = Signal(str)
    notice_changed = Signal(str)
    chain_status_changed = Signal(str)
    current_account_changed = Signal(str)
    history_account_changed = Signal(str)
    #: A refresh (status, balances, history) ended and the models hold its results.
    refreshed = Signal()
    #: The idle timer locked the wallet.
    idle_locked = Signal()
    #: The network list changed (settings: RPC URLs, custom networks).
    networks_changed = Signal()
    #: The NFTs model holds what the accounts hold (after `load_nfts`).
    nfts_loaded = Signal()

    has_wallet = Field(False)
    unlocked = Field(False)
    has_phrase = Field(False)
    network_key = Field("devnet")
    network_line = Field("Not checked yet.")
    network_ok = Field(False)
    busy = Field(False)
    progress_text = Field("")
    progress_fraction = Field(0.0)
    error = Field("")
    notice = Field("")
    chain_status = Field("")
    current_account = Field("")
    #: Whose transactions the history shows: an account's address, or "" for every account.
    history_account = Field("")

    def __init__(self, session: "WalletSession", background: BackgroundPool, parent: QObject | None = None, *,
                 idle_check_ms: int = IDLE_CHECK_MS) -> None:
        super().__init__(parent)
        self.session = session
        self.background = background
        self.accounts = AccountsModel(self)
        self.history = HistoryModel(self)
        self.nfts = NftsModel(self)
        self._nft_generation = 0
        self._history_entries: list["HistoryEntry"] = []  # every account's; `history` shows the filtered ones
        self._running: set[Job] = set()  # jobs the busy state follows
        self._alive: set[Job] = set()  # every job until its signals were all delivered
        self._refresh_generation = 0
        self.idle_timer = QTimer(self)
        self.idle_timer.setInterval(idle_check_ms)
        self.idle_timer.timeout.connect(self.check_idle)
        self.idle_timer.start()
        self.network_key = session.network.key
        self._set_currency(session.network.currency)
        #: The library the address book lives in (the window sets its own; else the home's, on first use).
        self.library: "Library | None" = None
        self._address_book: "AddressBook | None" = None
        from studio.ui.state.wallet_weth import WethActions

        #: The acting account's WETH, and wrapping and unwrapping it.
        self.weth = WethActions(self)
        self.reload_accounts()

    # -- reading the wallet (no password, no node) ---------------------------------------

    @property
    def wallet(self) -> Any:
        return self.session.wallet

    @property
    def network(self) -> "Network":
        return self.session.network

    def networks(self) -> list["Network"]:
        return self.session.registry.all()

    def reload_accounts(self) -> None:
        """Re-read the wallet file's public part (names, addresses) and the lock state."""
        try:
            accounts = self.wallet.accounts()
            has_phrase = self.wallet.has_phrase
        except StudioError as exc:
            accounts, has_phrase = [], False
            self.error = str(exc)
        balances = {r.address: r.balance_wei for r in self.accounts.rows()}
        self.accounts.set_rows([AccountRow(a.address, a.name, a.path, balances.get(a.address), a.phrase)
                                for a in accounts])
        self.history.names = self.nfts.names = {a.address.lower(): a.name for a in accounts}
        self.has_wallet = bool(accounts)
        self.has_phrase = has_phrase
        self.unlocked = self.wallet.is_unlocked
        if not any(a.address == self.current_account for a in accounts):
            self.current_account = accounts[0].address if accounts else ""
        if self.history_account and not any(a.address == self.history_account for a in accounts):
            self.show_history_of("")
        self._update_chain_status()

    def account_row(self, address: str | None = None) -> AccountRow:
        index = self.accounts.index_of(address or self.current_account)
        if index < 0:
            raise InputError("Choose an account first.")
        return self.accounts.row(index)

    def _update_chain_status(self) -> None:
        network = self.network.name
        if not self.has_wallet:
            self.chain_status = f"No wallet · {network}"
        elif not self.unlocked:
            self.chain_status = f"Wallet locked · {network}"
        else:
            index = self.accounts.index_of(self.current_account)
            row = self.accounts.row(index) if index >= 0 else None
            who = f"{row.name} {short_address(row.address)}" if row else "Wallet unlocked"
            self.chain_status = f"{who} · {network}"

    def select_account(self, address: str) -> None:
        self.current_account = address
        self._update_chain_status()

    # -- jobs ---------------------------------------------------------------------------

    def _start(self, title: str, work: Callable[[Report, Any], Any], *, quiet: bool = False) -> Job:
        """Run `work(report, cancel)` on the pool; busy/progress follow it unless `quiet`.

        The job starts from the event loop, so a caller may connect to its signals after this
        returns and still hear every one; it is kept alive until its last queued signal was delivered.
        """
        def run(progress: Callable[[Any], None], cancel: Any) -> Any:
            return work(lambda fraction, text: progress((float(fraction), str(text))), cancel)

        job = FunctionJob(title, run)
        self._alive.add(job)
        job.to(self).ended.connect(lambda: self._on_ended(job))
        if not quiet:
            self._running.add(job)
            job.to(self).progressed.connect(self._on_progress)
            self.busy = True
            self.progress_text = f"{title}…"
            self.progress_fraction = -1.0
        QTimer.singleShot(0, self, partial(self.background.start, job))
        return job

    def _on_progress(self, update: tuple[float, str]) -> None:
        fraction, text = update
        self.progress_fraction, self.progress_text = fraction, text

    def _on_ended(self, job: Job) -> None:
        if job in self._running:
            self._running.discard(job)
            self.busy = bool(self._running)
            if not self._running:
                stopped = job.error is not None or job.state == JobState.CANCELLED
                self.progress_fraction = 0.0 if stopped else 1.0
                if job.state == JobState.CANCELLED:
                    self.progress_text = f"{job.title}: cancelled."
                elif job.error is not None:
                    self.progress_text = ""
        # slots connected after this one still have events queued: let them run first
        QTimer.singleShot(0, self, partial(self._alive.discard, job))

    def _fail(self, exc: BaseException) -> None:
        self.error = error_message(exc)

    def dismiss_error(self) -> None:
        self.error = ""

    def flash_notice(self, text: str) -> None:
        """A notice that clears itself after a few seconds, unless another replaced it meanwhile."""
        self.notice = text
        QTimer.singleShot(FLASH_MS, self, lambda: setattr(self, "notice", "") if self.notice == text else None)

    def _touch(self) -> None:
        if self.wallet.is_unlocked:
            self.wallet.touch()

    # -- network ------------------------------------------------------------------------

    def switch_network(self, key: str) -> Job | None:
        """Use another network (remembered in settings) and check it in the background."""
        if key == self.network.key:
            return None
        network = self.session.switch_network(key)
        self.network_key = network.key
        self._set_currency(network.currency)
        self.network_ok = False
        self.network_line = f"Connecting to {network.name}…"
        self.accounts.set_rows([replace(r, balance_wei=None) for r in self.accounts.rows()])
        self._update_chain_status()
        self._remember_network(network.key)
        return self.refresh()

    def reload_networks(self, key: str | None = None) -> Job | None:
        """Re-read the networks after the settings changed (RPC URLs), then use `key` (or the current one)."""
        from studio.chain.networks import NetworkRegistry

        self.session.registry = NetworkRegistry.default()
        wanted = key or self.network.key
        try:
            self.session.registry.get(wanted)
        except StudioError as exc:
            self.error = str(exc)
            wanted = "devnet"
        self.networks_changed.emit()
        self.session.switch_network(wanted)  # a fresh connection: the RPC URL may have changed
        self.network_key = self.network.key
        self._set_currency(self.network.currency)
        self._update_chain_status()
        return self.refresh()

    def _set_currency(self, currency: str) -> None:
        self.accounts.currency = self.history.currency = self.nfts.currency = currency

    @staticmethod
    def _remember_network(key: str) -> None:
        try:
            from studio.config import load_config

            config = load_config()
            config.set("network", key)
            config.save()
        except StudioError as exc:  # the switch still works for this session
            log.warning("Could not remember the network choice: %s", exc)

    def refresh(self) -> Job:
        """Check the node (chain id), read balances and the history, in the background."""
        self._refresh_generation += 1
        generation = self._refresh_generation
        session = self.session

        def work(report: Report, cancel: Any) -> tuple[Any, Any, Any]:
            report(0.05, f"Connecting to {session.network.name}")
            status = session.network_status()
            balances = session.balances(progress=lambda f, text: report(0.1 + 0.8 * f, text), cancel=cancel) \
                if status.usable else None
            return status, balances, session.history_entries()

        job = self._start(f"Checking {self.network.name}", work)
        job.to(self).succeeded.connect(lambda result: self._on_refreshed(generation, result))
        job.to(self).failed.connect(lambda exc: self._on_refresh_failed(generation, exc))
        return job

    def _on_refreshed(self, generation: int, result: tuple["NetworkStatus", list["AccountBalance"] | None,
                                                            list["HistoryEntry"]]) -> None:
        if generation != self._refresh_generation:
            return  # an older network's answer
        status, balances, entries = result
        self.network_line = network_line(status)
        self.network_ok = status.usable
        by_address = {b.address: b.balance_wei for b in balances or []}
        self.reload_accounts()
        self.accounts.set_rows([replace(r, balance_wei=by_address.get(r.address)) for r in self.accounts.rows()])
        self._history_entries = list(entries)
        self._show_history()
        if status.usable:
            self.weth.load()
        else:
            self.weth.clear()
        self.progress_fraction = 1.0
        self.progress_text = "Up to date." if status.usable else ""
        self.refreshed.emit()

    def show_history_of(self, address: str) -> None:
        """Show the transactions of one account (its address), or of every account ("")."""
        self.history_account = address
        self._show_history()

    def _show_history(self) -> None:
        wanted = self.history_account.lower()
        self.history.set_rows([e for e in self._history_entries if not wanted or e.sender.lower() == wanted])
        self.load_nfts()

    def load_nfts(self) -> Job:
        """What the accounts (the one the history shows, or all) hold on this network, from the
        library: the studio's mints, the collections opened in Collections and the market's events."""
        self._nft_generation += 1
        generation = self._nft_generation
        owners = [self.history_account] if self.history_account else [r.address for r in self.accounts.rows()]
        chain_id = self.network.chain_id
        library = self.ensure_library()

        def work(_report: Report, _cancel: Any) -> list[Any]:
            from studio.library.holdings import holdings

            return holdings(library, chain_id, owners)

        job = self._start("Reading the accounts' NFTs", work, quiet=True)
        job.to(self).succeeded.connect(lambda rows: self._on_nfts(generation, rows))
        job.to(self).failed.connect(self._fail)
        return job

    def _on_nfts(self, generation: int, rows: list[Any]) -> None:
        if generation == self._nft_generation:
            self.nfts.set_rows(rows)
            self.nfts_loaded.emit()

    def _on_refresh_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._refresh_generation:
            return
        self.network_ok = False
        self.network_line = error_message(exc)
        self.refreshed.emit()

    # -- lock ---------------------------------------------------------------------------

    def unlock(self, password: str) -> Job:
        """Decrypt the wallet in the background (scrypt); the job fails with WrongPassword on a bad one."""
        if not password:
            raise InputError("Enter the wallet password.")
        wallet = self.wallet

        def work(report: Report, _cancel: Any) -> None:
            wallet.unlock(password, progress=report)

        job = self._start("Unlocking the wallet", work)
        job.to(self).succeeded.connect(lambda _: self._after_lock_change(""))
        return job

    def lock(self) -> None:
        """Forget the keys now."""
        self.wallet.lock()
        self._after_lock_change("The wallet is locked.")

    def check_idle(self, now: float | None = None) -> bool:
        """The idle timer's tick: lock after the idle minutes (True when it locked now)."""
        locked = self.wallet.lock_if_idle(now)
        if locked:
            minutes = (self.wallet.idle_lock_seconds or 0) / 60
            self._after_lock_change(f"The wallet locked itself after {minutes:g} minutes without use.")
            self.idle_locked.emit()
        elif self.unlocked != self.wallet.is_unlocked:
            self._after_lock_change("")
        return locked

    def set_idle_lock_minutes(self, minutes: float) -> None:
        """Apply the `wallet_idle_lock_minutes` setting (0 never locks)."""
        self.wallet.idle_lock_seconds = float(minutes) * 60 if minutes else None

    def _after_lock_change(self, notice: str) -> None:
        self.unlocked = self.wallet.is_unlocked
        self.notice = notice
        self._update_chain_status()

    def _require_unlocked(self, what: str) -> None:
        if not self.wallet.is_unlocked:
            self.unlocked = False
            self._update_chain_status()
            raise WalletLocked("The wallet is locked.", hint=f"Unlock it to {what}.")

    # -- creating and importing (the setup wizard) --------------------------------------

    def _new_password(self, password: str, repeat: str | None) -> None:
        from studio.chain.wallet import check_new_password

        check_new_password(password)
        if repeat is not None and password != repeat:
            raise InputError("The two passwords differ.", hint="Type the same password in both boxes.")

    def create_wallet(self, phrase: str, password: str, repeat: str | None = None) -> Job:
        """Save a new wallet from the phrase the person confirmed, encrypted under `password`."""
        self._new_password(password, repeat)
        wallet = self.wallet

        def work(report: Report, cancel: Any) -> None:
            wallet.create(password, phrase=phrase, progress=report, cancel=cancel)  # the phrase is not the result

        job = self._start("Creating the wallet", work)
        self._after_setup(job)
        return job

    def import_phrase(self, phrase: str, password: str, repeat: str | None = None, *, count: int = 1) -> Job:
        from studio.chain.hdkeys import normalize_phrase

        phrase = normalize_phrase(phrase)
        if not self.wallet.exists:
            self._new_password(password, repeat)
        wallet = self.wallet
        job = self._start("Importing the phrase", lambda report, cancel: wallet.import_phrase(
            phrase, password, count=count, progress=report, cancel=cancel))
        self._after_setup(job)
        return job

    def import_private_key(self, key_text: str, password: str, repeat: str | None = None,
                           name: str | None = None) -> Job:
        from studio.chain.hdkeys import parse_private_key

        key = parse_private_key(key_text)
        if not self.wallet.exists:
            self._new_password(password, repeat)
        wallet = self.wallet
        job = self._start("Importing the key", lambda report, cancel: wallet.import_private_key(
            key, password, name=name or None, progress=report, cancel=cancel))
        self._after_setup(job)
        return job

    def import_keystore(self, keystore_text: str, keystore_password: str, password: str,
                        repeat: str | None = None, name: str | None = None) -> Job:
        from studio.chain.keystore import check_kdf, parse_keystore

        keystore = parse_keystore(keystore_text)  # size, depth, v3 shape: refused here, before a thread starts
        check_kdf(keystore["crypto"])  # a hostile KDF cost is refused before any work
        if not keystore_password:
            raise InputError("Enter the keystore file's own password.")
        if not self.wallet.exists:
            self._new_password(password, repeat)
        wallet = self.wallet
        job = self._start("Importing the keystore", lambda report, cancel: wallet.import_keystore(
            keystore, keystore_password, password, name=name or None, progress=report, cancel=cancel))
        self._after_setup(job)
        return job

    def _after_setup(self, job: Job) -> None:
        def done(_: Any) -> None:
            self.error = ""
            self.reload_accounts()
            self.refresh()

        job.to(self).succeeded.connect(done)
        job.to(self).cancelled.connect(lambda: setattr(self, "notice", "Cancelled: the wallet was not changed."))

    # -- accounts -----------------------------------------------------------------------

    def phrase_of(self, address: str | None = None) -> int:
        """Which of the wallet's phrases an account was derived from (0, the first, for an imported key)."""
        index = self.accounts.index_of(address or self.current_account)
        return (self.accounts.row(index).phrase or 0) if index >= 0 else 0

    def add_account(self, name: str | None = None, *, phrase: int | None = None) -> Job:
        """Derive the next account of a phrase (default: the current account's) while unlocked."""
        self._require_unlocked("add an account")
        if not self.has_phrase:
            raise InputError("This wallet has no recovery phrase to derive accounts from.",
                             hint="Import a key instead.")
        self._touch()
        wallet, number = self.wallet, self.phrase_of() if phrase is None else phrase
        job = self._start("Adding an account", lambda _r, _c: wallet.add_account(name or None, phrase=number))

        def added(account: Any) -> None:
            self.reload_accounts()
            self.select_account(account.address)
            self.refresh()

        job.to(self).succeeded.connect(added)
        job.to(self).failed.connect(self._fail)
        return job

    # -- devnet funds ---------------------------------------------------------------------

    @property
    def can_fund_from_devnet(self) -> bool:
        """The built-in devnet's test accounts can pay a new account (nowhere else)."""
        return self.network.embedded

    def fund_from_devnet(self, account: str | None = None) -> Job:
        """The devnet's test accounts pay 10 ETH to an account (the current one); no password needed."""
        from studio.chain.devnet import FUNDING_WEI

        if not self.can_fund_from_devnet:
            raise InputError(f"{self.network.name} is not the built-in devnet: its test accounts cannot pay here.",
                             hint="Switch to the devnet, or use the network's faucet.")
        row = self.account_row(account)
        session, currency = self.session, self.network.currency

        def work(report: Report, _cancel: Any) -> str:
            report(0.2, f"Asking the devnet's test accounts to pay {row.name}")
            payer, _receipt = session.fund_from_devnet(row.address, FUNDING_WEI)
            return (f"{row.name} received {format_eth(FUNDING_WEI, currency)} from the devnet's test account "
                    f"{short_address(payer)}.")

        job = self._start(f"Funding {row.name} from the devnet", work)
        job.to(self).succeeded.connect(lambda message: setattr(self, "notice", str(message)))
        job.to(self).failed.connect(self._fail)
        job.to(self).ended.connect(self.refresh)
        return job

    # -- sending ------------------------------------------------------------------------

    # -- recipients and the address book ------------------------------------------------

    def ensure_library(self) -> "Library":
        """The window's library, or this home's when the view-model was made without one."""
        if self.library is None:
            from studio.library.db import Library

            self.library = Library.default()
        return self.library

    def address_book(self) -> "AddressBook":
        """The saved names of addresses (in the window's library)."""
        if self._address_book is None:
            from studio.library.address_book import AddressBook

            self._address_book = AddressBook(self.ensure_library())
        return self._address_book

    def contacts(self) -> list["Contact"]:
        return self.address_book().contacts()

    def save_contact(self, name: str, address: str) -> "Contact":
        """Save an address under a name (a checksummed address; the name unique)."""
        from studio.chain.contracts import checksum

        contact = self.address_book().save(name, checksum(address.strip(), "address"))
        self.flash_notice(f"Saved {contact.address} as “{contact.name}”.")
        return contact

    def remove_contact(self, address: str) -> None:
        self.address_book().remove(address)

    def describe_recipient(self, text: str) -> str:
        """What the Send dialog says under the recipient as it is typed (no node asked): the
        address a name stands for, that an ENS name is resolved on Review, or why it cannot be used."""
        if not text.strip():
            return ""
        try:
            found = self.session.recipient_here(text, self.address_book())
        except StudioError as exc:
            return str(exc).split("\n")[0]
        if found is None:
            return f"ENS name: resolved on {self.network.name} when you press Review."
        return f"{found.label}: {found.address}" if found.label else "Not in your address book."

    def validate_send(self, to: str, amount_text: str) -> int:
        """Checks that need no node (locked, recipient, amount); returns the amount in wei."""
        self._require_unlocked("send")
        value = parse_eth(amount_text, self.network.currency)
        if value < 0:
            raise InputError("An amount cannot be negative.")
        self.session.recipient_here(to, self.address_book())
        return value

    def prepare_send(self, to: str, amount_text: str, *, account: str | None = None,
                     speed: str = "normal") -> Job:
        """Resolve the recipient (an ENS name through the node), simulate and estimate in the
        background; the job's result is a PreparedTx to preview."""
        value = self.validate_send(to, amount_text)
        if speed not in SPEEDS:
            raise InputError(f"The speed is one of {', '.join(SPEEDS)}.")
        sender = account or self.current_account
        self.account_row(sender)
        self._touch()
        session, book = self.session, self.address_book()

        def work(report: Report, _cancel: Any) -> "PreparedTx":
            report(0.05, "Finding the recipient")
            recipient = session.resolve_recipient(to, book)
            return session.prepare_send(recipient.address, value, account=sender, speed=speed, progress=report,
                                        label=recipient.label)

        return self._start("Preparing the transaction", work)

    def max_amount(self, to: str, *, account: str | None = None, speed: str = "normal") -> Job:
        """The most the account can send to ``to`` (its balance less the largest fee), in wei, read in
        the background; a recipient is needed because a contract may take more gas than a transfer."""
        self._require_unlocked("send")
        sender = account or self.current_account
        self.account_row(sender)
        session, book = self.session, self.address_book()
        session.recipient_here(to, book)  # a bad recipient is said now

        def work(report: Report, _cancel: Any) -> int:
            report(0.2, "Reading the balance and the fees")
            return session.max_sendable(session.resolve_recipient(to, book).address, account=sender, speed=speed)

        return self._start("Working out the most you can send", work, quiet=True)

    def send(self, prepared: "PreparedTx", *, confirmed: bool, timeout: float = 120.0,
             gas: "GasSettings | None" = None) -> Job:
        """Sign, broadcast and wait for the receipt; the result is a SendOutcome. Refreshes after.
        ``gas``: the advanced gas set in the preview (checked against the node before signing)."""
        self._require_unlocked("send")
        if prepared.preview.is_mainnet and not confirmed:
            raise InputError("This transaction is on a mainnet and was not confirmed. Nothing was signed.",
                             hint="Tick the confirmation in the preview.")
        self._touch()
        session = self.session

        def work(report: Report, cancel: Any) -> SendOutcome:
            report(0.1, "Signing and sending")
            sent = session.send(prepared, confirmed=confirmed, gas=gas)
            report(0.5, f"Sent {short_address(sent.tx_hash)}; waiting for it to be mined")
            return SendOutcome(sent, session.wait(sent, timeout=timeout, cancel=cancel))

        job = self._start(prepared.preview.action, work)
        job.to(self).ended.connect(self.refresh)
        return job

    def speed_up(self, tx_hash: str, *, confirmed: bool = False) -> Job:
        """Resend a pending transaction with higher fees (same nonce)."""
        self._require_unlocked("speed up a transaction")
        self._touch()
        session = self.session
        job = self._start("Speeding up the transaction",
                          lambda _r, _c: session.speed_up(tx_hash, confirmed=confirmed))
        job.to(self).failed.connect(self._fail)
        job.to(self).ended.connect(self.refresh)
        return job

    def cancel_pending(self, tx_hash: str) -> Job:
        """Replace a pending transaction by a 0-value transfer to itself."""
        self._require_unlocked("cancel a transaction")
        self._touch()
        session = self.session
        job = self._start("Cancelling the transaction", lambda _r, _c: session.cancel_pending(tx_hash))
        job.to(self).failed.connect(self._fail)
        job.to(self).ended.connect(self.refresh)
        return job

    # -- messages -----------------------------------------------------------------------

    def preview_message(self, message: str, account: str | None = None) -> "MessagePreview":
        """What will be signed (no node, no key: fine on the GUI thread)."""
        self._require_unlocked("sign")
        return self.session.preview_message(message, account or self.current_account)

    def sign_message(self, message: str, account: str | None = None) -> Job:
        """EIP-191 signature in the background; the result is 0x hex."""
        self.preview_message(message, account)
        self._touch()
        session, who = self.session, account or self.current_account
        return self._start("Signing the message", lambda _r, _c: session.sign_message(message, who))

    # -- secrets on request (the password is asked again) ----------------------------------

    def reveal_phrase(self, password: str, account: str | None = None) -> Job:
        """The recovery phrase of `account` (or of the first phrase when it is an imported key) after
        re-checking the password (scrypt, in the background)."""
        if not password:
            raise InputError("Enter the wallet password.")
        if not self.has_phrase:
            raise InputError("This wallet has no recovery phrase (its accounts were imported as keys).")
        wallet = self.wallet
        index = self.accounts.index_of(account or self.current_account)
        row = self.accounts.row(index) if index >= 0 else None
        of = row.address if row is not None and row.path else None
        return self._start("Checking the password",
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
        row = self.account_row(address)
        wallet = self.wallet

        def work(report: Report, _cancel: Any) -> Path:
            import json

            from studio.fileio import atomic_write_bytes

            keystore = wallet.export_keystore(row.address, password, keystore_password=keystore_password or None,
                                              progress=report)
            atomic_write_bytes(target, json.dumps(keystore).encode("utf-8"), mode=0o600)
            return target

        return self._start(f"Exporting {row.name}", work)

    # -- shutdown -----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the idle timer (the window is closing)."""
        self.idle_timer.stop()
