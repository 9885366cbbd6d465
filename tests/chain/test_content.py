"""The commitment scheme: CIDs computed in Python match the contract's tokenURI byte for byte."""
from __future__ import annotations

import hashlib

import pytest

from studio.chain.content import (Commitment, cid_from_digest, directory_commitment, directory_node,
                                  file_commitment, token_uri)
from studio.errors import InputError

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _base58(data: bytes) -> str:
    number, out = int.from_bytes(data, "big"), ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def test_file_cid_matches_kubo_raw_cidv1_of_hello_world():
    assert file_commitment(b"hello world").cid == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"


def test_empty_unixfs_directory_node_has_the_well_known_cid():
    # The empty UnixFS directory every IPFS implementation knows: QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn.
    empty = bytes.fromhex("0a020801")
    assert _base58(b"\x12\x20" + hashlib.sha256(empty).digest()) == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"
    assert directory_node([]) == empty


def test_directory_links_are_sorted_by_name_and_carry_sizes():
    node = directory_node([b"a" * 5 for _ in range(11)])
    # Entry names follow dag-pb byte order: 0, 1, 10, 2, ...
    assert node.index(b"\x12\x0210") < node.index(b"\x12\x012")
    assert node.endswith(b"\x0a\x02\x08\x01")
    assert node.count(b"\x18\x05") == 11  # Tsize 5 on every link


def test_changing_one_byte_of_one_file_changes_the_batch_commitment():
    files = [f'{{"name": "work {i}"}}'.encode() for i in range(20)]
    changed = list(files)
    changed[7] = changed[7].replace(b"7", b"8")
    assert directory_commitment(files).digest != directory_commitment(changed).digest
    assert file_commitment(files[7]).digest != file_commitment(changed[7]).digest


def test_token_uri_forms():
    digest = hashlib.sha256(b"x").digest()
    assert token_uri(digest, directory=False) == "ipfs://" + cid_from_digest(digest, directory=False)
    assert token_uri(digest, directory=True, index=12).endswith("/12")
    assert cid_from_digest(digest, directory=True).startswith("bafybei")
    assert cid_from_digest(digest, directory=False).startswith("bafkrei")


def test_bad_commitments_are_input_errors():
    with pytest.raises(InputError):
        Commitment(bytes(32), directory=False)
    with pytest.raises(InputError):
        directory_commitment([])
    with pytest.raises(InputError):
        file_commitment(b"x" * (256 * 1024 + 1))
    with pytest.raises(InputError):
        cid_from_digest(b"short", directory=False)


def test_contract_computes_the_same_cids_and_uris(world):
    collection = world.collection
    for seed in range(8):
        digest = hashlib.sha256(bytes([seed])).digest()
        for directory in (False, True):
            assert collection.contract.functions.cidOf(digest, directory).call() == cid_from_digest(
                digest, directory=directory)

    single = file_commitment(b'{"name": "one"}')
    token_id = collection.mint(world.artist, world.artist.address, single).first_token_id
    assert collection.token_uri(token_id) == single.token_uri()

    files = [f'{{"name": "batch {i}"}}'.encode() for i in range(12)]
    batch = directory_commitment(files)
    minted = collection.mint_batch(world.artist, world.collectors[0].address, batch)
    for index, token in enumerate(minted.token_ids):
        assert collection.token_uri(token) == batch.token_uri(index)
        commitment, entry = collection.content_of(token)
        assert (commitment.digest, commitment.directory, entry) == (batch.digest, True, index)
    # A later single mint starts a new commitment; the batch's last token keeps its own.
    after = collection.mint(world.artist, world.artist.address, file_commitment(b"after")).first_token_id
    assert collection.token_uri(after) == file_commitment(b"after").token_uri()
    assert collection.token_uri(minted.token_ids[-1]).endswith("/11")
