"""Untrusted JSON: deep nesting is refused before the C parser sees it, even with web3's recursion limit."""
from __future__ import annotations

import subprocess
import sys

import pytest

from studio import safejson
from studio.errors import InputError


def test_ordinary_documents_parse():
    assert safejson.loads('{"a": [1, {"b": "x[[[{"}], "c": "\\"]]"}') == {"a": [1, {"b": "x[[[{"}], "c": '"]]'}
    assert safejson.loads(b'[1, 2]') == [1, 2]


def test_brackets_inside_strings_do_not_count():
    assert safejson.nesting_depth('["[[[[[[", {"k": "]]]]"}]') == 2


@pytest.mark.parametrize("bad, words", [
    ("[" * 100 + "]" * 100, "nested"),
    ('{"a": ', "not valid JSON"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_bad_input_is_an_input_error(bad, words):
    with pytest.raises(InputError, match=words):
        safejson.loads(bad, what="The chunk")


def test_a_hundred_thousand_brackets_do_not_crash_after_web3_raised_the_recursion_limit():
    code = ("import sys; sys.setrecursionlimit(100000)\n"
            "from studio import safejson\n"
            "from studio.errors import InputError\n"
            "try:\n    safejson.loads('[' * 100000)\nexcept InputError:\n    print('refused')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "refused" in done.stdout, done.stderr
