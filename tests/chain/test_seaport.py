"""Seaport 1.6 on a real anvil node: the compiled artifact is the canonical deployment's code, order
hashes and signatures (one and bulk) match the contract, listings and offers settle to the wei,
cancel one and cancel all, and orders whose token moved or whose approval went read as unfillable."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from studio.chain.artifacts import load_artifact
from studio.chain.errors_decode import ContractRevert
from studio.chain.seaport import (CANONICAL_CONDUIT_CONTROLLER, CANONICAL_INIT_CODE_HASH, CANONICAL_SEAPORT,
                                  BulkTree, ItemType, OrderComponents, SaleTerms, SignedOrder,
                                  bulk_height, bulk_typed_data, listing_order, order_digest, order_hash,
                                  order_signer, order_typed_data, sign_bulk_orders, sign_order, summarize)
from studio.chain.seaport_contract import SeaportContract, basic_order_parameters, check_seaport_code
from studio.chain.transactions import LocalSigner
from studio.errors import ChainError, InputError, NotFound

from seaport_market import ETH, HOUR, market, seaport_addresses  # noqa: F401 (fixtures)


def _expect(error_name: str, call, *args, **kwargs) -> ContractRevert:
    with pytest.raises(ContractRevert) as caught:
        call(*args, **kwargs)
    assert caught.value.error_name == error_name, str(caught.value)
    return caught.value


# ---------------------------------------------------------------- the artifact is canonical Seaport

def test_the_compiled_seaport_is_the_canonical_deployments_init_code():
    """CREATE2 address = keccak(0xff ‖ factory ‖ salt ‖ keccak(init code)): the canonical address follows
    from this init code hash, and our artifact (plus the canonical controller as constructor argument)
    hashes to it, so the code compiled here is the code deployed on every public network."""
    from eth_abi import encode
    from eth_utils import keccak, to_checksum_address

    artifact = load_artifact("Seaport")
    init_code = bytes.fromhex(artifact.bytecode[2:]) + encode(["address"], [CANONICAL_CONDUIT_CONTROLLER])
    assert "0x" + keccak(init_code).hex() == CANONICAL_INIT_CODE_HASH
    factory = bytes.fromhex("0000000000ffe8b47b3e2130213b802212439497")
    salt = bytes.fromhex("0000000000000000000000000000000000000000d738b7f0bb99901b1c83f249")
    derived = keccak(b"\xff" + factory + salt + bytes.fromhex(CANONICAL_INIT_CODE_HASH[2:]))[12:]
    assert to_checksum_address(derived) == CANONICAL_SEAPORT


def test_seaport_code_check_accepts_seaport_and_refuses_anything_else(market, world):
    check_seaport_code(world.connection, market.seaport.address)
    assert market.seaport.information()[0] == "1.6"
    with pytest.raises(NotFound):
        check_seaport_code(world.connection, world.collectors[0].address)
    with pytest.raises(ChainError, match="not Seaport"):
        check_seaport_code(world.connection, world.collection.address)
    code = bytearray(world.connection.web3.eth.get_code(market.seaport.address))
    code[100] ^= 0xFF  # one byte of logic changed (outside the immutables)
    impostor = "0x" + "5e" * 20
    world.node.rpc("anvil_setCode", [impostor, "0x" + code.hex()])
    with pytest.raises(ChainError, match="not Seaport"):
        check_seaport_code(world.connection, impostor)
    # Real Seaport code copied to another address keeps the first address's signing domain.
    world.node.rpc("anvil_setCode", [impostor, "0x" + bytes(world.connection.web3.eth.get_code(
        market.seaport.address)).hex()])
    with pytest.raises(ChainError, match="signing domain"):
        check_seaport_code(world.connection, impostor)


# ---------------------------------------------------------------- hashing and signing

def test_order_hash_and_digest_match_seaport_and_eth_account(market):
    from eth_account.messages import encode_typed_data

    components = market.listing(market.token(), fee_bps=250)
    assert market.seaport.contract_order_hash(components) == order_hash(components)
    typed = order_typed_data(components, market.connection.chain_id, market.seaport.address)
    assert bytes(encode_typed_data(full_message=typed).body) == order_hash(components)
    signed = market.sign(components, market.seller)
    assert order_signer(signed) == market.seller.address
    assert SignedOrder.from_json(json.loads(json.dumps(signed.to_json()))) == signed
    assert order_digest(components, signed.chain_id, signed.seaport) != order_hash(components)


def test_an_order_is_signed_only_by_its_offerer_and_fulfilled_only_where_it_was_signed(market):
    components = market.listing(market.token())
    with pytest.raises(InputError, match="offerer"):
        market.sign(components, market.buyer)
    elsewhere = sign_order(LocalSigner(market.seller), components, market.connection.chain_id + 1,
                           market.seaport.address)
    with pytest.raises(InputError, match="another Seaport or network"):
        market.seaport.fulfil(market.buyer, elsewhere)
    forged = replace(market.sign(components, market.seller), components=replace(components, salt=components.salt + 1))
    assert order_signer(forged) != market.seller.address
    _expect("InvalidSigner", market.seaport.fulfil, market.buyer, forged)


def test_bulk_signature_tree_matches_eip712_and_each_order_fills_alone(market):
    from eth_account.messages import encode_typed_data

    tokens = [market.token(approve=i == 0) for i in range(3)]
    orders = [market.listing(token, ETH // 10) for token in tokens]
    assert bulk_height(3) == 2 and bulk_height(2) == 1 and bulk_height(5) == 3
    tree = BulkTree.of(orders)
    typed = bulk_typed_data(orders, market.connection.chain_id, market.seaport.address)
    assert bytes(encode_typed_data(full_message=typed).body) == tree.struct_hash()
    signed = sign_bulk_orders(LocalSigner(market.seller), orders, market.connection.chain_id, market.seaport.address)
    assert len({s.signature[:65] for s in signed}) == 1  # one signature for all
    assert all(len(s.signature) == 65 + 3 + 32 * 2 and order_signer(s) == market.seller.address for s in signed)
    market.seaport.fulfil(market.buyer, signed[2])
    market.seaport.fulfil(market.bidder, signed[0])
    collection = market.world.collection
    assert (collection.owner_of(tokens[2]), collection.owner_of(tokens[0])) == (market.buyer.address,
                                                                              market.bidder.address)
    wrong_index = replace(signed[1], signature=signed[1].signature[:65] + (0).to_bytes(3, "big") +
                          signed[1].signature[68:])
    _expect("InvalidSigner", market.seaport.fulfil, market.buyer, wrong_index)
    assert market.seaport.fillability(signed[1]).fillable


# ---------------------------------------------------------------- listings

def test_a_listing_costs_no_gas_and_its_sale_pays_seller_royalty_and_fee_to_the_wei(market):
    world, price = market.world, 1_234_567_890_123_456_789
    token = market.token()
    components = market.listing(token, price, fee_bps=250)
    royalty, fee = price * 500 // 10_000, price * 250 // 10_000
    assert [(c.recipient, c.start_amount) for c in components.consideration] == [
        (market.seller.address, price - royalty - fee), (world.royalty_receiver.address, royalty),
        (market.fee_recipient.address, fee)]
    summary = summarize(components)
    assert (summary.kind, summary.token_id, summary.price_wei) == ("listing", token, price)
    signed = market.sign(components, market.seller)
    assert basic_order_parameters(signed) is not None  # the cheap route applies
    before = {a: world.balance(a) for a in (market.seller.address, world.royalty_receiver.address,
                                            market.fee_recipient.address, market.buyer.address)}
    receipt = market.seaport.fulfil(market.buyer, signed)
    after = {a: world.balance(a) for a in before}
    assert after[market.seller.address] - before[market.seller.address] == price - royalty - fee
    assert after[world.royalty_receiver.address] - before[world.royalty_receiver.address] == royalty
    assert after[market.fee_recipient.address] - before[market.fee_recipient.address] == fee
    assert before[market.buyer.address] - after[market.buyer.address] == price + receipt.fee_wei
    assert world.collection.owner_of(token) == market.buyer.address
    assert market.seaport.status(components).filled
    assert market.seaport.fillability(signed).state == "filled"
    _expect("OrderPartiallyFilled", market.seaport.fulfil, market.bidder, signed)  # the basic route says so


def test_a_listing_is_open_only_between_its_start_and_end(market):
    token = market.token()
    now = market.now()
    later = market.sign(market.listing(token, start=now + HOUR, end=now + 2 * HOUR), market.seller)
    assert market.seaport.fillability(later).state == "not-started"
    _expect("InvalidTime", market.seaport.fulfil, market.buyer, later)
    soon = market.sign(market.listing(token, end=now + 100), market.seller)
    market.world.node.set_next_timestamp(now + 100)
    market.world.node.rpc("evm_mine")
    assert market.seaport.fillability(soon).state == "expired"
    _expect("InvalidTime", market.seaport.fulfil, market.buyer, soon)


def test_a_listing_whose_token_moved_or_lost_its_approval_is_unfillable(market):
    world = market.world
    moved_token, revoked_token = market.token(), market.token()
    moved = market.sign(market.listing(moved_token), market.seller)
    revoked = market.sign(market.listing(revoked_token), market.seller)
    assert market.seaport.fillability(moved).fillable and market.seaport.fillability(revoked).fillable
    world.collection.transfer(market.seller, market.bidder.address, moved_token)
    assert market.seaport.fillability(moved).state == "token-moved"
    world.collection.set_approval_for_all(market.seller, market.seaport.address, False)
    assert market.seaport.fillability(revoked).state == "not-approved"
    with pytest.raises(ChainError):
        market.seaport.fulfil(market.buyer, revoked)


# ---------------------------------------------------------------- offers in WETH

def test_weth_wraps_and_unwraps_one_for_one(market):
    weth, bidder = market.weth, market.bidder
    before = market.world.balance(bidder.address)
    wrapped = weth.wrap(bidder, 3 * ETH)
    unwrapped = weth.unwrap(bidder, ETH)
    assert weth.balance_of(bidder.address) == 2 * ETH
    assert market.world.balance(bidder.address) == before - 2 * ETH - wrapped.fee_wei - unwrapped.fee_wei
    with pytest.raises(InputError, match="less WETH"):
        weth.unwrap(bidder, 5 * ETH)


def test_a_token_offer_in_weth_is_accepted_with_its_royalty(market):
    world = market.world
    token = market.token()
    market.fund_weth(market.bidder)
    components = market.offer(token, ETH // 2, royalty=ETH // 40)
    assert summarize(components).kind == "offer"
    signed = market.sign(components, market.bidder)
    assert market.seaport.fillability(signed).fillable
    assert market.seaport.approvals_for(signed, market.seller.address) == []  # approved in market.token()
    market.seaport.fulfil(market.seller, signed)
    assert world.collection.owner_of(token) == market.bidder.address
    assert market.weth.balance_of(market.seller.address) == ETH // 2 - ETH // 40
    assert market.weth.balance_of(world.royalty_receiver.address) == ETH // 40
    assert market.weth.balance_of(market.bidder.address) == ETH - ETH // 2


def test_a_collection_offer_is_accepted_for_any_token_the_seller_picks(market):
    world = market.world
    first, second = market.token(), market.token()
    market.fund_weth(market.bidder)
    signed = market.sign(market.offer(None, ETH // 4, royalty=ETH // 80), market.bidder)
    assert summarize(signed.components).kind == "collection offer"
    with pytest.raises(InputError, match="id of the token"):
        market.seaport.fulfil(market.seller, signed)
    for approval in market.seaport.approvals_for(signed, market.seller.address, token_id=second):
        market.seaport.approve(market.seller, approval)
    assert market.seaport.approvals_for(signed, market.seller.address, token_id=second) == []
    market.seaport.fulfil(market.seller, signed, token_id=second)
    assert world.collection.owner_of(second) == market.bidder.address
    assert world.collection.owner_of(first) == market.seller.address
    assert market.weth.balance_of(market.seller.address) == ETH // 4 - ETH // 80


def test_an_offer_without_funds_or_allowance_is_unfillable(market):
    token = market.token()
    market.weth.wrap(market.bidder, ETH)
    signed = market.sign(market.offer(token, ETH // 2), market.bidder)
    assert market.seaport.fillability(signed).state == "not-approved"
    market.weth.approve(market.bidder, market.seaport.address)
    assert market.seaport.fillability(signed).fillable
    market.weth.unwrap(market.bidder, ETH)
    assert market.seaport.fillability(signed).state == "no-funds"


# ---------------------------------------------------------------- cancelling

def test_cancel_one_order_and_cancel_all_with_the_counter(market):
    tokens = [market.token() for _ in range(3)]
    orders = [market.listing(token) for token in tokens]
    signed = [market.sign(order, market.seller) for order in orders]
    with pytest.raises(InputError, match="Only the offerer"):
        market.seaport.cancel(market.buyer, [orders[0]])
    market.seaport.cancel(market.seller, [orders[0]])
    assert market.seaport.fillability(signed[0]).state == "cancelled"
    _expect("OrderIsCancelled", market.seaport.fulfil, market.buyer, signed[0])
    assert market.seaport.fillability(signed[1]).fillable
    counter = market.seaport.counter(market.seller.address)
    market.seaport.increment_counter(market.seller)
    assert market.seaport.counter(market.seller.address) != counter
    assert [market.seaport.fillability(s).state for s in signed[1:]] == ["counter", "counter"]
    with pytest.raises(ChainError):
        market.seaport.fulfil(market.buyer, signed[1])
    fresh = market.sign(market.listing(tokens[1]), market.seller)  # signed with the new counter
    market.seaport.fulfil(market.buyer, fresh)
    assert market.world.collection.owner_of(tokens[1]) == market.buyer.address


def test_orders_are_read_back_from_seaport_json(market):
    signed = market.sign(market.listing(market.token(), fee_bps=100), market.seller)
    text = json.dumps(signed.to_json())
    assert json.loads(text)["parameters"]["totalOriginalConsiderationItems"] == 3
    again = SignedOrder.from_json(json.loads(text))
    assert again == signed and again.order_hash == signed.order_hash
    with pytest.raises(InputError):
        OrderComponents.from_json({"offerer": "not an address"})
    broken = json.loads(text)
    broken["parameters"]["totalOriginalConsiderationItems"] = 2
    with pytest.raises(InputError, match="add up"):
        SignedOrder.from_json(broken)
    assert summarize(again.components).payouts[0].recipient == market.seller.address
    assert again.components.consideration[0].item_type == ItemType.NATIVE


# ---------------------------------------------------------------- the devnet

def test_seaport_runs_on_the_embedded_devnet():
    """The devnet deploys ConduitController, Seaport and WETH9 on first use; a listing sells there."""
    from studio.chain.contracts import CollectionContract
    from studio.chain.devnet import Devnet, devnet_account_signer
    from studio.workflows.publish import file_commitment

    devnet = Devnet(None)
    contracts = devnet.seaport_contracts()
    assert devnet.seaport_contracts() == contracts  # deployed once
    connection = devnet.connection()
    check_seaport_code(connection, contracts["Seaport"])
    seaport = SeaportContract(connection, contracts["Seaport"])
    artist, buyer = devnet_account_signer(0), devnet_account_signer(1)
    collection, _ = CollectionContract.deploy(connection, artist, name="D", symbol="D",
                                              royalty_receiver=artist.address, royalty_bps=500)
    token = collection.mint(artist, artist.address, file_commitment(b"devnet work")).first_token_id
    collection.set_approval_for_all(artist, seaport.address)
    now = int(connection.web3.eth.get_block("latest")["timestamp"])
    components = listing_order(seller=artist.address, collection=collection.address, token_id=token,
                               terms=SaleTerms.split(ETH // 10, artist.address), start_time=now - 10,
                               end_time=now + HOUR, counter=seaport.counter(artist.address))
    signed = sign_order(artist, components, connection.chain_id, seaport.address)
    seaport.fulfil(buyer, signed)
    assert collection.owner_of(token) == buyer.address
    assert devnet.known_contracts()[contracts["Seaport"]] == "Seaport 1.6"
