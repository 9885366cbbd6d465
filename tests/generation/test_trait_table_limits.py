"""Trait tables from strangers (YAML or JSON) are read bounded: no alias bombs, no deep nesting, no
FIFO or device, no huge file, and every malformed value is an InputError, never a traceback."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from studio.errors import InputError
from studio.generation.traits import MAX_TABLE_BYTES, load_trait_table, load_yaml, parse_trait_table

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


def test_a_billion_laughs_table_is_refused_at_its_first_anchor():
    with pytest.raises(InputError, match="anchor"):
        parse_trait_table(LAUGHS, ".yaml", what="drop.yaml")


@pytest.mark.parametrize("text, words", [
    ("[" * 5000 + "]" * 5000, "nested more than"),
    ("- " * 100 + "x", "nested more than"),
    ("traits: 1" + "0" * 5000, "cannot build"),
    ("when: 2001-13-45", "cannot build"),
    ("a: !!python/object/apply:os.system [echo hi]", "not valid YAML"),
    ("{a: b, ", "not valid YAML"),
])
def test_hostile_yaml_is_an_input_error(text, words):
    with pytest.raises(InputError, match=words):
        parse_trait_table(text, ".yaml", what="drop.yaml")


def test_too_many_values_are_refused():
    with pytest.raises(InputError, match="more than 1,000 values"):
        load_yaml("[" + ", ".join(["x"] * 2000) + "]", max_nodes=1000)


def test_deep_json_tables_are_refused():
    with pytest.raises(InputError, match="nested"):
        parse_trait_table("[" * 100_000, ".json", what="drop.json")


def test_a_fifo_or_a_huge_file_is_refused_without_reading(tmp_path: Path):
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as out:
        out.truncate(MAX_TABLE_BYTES + 1)
    with pytest.raises(InputError, match="over the limit"):
        load_trait_table(huge)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.yaml"
        os.mkfifo(fifo)
        with pytest.raises(InputError, match="not a regular file"):
            load_trait_table(fifo)
