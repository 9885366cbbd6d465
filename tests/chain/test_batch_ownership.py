"""Ownership and content lookups of batch-minted tokens (ERC721BatchHeads' head bitmap) on anvil.

Batches are placed across 256-id bitmap words on purpose: a token whose batch head sits in an
earlier word is found through that word's carried head, and a later batch in the same word must
not be confused with an earlier one.
"""
from __future__ import annotations

import pytest

from studio.chain.erc721 import ERC721Reader, failed
from studio.chain.errors_decode import ContractRevert
from studio.chain.transactions import LocalSigner
from studio.workflows.publish import directory_commitment, file_commitment


def _expect(error_name: str, call, *args) -> None:
    with pytest.raises(ContractRevert) as caught:
        call(*args)
    assert caught.value.error_name == error_name, str(caught.value)


def _fill_to(world, next_id: int) -> None:
    """Mint single tokens to the artist until the next mint starts at `next_id`."""
    collection = world.collection
    start = collection.total_supply() + 1
    if next_id - start >= 2:  # one filler batch, then a single token so the next id is exact
        collection.mint_batch(world.artist, world.artist.address,
                              directory_commitment([b"filler %d" % i for i in range(next_id - start - 1)]))
        start = next_id - 1
    while start < next_id:
        world.mint(content=b"filler single %d" % start)
        start += 1


def _content(world, token: int) -> tuple[bytes, bool, int]:
    commitment, index = world.collection.content_of(token)
    return commitment.digest, commitment.directory, index


def _batch(world, count: int, to: str, tag: bytes = b"work"):
    files = [b'{"name": "%s %d"}' % (tag, i) for i in range(count)]
    commitment = directory_commitment(files)
    minted = world.collection.mint_batch(world.artist, to, commitment)
    return minted, commitment


def test_tokens_of_a_batch_across_bitmap_words_have_their_owner_content_and_uri(world):
    collection, collector = world.collection, world.collectors[0]
    _fill_to(world, 250)
    minted, commitment = _batch(world, 300, collector.address)  # ids 250..549: words 0, 1 and 2
    assert minted.token_ids == range(250, 550)
    after = world.mint(content=b"after")  # a single token right after the batch
    second, second_commitment = _batch(world, 5, world.collectors[1].address, b"second")  # same word 2
    for token in (250, 251, 255, 256, 300, 511, 512, 513, 549):
        assert collection.owner_of(token) == collector.address
        assert _content(world, token) == (commitment.digest, True, token - 250)
        assert collection.token_uri(token) == f"ipfs://{commitment.cid}/{token - 250}"
    assert collection.owner_of(after) == world.artist.address
    assert _content(world, after) == (file_commitment(b"after").digest, False, 0)
    for token in second.token_ids:  # its head is the nearest set bit, not the first batch's carried head
        assert collection.owner_of(token) == world.collectors[1].address
        assert _content(world, token) == (second_commitment.digest, True, token - second.first_token_id)
    assert collection.balance_of(collector.address) == 300 and collection.total_supply() == second.token_ids[-1]


def test_transferring_a_batch_token_changes_only_that_token(world):
    collection, artist = world.collection, world.artist
    buyer, other = world.collectors[0], world.collectors[1]
    _fill_to(world, 200)
    minted, _ = _batch(world, 120, artist.address)  # ids 200..319, crossing into word 1
    head, last = minted.token_ids[0], minted.token_ids[-1]
    for token in (head, 257, last, 258):
        collection.transfer(artist, buyer.address, token)
    owners = {token: collection.owner_of(token) for token in (head, head + 1, 255, 256, 257, 258, 259, last - 1, last)}
    assert owners == {head: buyer.address, head + 1: artist.address, 255: artist.address, 256: artist.address,
                      257: buyer.address, 258: buyer.address, 259: artist.address, last - 1: artist.address,
                      last: buyer.address}
    collection.transfer(buyer, other.address, 257)  # a token that already has its own entry
    collection.transfer(buyer, artist.address, head)  # and back to the batch's original owner
    assert [collection.owner_of(t) for t in (head, 256, 257, 258)] == [artist.address, artist.address,
                                                                      other.address, buyer.address]
    assert collection.balance_of(buyer.address) == 2 and collection.balance_of(other.address) == 1
    assert collection.balance_of(artist.address) == 200 - 1 + 120 - 3
    _expect("TransferFromIncorrectOwner", collection.transfer, artist, buyer.address, 257)


