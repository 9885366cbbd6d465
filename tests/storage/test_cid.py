"""CID text forms and multibase."""
from __future__ import annotations

import hashlib

import pytest

from studio.errors import InputError
from studio.storage.cid import (DAG_PB, RAW, Cid, base58btc_decode, base58btc_encode, cid_v1_raw_from_digest,
                                cid_v1_raw_of, multibase_decode, multibase_encode)

HELLO_V0 = "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"
HELLO_V1_RAW = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"


def test_raw_cid_of_hello_world_is_the_published_one() -> None:
    assert cid_v1_raw_of(b"hello world") == HELLO_V1_RAW
    assert cid_v1_raw_from_digest(hashlib.sha256(b"hello world").digest()) == HELLO_V1_RAW


def test_parse_round_trips_v0_and_v1() -> None:
    for text in (HELLO_V0, HELLO_V1_RAW, "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354"):
        assert str(Cid.parse(text)) == text
    v0 = Cid.parse(HELLO_V0)
    assert (v0.version, v0.codec) == (0, DAG_PB)
    assert str(v0.to_v1()).startswith("bafybei")
    raw = Cid.parse(HELLO_V1_RAW)
    assert raw.codec == RAW and raw.digest == hashlib.sha256(b"hello world").digest()
    assert raw.verify(b"hello world") and not raw.verify(b"hello world!")


def test_cidv1_text_of_a_digest_names_raw_files_bafkrei_and_dag_pb_nodes_bafybei() -> None:
    digest = hashlib.sha256(b"{}").digest()
    assert cid_v1_raw_from_digest(digest).startswith("bafkrei")
    assert str(Cid.from_digest(digest, codec=DAG_PB)).startswith("bafybei")
    assert Cid.parse(cid_v1_raw_from_digest(digest)).digest == digest


@pytest.mark.parametrize("data", [b"", b"\0", b"\0\0abc", bytes(range(256)), b"\xff" * 40])
def test_base58_and_multibase_round_trip(data: bytes) -> None:
    assert base58btc_decode(base58btc_encode(data)) == data
    for base in ("base32", "base58btc"):
        assert multibase_decode(multibase_encode(data, base)) == data


@pytest.mark.parametrize("text", ["", "hello", "Qm" + "0" * 44, "bafy!!", "f01551220abcd", "bafkqaaa"])
def test_garbage_is_not_a_cid(text: str) -> None:
    with pytest.raises(InputError):
        Cid.parse(text)


def test_wrong_digest_length_is_refused() -> None:
    with pytest.raises(InputError, match="32 bytes"):
        cid_v1_raw_from_digest(b"\1" * 31)
