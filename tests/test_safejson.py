"""Untrusted JSON: size, depth and value counts are checked in linear time before the C parser sees
the text, even with web3's recursion limit; files are read bounded (never a FIFO or a device)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio import safejson
from studio.errors import InputError, NotFound
from studio.fileio import read_bounded, read_text_bounded


def test_ordinary_documents_parse():
    assert safejson.loads('{"a": [1, {"b": "x[[[{"}], "c": "\\"]]"}') == {"a": [1, {"b": "x[[[{"}], "c": '"]]'}
    assert safejson.loads(b'[1, 2]') == [1, 2]
    assert safejson.loads('"\\\\"') == "\\"


def test_brackets_inside_strings_do_not_count():
    assert safejson.nesting_depth('["[[[[[[", {"k": "]]]]"}]') == 2
    assert safejson.nesting_depth('["\\"[[[[[[\\"", "\\\\"]') == 1


@pytest.mark.parametrize("bad, words", [
    ("[" * 100 + "]" * 100, "nested"),
    ('{"a": ', "not valid JSON"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_bad_input_is_an_input_error(bad, words):
    with pytest.raises(InputError, match=words):
        safejson.loads(bad, what="The chunk")


def test_a_megabyte_of_escaped_quotes_is_refused_at_once():
    # an unterminated string of \" pairs: the old pre-check rescanned from every quote (O(n²):
    # 32 KB took seconds, 128 KB a minute, 1 MB hours); the scan is now linear
    hostile = '["' + '\\"' * (512 * 1024)
    with pytest.raises(InputError, match="not valid JSON"):
        safejson.loads(hostile, what="The metadata")
    closed = '["' + '\\"' * (512 * 1024) + '"]'
    assert safejson.loads(closed) == ['"' * (512 * 1024)]


def test_escaped_quotes_hide_no_brackets_from_the_depth_check():
    hostile = '"\\"' + "[" * 1000
    with pytest.raises(InputError):
        safejson.loads(hostile)
    assert safejson.nesting_depth('"\\\\"' + "[" * 70) == 70  # an escaped backslash closes the string


def test_documents_over_the_size_cap_are_refused_before_parsing():
    with pytest.raises(InputError, match="over the limit of 1,000"):
        safejson.loads(b" " * 1001 + b"1", max_bytes=1000, what="The RPC answer")
    with pytest.raises(InputError, match="over the limit"):
        safejson.loads("[" + "1," * 600 + "1]", max_bytes=1000)


def test_a_million_empty_objects_are_refused_for_their_memory():
    hostile = "[" + ",".join(["{}"] * 1_100_000) + "]"
    with pytest.raises(InputError, match="more than 1,000,000 values"):
        safejson.loads(hostile, max_bytes=len(hostile))
    assert len(safejson.loads("[" + ",".join(["{}"] * 1000) + "]")) == 1000


def test_a_hundred_thousand_brackets_do_not_crash_after_web3_raised_the_recursion_limit():
    code = ("import sys; sys.setrecursionlimit(100000)\n"
            "from studio import safejson\n"
            "from studio.errors import InputError\n"
            "try:\n    safejson.loads('[' * 100000)\nexcept InputError:\n    print('refused')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "refused" in done.stdout, done.stderr


def test_a_file_is_read_with_its_size_checked_first(tmp_path: Path):
    small, large = tmp_path / "small.json", tmp_path / "large.json"
    small.write_text('{"a": 1}')
    large.write_bytes(b" " * 5000)
    assert safejson.load_file(small) == {"a": 1}
    with pytest.raises(InputError, match="5,000 bytes, over the limit of 4,096"):
        safejson.load_file(large, max_bytes=4096, what="The manifest")
    with pytest.raises(NotFound):
        safejson.load_file(tmp_path / "missing.json")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path):
    fifo = tmp_path / "manifest.json"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file \\(a named pipe\\)"):
        read_bounded(fifo, 1024, what="The manifest")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_is_refused_or_read_only_up_to_the_cap():
    with pytest.raises(InputError, match="character device"):
        safejson.load_file("/dev/zero", what="The keystore file")
    with pytest.raises(InputError, match="more than the limit of 100 bytes"):
        read_bounded("/dev/zero", 100, what="The password file", regular_only=False)


def test_a_folder_and_non_utf8_text_are_clear_errors(tmp_path: Path):
    with pytest.raises(InputError, match="is a folder"):
        read_bounded(tmp_path, 100)
    (tmp_path / "latin.txt").write_bytes(b"caf\xe9")
    with pytest.raises(InputError, match="not UTF-8"):
        read_text_bounded(tmp_path / "latin.txt", 100)
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbfhi")
    assert read_text_bounded(tmp_path / "bom.txt", 100) == "hi"
