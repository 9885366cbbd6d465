"""Canonical JSON is RFC 8785 (JCS): checked on the RFC's own examples (Appendix B's numbers and the
sorting example of section 3.2.3, the full example of 3.2.4)."""
from __future__ import annotations

import json
import struct

import pytest

from studio.canonical import jcs, python_sorted_json
from studio.errors import InputError

#: RFC 8785 Appendix B: IEEE 754 doubles (hex) and how JCS writes them
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


def _double(hex_bits: str) -> float:
    return float(struct.unpack(">d", bytes.fromhex(hex_bits))[0])


@pytest.mark.parametrize("bits, expected", APPENDIX_B)
def test_numbers_are_written_as_rfc8785_appendix_b_says(bits: str, expected: str) -> None:
    assert jcs(_double(bits)) == expected.encode()


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_nan_and_infinity_have_no_canonical_form(bits: str) -> None:
    with pytest.raises(InputError, match="RFC 8785"):
        jcs(_double(bits))


def test_keys_sort_by_utf16_code_units_as_in_section_3_2_3() -> None:
    value = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
             "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control",
             "\u00f6": "Latin Small Letter O With Diaeresis"}
    order = [key for key in json.loads(jcs(value))]
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    # Python's own sort (code points) puts the emoji last: the reason version 1 is not JCS
    assert list(json.loads(python_sorted_json(value)))[-1] == "\U0001f600"


def test_the_full_example_of_section_3_2_4() -> None:
    text = ('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], '
            '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}')
    expected = ('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
                '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}')
    assert jcs(json.loads(text)) == expected.encode("utf-8")


def test_whole_floats_lose_their_point_and_large_integers_are_refused() -> None:
    assert jcs({"guidance": 7.0, "weight": -0.0, "big": 1e21, "small": 1e-7}) == \
        b'{"big":1e+21,"guidance":7,"small":1e-7,"weight":0}'
    assert jcs(2**53 - 1) == b"9007199254740991"
    with pytest.raises(InputError, match="9007199254740991"):
        jcs(2**53)
    with pytest.raises(InputError):
        jcs("\ud800")  # a lone surrogate is not Unicode text
