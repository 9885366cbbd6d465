"""Wrapping ETH into WETH and back, from the wallet (the GUI's Wallet tab, ``studio wallet wrap|unwrap``).

Offers are made in WETH (see :mod:`studio.workflows.seaport_market`, which wraps what an offer
lacks on its own); these let a person hold WETH ahead of time, or take it back as ETH. Each face
turns the request built here into the one transaction preview (``TxSender.prepare_request``)::

    balance = weth_balance_here(network, connection, account)       # None: no WETH on this network
    request = wrap_request(connection, venue, account, 5 * 10**17)  # checked against balance and gas
    prepared = sender.prepare_request(request)                       # then preview, confirm, send
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from studio.chain.transactions import Amount, Flow
from studio.errors import InputError, NotFound
from studio.workflows.seaport_market import SeaportVenue, seaport_venue

if TYPE_CHECKING:
    from studio.chain.networks import Network
    from studio.chain.seaport_contract import WethContract
    from studio.chain.transactions import Connection, TxRequest

#: The reserve is the largest fee now plus this much (percent): fees move between Max and the preview,
#: and the preview refuses an amount that leaves less than its own largest fee.
WRAP_FEE_HEADROOM_PERCENT = 150
#: Gas a WETH deposit is given room for when the node cannot estimate it (WETH9's deposit takes ~45k).
WRAP_GAS_FALLBACK = 60_000


def weth_venue(network: "Network", connection: "Connection") -> SeaportVenue | None:
    """Seaport and WETH of `network` for wrapping (deployed on first use on the devnet); None where
    the network has neither."""
    try:
        return seaport_venue(network, connection)
    except NotFound:
        return None


def weth_balance_here(network: "Network", connection: "Connection", account: str) -> int | None:
    """Wei of WETH `account` holds on `network`; None where the network has no WETH the studio knows.
    Reading never deploys: on the devnet before WETH was first used, every account holds 0."""
    from studio.chain.seaport_contract import WethContract

    if network.embedded:
        from studio.chain.devnet import Devnet

        address = Devnet.shared().deployed_contract("WETH9")
        return WethContract(connection, address).balance_of(account) if address else 0
    venue = weth_venue(network, connection)
    return None if venue is None else WethContract(connection, venue.weth).balance_of(account)


def wrap_reserve(connection: "Connection", venue: SeaportVenue, account: str, *, speed: str = "normal") -> int:
    """Wei kept back when wrapping: the most a deposit's gas may cost at `speed`, with headroom for
    fees that rise before it is sent (so the account can still pay for the transaction that wraps)."""
    from studio.chain.fees import estimate_gas, suggest_fees
    from studio.errors import ChainError

    request = _weth(connection, venue).wrap_tx(1)
    try:
        # a deposit of 1 wei: a deposit of 0 leaves the balance slot as it is and costs less gas than a real one
        gas = estimate_gas(connection, {"from": account, "to": request.to, "data": request.data, "value": 1},
                           action="Estimating the wrap")
    except ChainError:
        gas = WRAP_GAS_FALLBACK
    return suggest_fees(connection).level(speed).max_fee_per_gas * gas * WRAP_FEE_HEADROOM_PERCENT // 100


def max_wrappable(connection: "Connection", venue: SeaportVenue, account: str, *, speed: str = "normal") -> int:
    """The most ETH `account` can wrap: its balance less the gas reserve (0 when the fee alone is more)."""
    return max(0, connection.balance(account) - wrap_reserve(connection, venue, account, speed=speed))


def wrap_request(connection: "Connection", venue: SeaportVenue, account: str, amount_wei: int, *,
                 speed: str = "normal", currency: str = "ETH") -> "TxRequest":
    """The transaction that wraps `amount_wei` of ETH, refused when it leaves too little for its gas."""
    _positive(amount_wei, "wrap")
    most = max_wrappable(connection, venue, account, speed=speed)
    if amount_wei > most:
        raise InputError(f"Wrapping {_eth(amount_wei, currency)} leaves too little for the fee: the account can "
                         f"wrap at most {_eth(most, currency)} (its balance less the gas). Nothing was sent.",
                         hint="Lower the amount (Max fills in the most), or add funds first.")
    return wrap_preview(_weth(connection, venue), account, amount_wei,
                        "offers are made in WETH; you can unwrap it back any time")


def wrap_preview(weth: "WethContract", account: str, amount_wei: int, why: str) -> "TxRequest":
    """The wrap transaction with what its preview shows (the one wording, the wallet's and an offer's)."""
    return replace(weth.wrap_tx(amount_wei),
                   details=(("Wraps", Amount(amount_wei)), ("Into", "WETH, one for one"), ("Why", why)),
                   flows=(Flow("You", account, "sends", amount_wei),
                          Flow("You", account, "receives", amount_wei, currency="WETH")))


def unwrap_request(connection: "Connection", venue: SeaportVenue, account: str, amount_wei: int) -> "TxRequest":
    """The transaction that turns `amount_wei` of WETH back into ETH, refused beyond the WETH held."""
    _positive(amount_wei, "unwrap")
    weth = _weth(connection, venue)
    held = weth.balance_of(account)
    if amount_wei > held:
        raise InputError(f"Unwrapping {_eth(amount_wei, 'WETH')} is more than the account holds "
                         f"({_eth(held, 'WETH')}). Nothing was sent.", hint="Lower the amount (Max fills in all).")
    return replace(weth.unwrap_tx(amount_wei),
                   details=(("Unwraps", Amount(amount_wei, "WETH")), ("Into", "ETH, one for one"),
                            ("Note", "offers you made in WETH stop being fillable if it runs short")),
                   flows=(Flow("You", account, "sends", amount_wei, currency="WETH"),
                          Flow("You", account, "receives", amount_wei)))


def _weth(connection: "Connection", venue: SeaportVenue) -> "WethContract":
    from studio.chain.seaport_contract import WethContract

    return WethContract(connection, venue.weth)


def _positive(amount_wei: int, verb: str) -> None:
    if amount_wei <= 0:
        raise InputError(f"Enter an amount to {verb} above 0.")


def _eth(wei: int, currency: str) -> str:
    from decimal import Decimal

    text = f"{Decimal(wei) / Decimal(10**18):.18f}".rstrip("0").rstrip(".")
    return f"{text} {currency}"