def test_an_approval_on_a_batch_token_moves_it_once_and_is_cleared(world):
    collection, artist = world.collection, world.artist
    spender, receiver = world.collectors[0], world.collectors[1]
    minted, _ = _batch(world, 10, artist.address)
    token = minted.token_ids[6]
    _expect("ApprovalCallerNotOwnerNorApproved", collection.approve, spender, spender.address, token)
    collection.approve(artist, spender.address, token)
    assert collection.contract.functions.getApproved(token).call() == spender.address
    fn = collection.contract.functions
    _expect("TransferCallerNotOwnerNorApproved", world.connection.send, LocalSigner(spender),
            fn.transferFrom(artist.address, receiver.address, token + 1))
    world.connection.send(LocalSigner(spender), fn.transferFrom(artist.address, receiver.address, token))
    assert collection.owner_of(token) == receiver.address
    assert int(fn.getApproved(token).call(), 16) == 0
    assert collection.owner_of(token + 1) == artist.address


def test_safe_transfer_of_a_batch_token_checks_the_receiving_contract(world):
    collection, artist = world.collection, world.artist
    minted, _ = _batch(world, 4, artist.address)
    probe = world.deploy_probe(artist)  # implements onERC721Received
    fn = collection.contract.functions
    safe = fn.safeTransferFrom(artist.address, probe.address, minted.token_ids[2])
    world.connection.send(LocalSigner(artist), safe)
    assert collection.owner_of(minted.token_ids[2]) == probe.address
    _expect("TransferToNonERC721ReceiverImplementer", world.connection.send, LocalSigner(artist),
            fn.safeTransferFrom(artist.address, world.market.address, minted.token_ids[3]))
    _expect("TransferToZeroAddress", world.connection.send, LocalSigner(artist),
            fn.transferFrom(artist.address, "0x" + "00" * 20, minted.token_ids[3]))


@pytest.mark.parametrize("token", [0, 15, 16, 255, 256, 300, 2**255 + 7])
def test_tokens_that_were_never_minted_do_not_exist(world, token):
    collection = world.collection
    _batch(world, 10, world.artist.address)  # ids 1..10
    world.mint()  # 11
    _batch(world, 3, world.artist.address, b"last")  # 12..14: 15 is past the end of the last batch
    _expect("OwnerQueryForNonexistentToken", collection.owner_of, token)
    _expect("URIQueryForNonexistentToken", collection.token_uri, token)
    _expect("URIQueryForNonexistentToken", collection.content_of, token)
    _expect("ApprovalQueryForNonexistentToken", world.connection.call, collection.contract.functions.getApproved(token))
    _expect("OwnerQueryForNonexistentToken", collection.transfer, world.artist, world.collectors[0].address, token)


def test_an_empty_collection_has_no_token_one(world):
    _expect("OwnerQueryForNonexistentToken", world.collection.owner_of, 1)
    _expect("URIQueryForNonexistentToken", world.collection.token_uri, 1)


def test_the_last_token_of_a_batch_of_1000_reads_within_the_readers_call_gas(world):
    """ERC721Reader gives each view 2M gas; the old backward scan needed 4.5M for this tokenURI."""
    minted, commitment = _batch(world, 1000, world.artist.address)
    reader = ERC721Reader(world.connection, world.collection.address)
    last = minted.token_ids[-1]
    uri, owner = reader.token_uri(last), reader.owner_of(last)
    assert not failed(uri) and not failed(owner)
    assert (uri, owner) == (f"ipfs://{commitment.cid}/999", world.artist.address)
    fn = world.collection.contract.functions
    assert fn.tokenURI(last).estimate_gas() < 100_000 and fn.ownerOf(last).estimate_gas() < 50_000


def test_a_redeemed_voucher_token_after_a_batch_is_its_own_mint(world):
    from studio.chain.vouchers import MintVoucher, sign_voucher

    minted, commitment = _batch(world, 3, world.artist.address)
    buyer = world.collectors[0]
    content = file_commitment(b"lazy")
    signed = sign_voucher(LocalSigner(world.artist), MintVoucher(content.digest, 0, nonce=1, expiry=2**40),
                          world.collection.address, world.connection.chain_id)
    token = world.collection.redeem(buyer, signed).first_token_id
    assert token == minted.token_ids[-1] + 1
    assert world.collection.owner_of(token) == buyer.address
    assert _content(world, token) == (content.digest, False, 0)
    assert _content(world, token - 1) == (commitment.digest, True, 2)

