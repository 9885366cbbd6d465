"""Money and addresses as the GUI shows and reads them: exact wei from typed ETH, ETH for people."""
from __future__ import annotations

import pytest

from studio.errors import InputError
from studio.ui.money import format_eth, parse_eth, short_address


@pytest.mark.parametrize("text, wei", [("0.5", 5 * 10**17), ("1", 10**18), (" 2.25 ", 2_250_000_000_000_000_000),
                                       ("1e-18", 1), ("0.000000000000000001", 1), ("0", 0),
                                       ("123456789.123456789123456789", 123456789123456789123456789)])
def test_amounts_in_eth_become_exact_integer_wei(text: str, wei: int) -> None:
    assert parse_eth(text) == wei


@pytest.mark.parametrize("text, problem", [("", "Enter an amount"), ("abc", "not an amount"), ("-1", "negative"),
                                           ("0.0000000000000000001", "18 decimals"), ("NaN", "not an amount"),
                                           ("1,5", "not an amount")])
def test_bad_amounts_are_refused_with_a_reason(text: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        parse_eth(text)


def test_wei_is_shown_in_eth_for_people() -> None:
    assert format_eth(10_000 * 10**18) == "10,000 ETH"
    assert format_eth(5 * 10**17) == "0.5 ETH"
    assert format_eth(0) == "0 ETH"
    assert format_eth(1) == "< 0.0001 ETH"
    assert format_eth(1, exact=True) == "0.000000000000000001 ETH"
    assert format_eth(None) == "—"
    assert format_eth(10**18, "POL") == "1 POL"
    assert short_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266") == "0xf39F…2266"
    assert short_address("0x12") == "0x12" and short_address(None) == ""
