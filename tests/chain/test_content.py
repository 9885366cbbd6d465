"""The commitment a mint stores: checked on its own, and against the contract's own CIDs and tokenURIs."""
from __future__ import annotations

import hashlib

import pytest

from studio.chain.content import Commitment
from studio.errors import InputError
from studio.storage.cid import DAG_PB, RAW, Cid
from studio.workflows.publish import directory_commitment, file_commitment


def test_token_uri_of_a_file_and_of_each_directory_entry() -> None:
    digest = hashlib.sha256(b"x").digest()
    assert Commitment(digest, False, cid="bafkreiexample").token_uri() == "ipfs://bafkreiexample"
    batch = Commitment(digest, True, count=13, cid="bafybeiexample")
    assert batch.token_uri(12) == "ipfs://bafybeiexample/12"
    with pytest.raises(InputError, match="0 to 12"):
        batch.token_uri(13)


def test_the_cid_text_does_not_take_part_in_equality() -> None:
    digest = hashlib.sha256(b"x").digest()
    assert Commitment(digest, True, cid="bafybeiexample") == Commitment(digest, True)
    with pytest.raises(InputError, match="no CID"):
        Commitment(digest, True).token_uri()


def test_bad_commitments_are_input_errors() -> None:
    with pytest.raises(InputError):
        Commitment(bytes(32), directory=False)
    with pytest.raises(InputError):
        Commitment(b"short", directory=False)
    with pytest.raises(InputError):
        Commitment(hashlib.sha256(b"x").digest(), directory=False, count=2)
    with pytest.raises(InputError):
        Commitment(hashlib.sha256(b"x").digest(), directory=True, count=1001)


def test_contract_computes_the_same_cids_and_uris(world):
    collection = world.collection
    for seed in range(8):
        digest = hashlib.sha256(bytes([seed])).digest()
        for codec in (RAW, DAG_PB):
            assert collection.contract.functions.cidOf(digest, codec == DAG_PB).call() == str(
                Cid.from_digest(digest, codec=codec))

    single = file_commitment(b'{"name": "one"}')
    token_id = collection.mint(world.artist, world.artist.address, single).first_token_id
    assert collection.token_uri(token_id) == single.token_uri()

    files = [f'{{"name": "batch {i}"}}'.encode() for i in range(12)]
    batch = directory_commitment(files)
    minted = collection.mint_batch(world.artist, world.collectors[0].address, batch)
    for index, token in enumerate(minted.token_ids):
        assert collection.token_uri(token) == batch.token_uri(index)
        commitment, entry = collection.content_of(token)
        assert (commitment, entry) == (Commitment(batch.digest, True), index)
    # A later single mint starts a new commitment; the batch's last token keeps its own.
    after = collection.mint(world.artist, world.artist.address, file_commitment(b"after")).first_token_id
    assert collection.token_uri(after) == file_commitment(b"after").token_uri()
    assert collection.token_uri(minted.token_ids[-1]).endswith("/11")
