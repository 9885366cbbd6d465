"""StudioCollection on a real anvil node: minting, royalties, ownership, lazy-mint vouchers."""
from __future__ import annotations

import pytest

from studio.workflows.publish import directory_commitment, file_commitment
from studio.chain.contracts import CollectionContract
from studio.chain.errors_decode import ContractRevert
from studio.chain.transactions import LocalSigner
from studio.chain.vouchers import MintVoucher, SignedVoucher, sign_voucher, voucher_signer
from studio.errors import ChainError, InputError

ETH = 10**18
ZERO = "0x" + "00" * 20


def _expect(error_name: str, call, *args, **kwargs) -> ContractRevert:
    with pytest.raises(ContractRevert) as caught:
        call(*args, **kwargs)
    assert caught.value.error_name == error_name, str(caught.value)
    return caught.value


def test_deployer_owns_the_collection_with_its_default_royalty(world):
    collection = world.collection
    assert collection.owner() == world.artist.address
    royalty = collection.royalty_info(1, 10**18)
    assert royalty.receiver == world.royalty_receiver.address and royalty.amount_wei == 5 * 10**16


@pytest.mark.parametrize("interface_id, supported", [
    ("01ffc9a7", True),   # ERC-165
    ("80ac58cd", True),   # ERC-721
    ("5b5e139f", True),   # ERC-721 metadata
    ("2a55205a", True),   # ERC-2981
    ("49064906", True),   # ERC-4906
    ("ffffffff", False),
])
def test_supported_interfaces(world, interface_id, supported):
    assert world.collection.supports_interface(bytes.fromhex(interface_id)) is supported


def test_mint_and_batch_mint_assign_ids_owners_and_events(world):
    collection, artist = world.collection, world.artist
    collector = world.collectors[0]
    single = collection.mint(artist, collector.address, file_commitment(b"one"))
    assert single.token_ids == range(1, 2)
    batch = collection.mint_batch(artist, artist.address, directory_commitment([b"a", b"b", b"c"]))
    assert batch.token_ids == range(2, 5)
    assert collection.owner_of(1) == collector.address
    assert [collection.owner_of(t) for t in batch.token_ids] == [artist.address] * 3
    assert collection.total_supply() == 4 and collection.balance_of(artist.address) == 3
    from web3.logs import DISCARD

    raw = world.connection.web3.eth.get_transaction_receipt(batch.receipt.tx_hash)
    update = collection.contract.events.BatchMetadataUpdate().process_receipt(raw, errors=DISCARD)[0]["args"]
    assert (update["_fromTokenId"], update["_toTokenId"]) == (2, 4)
    assert len(collection.contract.events.Transfer().process_receipt(raw, errors=DISCARD)) == 3


def test_only_the_owner_mints_and_sets_royalties(world):
    collection, stranger = world.collection, world.collectors[0]
    token = world.mint()
    _expect("OwnableUnauthorizedAccount", collection.mint, stranger, stranger.address, file_commitment(b"x"))
    _expect("OwnableUnauthorizedAccount", collection.mint_batch, stranger, stranger.address,
            directory_commitment([b"x"]))
    _expect("OwnableUnauthorizedAccount", collection.set_default_royalty, stranger, stranger.address, 100)
    _expect("OwnableUnauthorizedAccount", collection.set_token_royalty, stranger, token, stranger.address, 100)
    _expect("OwnableUnauthorizedAccount", collection.reset_token_royalty, stranger, token)
    _expect("OwnableUnauthorizedAccount", collection.transfer_ownership, stranger, stranger.address)
    _expect("OwnableUnauthorizedAccount", collection.cancel_voucher, stranger, 1)


