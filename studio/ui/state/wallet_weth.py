"""The Wallet tab's WETH: the acting account's balance beside its ETH, and wrapping or unwrapping it.

Offers are made in WETH; here a person wraps ETH ahead of time or takes WETH back. Both are one
transaction prepared in the background (:mod:`studio.workflows.weth`) and shown in the one
preview, then sent through the wallet's :class:`~studio.ui.state.wallet_send.Transfers` like any
transfer (balances are read again after). Networks without WETH the studio knows show nothing
(``available`` stays false).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from studio.errors import InputError, NotFound
from studio.ui.binding import Field
from studio.ui.money import format_eth, parse_eth
from studio.ui.workers import Job

if TYPE_CHECKING:
    from studio.chain.sender import PreparedTx
    from studio.ui.state.wallet import Report, WalletState

WRAP, UNWRAP = "wrap", "unwrap"


class WethActions(QObject):
    """WETH balances of the wallet's accounts on the current network, and wrap/unwrap."""

    line_changed = Signal(str)
    available_changed = Signal(bool)
    #: What the tab shows beside the acting account: ``Account 1: 9.5 ETH · 0.5 WETH`` ("" without WETH).
    line = Field("")
    #: Whether the network has WETH (the Wrap and Unwrap buttons show).
    available = Field(False)

    def __init__(self, wallet: "WalletState") -> None:
        super().__init__(wallet)
        self.wallet = wallet
        #: address -> wei of WETH, as last read on `network_key`; None: unknown, or no WETH here.
        self.balances: dict[str, int] | None = None
        self.network_key = ""
        self._generation = 0
        wallet.current_account_changed.connect(lambda _address: self.show())
        wallet.accounts.modelReset.connect(self.show)

    def load(self) -> Job:
        """Read every account's WETH on the current network (quietly, after a refresh)."""
        self._generation += 1
        generation, session = self._generation, self.wallet.session
        network, addresses = session.network, [r.address for r in self.wallet.accounts.rows()]

        def work(_report: "Report", _cancel: Any) -> dict[str, int] | None:
            from studio.workflows.weth import weth_balance_here

            connection = session.connection()
            found = {a: weth_balance_here(network, connection, a) for a in addresses}
            return None if any(v is None for v in found.values()) else {a: v or 0 for a, v in found.items()}

        job = self.wallet.start_job("Reading WETH", work, quiet=True)
        job.to(self).succeeded.connect(lambda balances: self._loaded(generation, network.key, balances))
        job.to(self).failed.connect(lambda _exc: self._loaded(generation, network.key, None))
        return job

    def clear(self) -> None:
        """No WETH known (the node did not answer, or the network changed)."""
        self._generation += 1
        self.balances = None
        self.show()

    def _loaded(self, generation: int, network_key: str, balances: dict[str, int] | None) -> None:
        if generation != self._generation:
            return  # an older read
        self.balances, self.network_key = balances, network_key
        self.show()

    def held(self, account: str | None = None) -> int | None:
        """Wei of WETH an account (the acting one) holds, as last read; None where unknown."""
        if self.balances is None or self.network_key != self.wallet.network.key:
            return None
        return self.balances.get(account or self.wallet.current_account, 0)

    def show(self) -> None:
        weth = self.held()
        index = self.wallet.accounts.index_of(self.wallet.current_account)
        if weth is None or index < 0:
            self.line, self.available = "", False
            return
        row = self.wallet.accounts.row(index)
        self.line = (f"{row.name}: {format_eth(row.balance_wei, self.wallet.network.currency)}  ·  "
                     f"{format_eth(weth, 'WETH')}")
        self.available = True

    # -- wrapping and unwrapping ---------------------------------------------------------------

    def validate(self, kind: str, amount_text: str, account: str | None = None) -> int:
        """Checks that need no node (locked, amount, what was last read); returns the amount in wei."""
        if kind not in (WRAP, UNWRAP):
            raise InputError(f"{kind!r} is neither wrap nor unwrap.")
        self.wallet.require_unlocked(kind)
        row = self.wallet.account_row(account)
        amount = parse_eth(amount_text, self.wallet.network.currency)
        if amount <= 0:
            raise InputError(f"Enter an amount to {kind} above 0.")
        if kind == UNWRAP:
            held = self.held(row.address)
            if held is not None and amount > held:
                raise InputError(f"{format_eth(amount, 'WETH', exact=True)} is more than {row.name} holds "
                                 f"({format_eth(held, 'WETH', exact=True)}). Nothing was sent.",
                                 hint="Lower the amount (Max fills in all of it).")
        elif row.balance_wei is not None and amount >= row.balance_wei:
            currency = self.wallet.network.currency
            raise InputError(f"{format_eth(amount, currency, exact=True)} is not less than {row.name}'s balance "
                             f"({format_eth(row.balance_wei, currency, exact=True)}): some must stay for the fee. "
                             "Nothing was sent.", hint="Lower the amount (Max leaves room for the fee).")
        return amount

    def prepare(self, kind: str, amount_text: str, *, account: str | None = None, speed: str = "normal") -> Job:
        """Build the wrap or unwrap, check it against the node (balance less the gas, WETH held),
        simulate and estimate in the background; the job's result is a PreparedTx to preview."""
        amount = self.validate(kind, amount_text, account)
        address = self.wallet.account_row(account).address
        self.wallet.touch()
        session = self.wallet.session
        network = session.network

        def work(report: "Report", _cancel: Any) -> "PreparedTx":
            from studio.workflows.weth import unwrap_request, weth_venue, wrap_request

            report(0.1, "Finding WETH on the network")
            connection = session.connection()
            venue = _venue(weth_venue(network, connection), network.name)
            report(0.3, "Reading the balances")
            request = (wrap_request(connection, venue, address, amount, speed=speed, currency=network.currency)
                       if kind == WRAP else unwrap_request(connection, venue, address, amount))
            report(0.5, "Simulating the transaction")
            prepared = session.sender(address).prepare_request(request, speed=speed)
            report(1.0, "Ready to sign")
            return prepared

        return self.wallet.start_job("Preparing the wrap" if kind == WRAP else "Preparing the unwrap", work)

    def max_amount(self, kind: str, *, account: str | None = None, speed: str = "normal") -> Job:
        """The most that can be wrapped (the balance less the gas) or unwrapped (all the WETH), in wei."""
        self.wallet.require_unlocked(kind)
        address = self.wallet.account_row(account).address
        session = self.wallet.session
        network = session.network

        def work(report: "Report", _cancel: Any) -> int:
            from studio.workflows.weth import max_wrappable, weth_venue

            report(0.2, "Reading the balance and the fees")
            connection = session.connection()
            venue = _venue(weth_venue(network, connection), network.name)
            if kind == WRAP:
                return max_wrappable(connection, venue, address, speed=speed)
            from studio.chain.seaport_contract import WethContract

            return WethContract(connection, venue.weth).balance_of(address)

        return self.wallet.start_job("Working out the most", work, quiet=True)


def _venue(venue: Any, network_name: str) -> Any:
    if venue is None:
        raise NotFound(f"{network_name} has no WETH the studio knows.",
                       hint="Switch to a network with WETH (the devnet, Ethereum, Base, Sepolia …).")
    return venue
