"""The Wallet tab's view-model: lock state, accounts with balances, network status; it owns the tab's
activity (:mod:`~studio.ui.state.wallet_activity`), transfers (:mod:`~studio.ui.state.wallet_send`), keys
(:mod:`~studio.ui.state.wallet_keys`) and WETH (:mod:`~studio.ui.state.wallet_weth`).

No widgets here. Everything that runs scrypt or talks to a node goes through the background pool
as a :class:`~studio.ui.workers.FunctionJob`; what can be checked without a node or a password
(locked wallet, bad address, bad amount, weak new password) is checked first and raised as a
:class:`~studio.errors.StudioError`, so a worker is never queued for a request that cannot succeed.
Dialogs call the methods that return a job and connect to its ``succeeded``/``failed`` signals.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from studio.errors import InputError, StudioError, WalletLocked
from studio.ui.binding import Field
from studio.ui.money import short_address
from studio.ui.state.wallet_activity import WalletActivity
from studio.ui.state.wallet_keys import WalletKeys
from studio.ui.state.wallet_models import AccountRow, AccountsModel
from studio.ui.state.wallet_send import Transfers
from studio.ui.workers import BackgroundPool, FunctionJob, Job, JobState, error_message

if TYPE_CHECKING:
    from studio.chain.history import HistoryEntry
    from studio.chain.networks import Network
    from studio.chain.session import AccountBalance, NetworkStatus, WalletSession
    from studio.library.db import Library

log = logging.getLogger(__name__)

#: How often the idle lock is checked (the lock itself comes after the idle minutes from settings).
IDLE_CHECK_MS = 5_000
#: How long a passing notice ("Copied 0x…") stays.
FLASH_MS = 4_000


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
    #: A refresh (status, balances, history) ended and the models hold its results.
    refreshed = Signal()
    #: The idle timer locked the wallet.
    idle_locked = Signal()
    #: The network list changed (settings: RPC URLs, custom networks).
    networks_changed = Signal()

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

    def __init__(self, session: "WalletSession", background: BackgroundPool, parent: QObject | None = None, *,
                 idle_check_ms: int = IDLE_CHECK_MS) -> None:
        super().__init__(parent)
        self.session = session
        self.background = background
        self.accounts = AccountsModel(self)
        #: Whose transactions and NFTs the tab shows, and those read.
        self.activity = WalletActivity(self)
        #: Sending, the address book, devnet funds and message signatures.
        self.transfers = Transfers(self)
        #: Creating and importing the wallet, new accounts, secrets on request.
        self.keys = WalletKeys(self)
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
        self.activity.history.names = self.activity.nfts.names = {a.address.lower(): a.name for a in accounts}
        self.has_wallet = bool(accounts)
        self.has_phrase = has_phrase
        self.unlocked = self.wallet.is_unlocked
        if not any(a.address == self.current_account for a in accounts):
            self.current_account = accounts[0].address if accounts else ""
        self.activity.forget_account([a.address for a in accounts])
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

    def start_job(self, title: str, work: Callable[[Report, Any], Any], *, quiet: bool = False) -> Job:
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

    def show_failure(self, exc: BaseException) -> None:
        """A job's failure, in the tab's error banner."""
        self.error = error_message(exc)

    def dismiss_error(self) -> None:
        self.error = ""

    def flash_notice(self, text: str) -> None:
        """A notice that clears itself after a few seconds, unless another replaced it meanwhile."""
        self.notice = text
        QTimer.singleShot(FLASH_MS, self, lambda: setattr(self, "notice", "") if self.notice == text else None)

    def ensure_library(self) -> "Library":
        """The window's library, or this home's when the view-model was made without one."""
        if self.library is None:
            from studio.library.db import Library

            self.library = Library.default()
        return self.library

    def touch(self) -> None:
        """Something was done with the unlocked wallet: the idle lock counts from now."""
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
        self.accounts.currency = self.activity.history.currency = self.activity.nfts.currency = currency

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

        job = self.start_job(f"Checking {self.network.name}", work)
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
        self.activity.set_entries(entries)
        if status.usable:
            self.weth.load()
        else:
            self.weth.clear()
        self.progress_fraction = 1.0
        self.progress_text = "Up to date." if status.usable else ""
        self.refreshed.emit()

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

        job = self.start_job("Unlocking the wallet", work)
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

    def require_unlocked(self, what: str) -> None:
        """Refuse `what` (``"send"``, ``"sign"`` …) while the wallet is locked."""
        if not self.wallet.is_unlocked:
            self.unlocked = False
            self._update_chain_status()
            raise WalletLocked("The wallet is locked.", hint=f"Unlock it to {what}.")

    # -- shutdown -----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the idle timer (the window is closing)."""
        self.idle_timer.stop()