def test_mint_reverts_on_bad_input(world):
    collection, artist = world.collection, world.artist
    fn = collection.contract.functions
    _expect("InvalidContentDigest", world.connection.send, LocalSigner(artist), fn.mint(artist.address, bytes(32)))
    _expect("InvalidContentDigest", world.connection.send, LocalSigner(artist),
            fn.mintBatch(artist.address, bytes(32), 2))
    _expect("InvalidBatchSize", world.connection.send, LocalSigner(artist),
            fn.mintBatch(artist.address, b"\x01" * 32, 0))
    _expect("InvalidBatchSize", world.connection.send, LocalSigner(artist),
            fn.mintBatch(artist.address, b"\x01" * 32, 1001))
    _expect("MintToZeroAddress", world.connection.send, LocalSigner(artist),
            fn.mint("0x" + "00" * 20, b"\x01" * 32))
    with pytest.raises(InputError):
        collection.mint(artist, artist.address, directory_commitment([b"x"]))
    with pytest.raises(InputError):
        collection.mint_batch(artist, artist.address, file_commitment(b"x"))


def test_views_of_a_missing_token_say_it_does_not_exist(world):
    with pytest.raises(ChainError, match="does not exist"):
        world.collection.token_uri(99)
    with pytest.raises(ChainError, match="does not exist"):
        world.collection.owner_of(99)
    _expect("OwnerQueryForNonexistentToken", world.collection.set_token_royalty, world.artist, 99,
            world.artist.address, 100)


