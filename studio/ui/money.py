"""Money and addresses as people read them: ETH typed and shown exactly (Decimal, never float),
addresses shortened. Below the UI, money is integer wei; only these helpers turn it into text.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation, localcontext

from studio.errors import InputError

WEI_PER_ETH = 10**18
#: An Ethereum address as typed: 0x and 40 hexadecimal digits.
ADDRESS_PATTERN = re.compile(r"^0x[0-9a-fA-F]{40}$")


def parse_eth(text: str, currency: str = "ETH") -> int:
    """An amount typed in ETH (``0.5``, ``1e-3``) as integer wei, exactly (Decimal, never float)."""
    cleaned = text.strip()
    if not cleaned:
        raise InputError(f"Enter an amount in {currency}, for example 0.5.")
    with localcontext() as context:
        context.prec = 120
        try:
            amount = Decimal(cleaned)
        except InvalidOperation as exc:
            raise InputError(f"“{cleaned}” is not an amount in {currency}.",
                             hint="Use digits and a dot for decimals, for example 0.25.") from exc
        if not amount.is_finite():
            raise InputError(f"“{cleaned}” is not an amount in {currency}.")
        if amount < 0:
            raise InputError("An amount cannot be negative.")
        wei = amount * WEI_PER_ETH
        if wei != wei.to_integral_value():
            raise InputError(f"{currency} amounts have at most 18 decimals.", hint="Round the amount.")
        return int(wei)


def format_eth(wei: int | None, currency: str = "ETH", *, exact: bool = False, places: int = 4) -> str:
    """Wei as ETH for people: ``10,000 ETH``, ``0.5 ETH``; `exact` keeps every digit (previews)."""
    if wei is None:
        return "—"
    with localcontext() as context:
        context.prec = 120
        amount = Decimal(int(wei)) / WEI_PER_ETH
        if not exact:
            rounded = amount.quantize(Decimal(1).scaleb(-places))
            if rounded == 0 and wei:
                return f"< {Decimal(1).scaleb(-places)} {currency}"
            amount = rounded
        text = f"{amount:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {currency}"


def short_address(address: str | None) -> str:
    """``0xf39F…2266``: enough to recognise an address; the full one is in tooltips and the copy button."""
    if not address:
        return ""
    return f"{address[:6]}…{address[-4:]}" if len(address) > 12 else address