def test_royalty_default_override_reset_and_cap(world):
    collection, artist = world.collection, world.artist
    token, other = world.mint(), world.mint()
    price = 123_456_789_012_345_679
    assert collection.royalty_info(token, price).amount_wei == price * 500 // 10_000
    collection.set_token_royalty(artist, token, world.collectors[3].address, 1000)
    info = collection.royalty_info(token, price)
    assert (info.receiver, info.amount_wei) == (world.collectors[3].address, price * 1000 // 10_000)
    assert collection.royalty_info(other, price).amount_wei == price * 500 // 10_000
    collection.reset_token_royalty(artist, token)
    assert collection.royalty_info(token, price).receiver == world.royalty_receiver.address
    collection.set_default_royalty(artist, world.collectors[2].address, 250)
    assert collection.royalty_info(other, price) .amount_wei == price * 250 // 10_000
    fn = collection.contract.functions
    error = _expect("RoyaltyTooHigh", world.connection.send, LocalSigner(artist),
                    fn.setDefaultRoyalty(artist.address, 1001))
    assert "10%" in str(error)
    _expect("RoyaltyTooHigh", world.connection.send, LocalSigner(artist), fn.setTokenRoyalty(token, artist.address, 1001))
    _expect("ERC2981InvalidDefaultRoyaltyReceiver", world.connection.send, LocalSigner(artist),
            fn.setDefaultRoyalty("0x" + "00" * 20, 100))
    with pytest.raises(InputError):
        collection.set_default_royalty(artist, artist.address, 1001)


def test_deploy_rejects_royalty_over_cap(world):
    with pytest.raises(InputError):
        CollectionContract.deploy(world.connection, world.artist, name="X", symbol="X",
                                  royalty_receiver=world.artist.address, royalty_bps=1001)


def test_ownership_transfer_moves_minting_rights(world):
    collection, artist, heir = world.collection, world.artist, world.collectors[0]
    collection.transfer_ownership(artist, heir.address)
    assert collection.owner() == heir.address
    collection.mint(heir, heir.address, file_commitment(b"heir"))
    _expect("OwnableUnauthorizedAccount", collection.mint, artist, artist.address, file_commitment(b"x"))
    _expect("OwnableInvalidOwner", world.connection.send, LocalSigner(heir),
            collection.contract.functions.transferOwnership("0x" + "00" * 20))


# ---------------------------------------------------------------- vouchers

def _voucher(world, *, nonce=1, price=ETH // 10, expiry=None, content=b'{"name": "lazy"}', **extra) -> MintVoucher:
    expiry = expiry if expiry is not None else world.node.latest_timestamp() + 3600
    return MintVoucher(file_commitment(content).digest, price, nonce=nonce, expiry=expiry, **extra)


def _signed(world, voucher, *, signer=None, collection=None, chain_id=None) -> SignedVoucher:
    return sign_voucher(LocalSigner(signer or world.artist), voucher, collection or world.collection.address,
                        chain_id or world.connection.chain_id)


def test_redeem_mints_to_redeemer_and_pays_the_artist(world):
    collection, collector = world.collection, world.collectors[0]
    signed = _signed(world, _voucher(world))
    assert voucher_signer(signed) == world.artist.address
    artist_before, collector_before = world.balance(world.artist.address), world.balance(collector.address)
    minted = collection.redeem(collector, signed)
    assert collection.owner_of(minted.first_token_id) == collector.address
    assert world.balance(world.artist.address) - artist_before == ETH // 10
    assert collector_before - world.balance(collector.address) == ETH // 10 + minted.receipt.fee_wei
    assert collection.token_uri(minted.first_token_id) == file_commitment(b'{"name": "lazy"}').token_uri()
    assert collection.is_nonce_used(1) and not collection.is_nonce_used(2)
    # Default royalty: nothing stored, the token follows the collection.
    assert collection.royalty_info(minted.first_token_id, 10_000).receiver == world.royalty_receiver.address


def test_voucher_royalty_becomes_the_tokens_royalty(world):
    voucher = _voucher(world, royalty_receiver=world.collectors[3].address, royalty_bps=750)
    minted = world.collection.redeem(world.collectors[0], _signed(world, voucher))
    info = world.collection.royalty_info(minted.first_token_id, 1_000_000)
    assert (info.receiver, info.amount_wei) == (world.collectors[3].address, 75_000)


def test_free_voucher_needs_no_payment(world):
    minted = world.collection.redeem(world.collectors[0], _signed(world, _voucher(world, price=0)))
    assert world.collection.owner_of(minted.first_token_id) == world.collectors[0].address


def test_voucher_cannot_be_redeemed_twice(world):
    signed = _signed(world, _voucher(world))
    world.collection.redeem(world.collectors[0], signed)
    error = _expect("VoucherAlreadyUsed", world.collection.redeem, world.collectors[1], signed)
    assert str(error) == "This voucher was already redeemed (or the artist cancelled it)."
    # Same nonce, different content: still the same voucher slot.
    _expect("VoucherAlreadyUsed", world.collection.redeem, world.collectors[1],
            _signed(world, _voucher(world, content=b"other")))


def test_cancelled_voucher_cannot_be_redeemed(world):
    signed = _signed(world, _voucher(world, nonce=300))
    world.collection.cancel_voucher(world.artist, 300)
    _expect("VoucherAlreadyUsed", world.collection.redeem, world.collectors[0], signed)
    _expect("VoucherAlreadyUsed", world.collection.cancel_voucher, world.artist, 300)


def test_a_voucher_for_one_collector_is_refused_to_anyone_else(world):
    chosen, other = world.collectors[0], world.collectors[1]
    signed = _signed(world, _voucher(world, nonce=11, redeemer=chosen.address))
    error = _expect("NotVoucherRedeemer", world.collection.redeem, other, signed)
    assert chosen.address.lower() in str(error).lower()
    minted = world.collection.redeem(chosen, signed)
    assert world.collection.owner_of(minted.first_token_id) == chosen.address


def test_cancel_all_vouchers_voids_every_voucher_signed_before_in_one_transaction(world):
    collection = world.collection
    old = [_signed(world, _voucher(world, nonce=n)) for n in (20, 21, 600)]
    _expect("OwnableUnauthorizedAccount", collection.cancel_all_vouchers, world.collectors[0])
    assert collection.voucher_epoch() == 0
    collection.cancel_all_vouchers(world.artist)
    assert collection.voucher_epoch() == 1
    for signed in old:
        _expect("VoucherEpochEnded", collection.redeem, world.collectors[0], signed)
    assert not collection.is_nonce_used(20)  # the nonces stay free: a voucher of the new epoch may reuse one
    minted = collection.redeem(world.collectors[0], _signed(world, _voucher(world, nonce=20, epoch=1)))
    assert collection.owner_of(minted.first_token_id) == world.collectors[0].address


def test_a_collection_without_voucher_epochs_still_redeems_the_first_form(world):
    """Collections deployed before the epoch existed take six-field vouchers; the studio signs them."""
    from studio.chain.vouchers import VOUCHER_FIELDS_V1, voucher_typed_data

    collection = world.collection
    assert collection.voucher_version() == 2
    typed = voucher_typed_data(_voucher(world), collection.address, world.connection.chain_id, version=1)
    assert typed["types"]["MintVoucher"] == VOUCHER_FIELDS_V1 and "epoch" not in typed["message"]
    with pytest.raises(InputError, match="redeemer or an epoch"):
        voucher_typed_data(_voucher(world, epoch=1), collection.address, world.connection.chain_id, version=1)
    first_form = sign_voucher(LocalSigner(world.artist), _voucher(world, nonce=30), collection.address,
                              world.connection.chain_id, version=1)
    assert voucher_signer(first_form) == world.artist.address
    with pytest.raises(InputError, match="form"):
        collection.redeem(world.collectors[0], first_form)


def test_expired_voucher_is_refused_but_valid_at_its_last_second(world):
    now = world.node.latest_timestamp()
    late = _signed(world, _voucher(world, nonce=5, expiry=now + 100))
    world.node.set_next_timestamp(now + 100)
    world.collection.redeem(world.collectors[0], late)  # mined at exactly the expiry second
    expired = _signed(world, _voucher(world, nonce=6, expiry=now + 101))
    world.node.rpc("evm_mine", [now + 102])
    error = _expect("VoucherExpired", world.collection.redeem, world.collectors[0], expired)
    assert "expired" in str(error)


def test_voucher_that_expires_between_estimate_and_mining_is_explained(world):
    now = world.node.latest_timestamp()
    signed = _signed(world, _voucher(world, nonce=7, expiry=now + 10))
    world.node.set_next_timestamp(now + 50)  # the estimate passes, the mined block is too late
    _expect("VoucherExpired", world.collection.redeem, world.collectors[0], signed)


def test_forged_voucher_signed_by_someone_else_is_refused(world):
    forged = _signed(world, _voucher(world), signer=world.collectors[0])
    error = _expect("InvalidVoucherSignature", world.collection.redeem, world.collectors[0], forged)
    assert "not signed by the collection's artist" in str(error)


@pytest.mark.parametrize("field, value", [
    ("price_wei", 1), ("nonce", 2), ("expiry", 2**40), ("content_digest", b"\x07" * 32),
    ("royalty_bps", 1000),
])
def test_voucher_with_a_changed_field_is_refused(world, field, value):
    signed = _signed(world, _voucher(world))
    changed = MintVoucher(**{**signed.voucher.__dict__, field: value})
    tampered = SignedVoucher(changed, signed.collection, signed.chain_id, signed.signature)
    _expect("InvalidVoucherSignature", world.collection.redeem, world.collectors[0], tampered)


def test_voucher_for_another_chain_or_contract_is_refused(world, accounts):
    voucher = _voucher(world)
    other_chain = _signed(world, voucher, chain_id=1)
    other_collection, _ = CollectionContract.deploy(world.connection, world.artist, name="Other", symbol="O",
                                                    royalty_receiver=world.artist.address, royalty_bps=0)
    other_contract = _signed(world, voucher, collection=other_collection.address)
    with pytest.raises(InputError):  # the wrapper refuses before sending
        world.collection.redeem(world.collectors[0], other_chain)
    # Relabelled so that the wrapper lets them through, the contract refuses them itself.
    for signed in (other_chain, other_contract):
        relabelled = SignedVoucher(signed.voucher, world.collection.address, world.connection.chain_id,
                                   signed.signature)
        _expect("InvalidVoucherSignature", world.collection.redeem, world.collectors[0], relabelled)
    assert other_collection.redeem(world.collectors[0], other_contract).first_token_id == 1


def test_voucher_of_a_previous_owner_is_void_after_ownership_moves(world):
    signed = _signed(world, _voucher(world))
    world.collection.transfer_ownership(world.artist, world.collectors[2].address)
    _expect("InvalidVoucherSignature", world.collection.redeem, world.collectors[0], signed)


def test_wrong_payment_is_refused(world):
    voucher = _voucher(world)
    signed = _signed(world, voucher)
    fn = world.collection.contract.functions.redeem(voucher.as_struct(), signed.signature)
    error = _expect("WrongPayment", world.connection.send, LocalSigner(world.collectors[0]), fn,
                    value=voucher.price_wei - 1)
    assert error.error_args == (voucher.price_wei - 1, voucher.price_wei)
    _expect("WrongPayment", world.connection.send, LocalSigner(world.collectors[0]), fn,
            value=voucher.price_wei + 1)


def test_voucher_royalty_over_cap_is_refused(world):
    voucher = MintVoucher(b"\x05" * 32, 0, nonce=9, expiry=2**40)
    signed = _signed(world, voucher)
    struct = list(voucher.as_struct())
    struct[2], struct[3] = world.artist.address, 2000
    data = world.artist.sign_typed_data(full_message={
        **__import__("studio.chain.vouchers", fromlist=["x"]).voucher_typed_data(voucher, world.collection.address,
                                                                                 world.connection.chain_id),
        "message": {"contentDigest": voucher.content_digest, "price": 0, "royaltyReceiver": world.artist.address,
                    "royaltyBps": 2000, "nonce": 9, "expiry": 2**40, "redeemer": ZERO, "epoch": 0}}).signature
    assert signed.signature != data
    fn = world.collection.contract.functions.redeem(tuple(struct), bytes(data))
    _expect("RoyaltyTooHigh", world.connection.send, LocalSigner(world.collectors[0]), fn)


def test_smart_wallet_artist_that_refuses_eth_gets_a_withdrawable_balance(world):
    probe = world.deploy_probe(world.artist)  # an ERC-1271 wallet operated by the artist's key
    collection, send = world.collection, world.connection.send
    collection.transfer_ownership(world.artist, probe.address)
    send(LocalSigner(world.artist), probe.functions.setMode(1, "0x" + "00" * 20, b""))  # reject ETH
    voucher = _voucher(world)
    signed = _signed(world, voucher)  # signed by the operator key; valid through ERC-1271
    minted = collection.redeem(world.collectors[0], signed)
    assert collection.owner_of(minted.first_token_id) == world.collectors[0].address
    assert collection.pending_payment(probe.address) == voucher.price_wei
    assert world.balance(collection.address) == voucher.price_wei
    # The wallet withdraws its balance to another address.
    target = world.collectors[3].address
    before = world.balance(target)
    withdraw = collection.contract.encode_abi("withdrawPayments", args=[target])
    send(LocalSigner(world.artist), probe.functions.execute(collection.address, 0, withdraw))
    assert world.balance(target) - before == voucher.price_wei
    assert collection.pending_payment(probe.address) == 0 and world.balance(collection.address) == 0
    _expect("NothingToWithdraw", send, LocalSigner(world.artist), probe.functions.execute(collection.address, 0, withdraw))


def test_withdraw_to_an_address_that_refuses_eth_keeps_the_balance(world):
    probe = world.deploy_probe(world.artist)
    world.collection.transfer_ownership(world.artist, probe.address)
    world.connection.send(LocalSigner(world.artist), probe.functions.setMode(1, "0x" + "00" * 20, b""))
    voucher = _voucher(world)
    world.collection.redeem(world.collectors[0], _signed(world, voucher))
    withdraw = world.collection.contract.encode_abi("withdrawPayments", args=[probe.address])
    _expect("WithdrawFailed", world.connection.send, LocalSigner(world.artist),
            probe.functions.execute(world.collection.address, 0, withdraw))
    assert world.collection.pending_payment(probe.address) == voucher.price_wei


def test_withdraw_with_nothing_pending_is_refused(world):
    _expect("NothingToWithdraw", world.collection.withdraw_payments, world.collectors[0],
            world.collectors[0].address)
