"""StudioMarketplace on a real anvil node: listings, offers, royalties and fee to the wei, safety."""
from __future__ import annotations

import pytest

from studio.chain.contracts import Listing, request_for
from studio.chain.errors_decode import ContractRevert
from studio.chain.transactions import LocalSigner
from studio.errors import ChainError, InputError

ZERO = "0x" + "00" * 20


def _expect(error_name: str, call, *args, **kwargs) -> ContractRevert:
    with pytest.raises(ContractRevert) as caught:
        call(*args, **kwargs)
    assert caught.value.error_name == error_name, str(caught.value)
    return caught.value


def _listed(world, price: int = 10**17, seller=None) -> int:
    """Mint a token to `seller` (the artist by default), approve the marketplace and list it."""
    seller = seller or world.artist
    token = world.mint(seller.address)
    world.collection.set_approval_for_all(seller, world.market.address)
    world.market.list(seller, world.collection.address, token, price)
    return token


def _send(world, account, function, value: int = 0):
    return world.connection.send(LocalSigner(account), function, value=value)


def test_listing_takes_custody_and_is_visible(world):
    market, collection = world.market, world.collection
    token = _listed(world, 5 * 10**16)
    assert collection.owner_of(token) == market.address
    assert market.listing(collection.address, token) == Listing(collection.address, token, world.artist.address,
                                                                5 * 10**16)
    assert market.active_listings() == [market.listing(collection.address, token)]


def test_listing_needs_ownership_approval_and_a_price(world):
    market, collection, collector = world.market, world.collection, world.collectors[0]
    token = world.mint()
    with pytest.raises(InputError, match="not approved"):
        market.list(world.artist, collection.address, token, 10)
    _expect("TransferCallerNotOwnerNorApproved", _send, world, world.artist,
            market.contract.functions.list(collection.address, token, 10))
    with pytest.raises(InputError, match="belongs to"):
        market.list(collector, collection.address, token, 10)
    collection.set_approval_for_all(world.artist, market.address)
    _expect("TransferFromIncorrectOwner", _send, world, collector,
            market.contract.functions.list(collection.address, token, 10))
    _expect("InvalidPrice", _send, world, world.artist, market.contract.functions.list(collection.address, token, 0))
    _expect("InvalidPrice", _send, world, world.artist,
            market.contract.functions.list(collection.address, token, 2**96))
    with pytest.raises(InputError):
        market.list(world.artist, collection.address, token, 0)


def test_update_price_and_cancel_are_for_the_seller_only(world):
    market, collection, stranger = world.market, world.collection, world.collectors[0]
    token = _listed(world)
    _expect("NotSeller", market.update_price, stranger, collection.address, token, 1)
    _expect("NotSeller", market.cancel, stranger, collection.address, token)
    _expect("NotListed", market.update_price, world.artist, collection.address, token + 1, 1)
    _expect("NotListed", market.cancel, world.artist, collection.address, token + 1)
    _expect("InvalidPrice", _send, world, world.artist,
            market.contract.functions.updatePrice(collection.address, token, 0))
    market.update_price(world.artist, collection.address, token, 7)
    assert market.listing(collection.address, token).price_wei == 7
    assert market.active_listings()[0].price_wei == 7
    market.cancel(world.artist, collection.address, token)
    assert market.listing(collection.address, token) is None
    assert collection.owner_of(token) == world.artist.address
    assert market.active_listings() == []
    _expect("NotListed", market.buy, stranger, collection.address, token, 7)


def test_buy_splits_price_royalty_and_fee_to_the_wei(world):
    market, collection = world.market, world.collection
    seller, buyer = world.collectors[0], world.collectors[1]
    fee_recipient = world.collectors[3]
    market.set_fee(world.operator, 250, fee_recipient.address)
    price = 1_234_567_890_123_456_789
    token = world.mint(seller.address)
    collection.set_token_royalty(world.artist, token, world.royalty_receiver.address, 733)
    collection.set_approval_for_all(seller, market.address)
    market.list(seller, collection.address, token, price)
    quote = market.quote(collection.address, token, price)
    royalty, fee = price * 733 // 10_000, price * 250 // 10_000
    assert (quote.royalty_wei, quote.fee_wei, quote.proceeds_wei) == (royalty, fee, price - royalty - fee)
    before = {a.address: world.balance(a.address) for a in (seller, buyer, fee_recipient, world.royalty_receiver)}
    receipt = market.buy(buyer, collection.address, token, price)
    after = {a: world.balance(a) for a in before}
    assert after[seller.address] - before[seller.address] == price - royalty - fee
    assert after[world.royalty_receiver.address] - before[world.royalty_receiver.address] == royalty
    assert after[fee_recipient.address] - before[fee_recipient.address] == fee
    assert before[buyer.address] - after[buyer.address] == price + receipt.fee_wei
    assert world.balance(market.address) == 0
    assert collection.owner_of(token) == buyer.address
    assert market.listing(collection.address, token) is None
    sold = market.contract.events.Sold().get_logs(from_block=receipt.block_number)[0]["args"]
    assert (sold["price"], sold["royalty"], sold["fee"], sold["seller"]) == (price, royalty, fee, seller.address)


def test_buy_needs_the_exact_price_and_a_token_sells_once(world):
    market, collection = world.market, world.collection
    token = _listed(world, 1000)
    _expect("WrongPayment", market.buy, world.collectors[0], collection.address, token, 999)
    _expect("WrongPayment", market.buy, world.collectors[0], collection.address, token, 1001)
    market.buy(world.collectors[0], collection.address, token, 1000)
    error = _expect("NotListed", market.buy, world.collectors[1], collection.address, token, 1000)
    assert "not listed" in str(error)


def test_a_listed_token_cannot_be_moved_so_its_listing_cannot_outlive_a_transfer(world):
    token = _listed(world)
    with pytest.raises(ChainError):
        world.collection.transfer(world.artist, world.collectors[0].address, token)
    world.market.cancel(world.artist, world.collection.address, token)
    world.collection.transfer(world.artist, world.collectors[0].address, token)
    world.collection.transfer(world.collectors[0], world.artist.address, token)
    # The old listing did not come back with the token.
    _expect("NotListed", world.market.buy, world.collectors[1], world.collection.address, token, 10**17)


def test_sale_of_a_collection_without_royalties_pays_the_seller_everything(world):
    from studio.chain.artifacts import load_artifact

    artifact = load_artifact("OZURIStorageReference")
    factory = world.connection.web3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    address = world.connection.send(LocalSigner(world.artist), factory.constructor()).contract_address
    plain = world.connection.web3.eth.contract(address=address, abi=artifact.abi)
    _send(world, world.artist, plain.functions.mint(world.artist.address, "ipfs://x"))
    _send(world, world.artist, plain.functions.approve(world.market.address, 1))
    world.market.list(world.artist, address, 1, 10**15)
    quote = world.market.quote(address, 1, 10**15)
    assert (quote.royalty_receiver, quote.royalty_wei, quote.proceeds_wei) == (None, 0, 10**15)
    before = world.balance(world.artist.address)
    world.market.buy(world.collectors[0], address, 1, 10**15)
    assert world.balance(world.artist.address) - before == 10**15


# ---------------------------------------------------------------- offers

def test_offer_escrow_top_up_and_withdraw(world):
    market, collection, buyer = world.market, world.collection, world.collectors[0]
    token = world.mint()
    market.make_offer(buyer, collection.address, token, 300)
    market.make_offer(buyer, collection.address, token, 200)
    assert market.offer(collection.address, token, buyer.address).amount_wei == 500
    assert world.balance(market.address) == 500
    _expect("InvalidPrice", _send, world, buyer, market.contract.functions.makeOffer(collection.address, token,
                                                                                     2**40))
    before = world.balance(buyer.address)
    receipt = market.withdraw_offer(buyer, collection.address, token)
    assert world.balance(buyer.address) == before + 500 - receipt.fee_wei
    assert market.offer(collection.address, token, buyer.address) is None
    _expect("NoOffer", market.withdraw_offer, buyer, collection.address, token)


def test_owner_accepts_an_offer_with_royalty_and_fee(world):
    market, collection, buyer = world.market, world.collection, world.collectors[0]
    seller = world.collectors[1]
    market.set_fee(world.operator, 500, world.operator.address)
    token = world.mint(seller.address)
    amount = 999_999_999_999_999_999
    market.make_offer(buyer, collection.address, token, amount)
    _expect("NotTokenOwner", market.accept_offer, world.collectors[2], collection.address, token, buyer.address,
            amount)
    _expect("OfferChanged", market.accept_offer, seller, collection.address, token, buyer.address, amount - 1)
    _expect("NoOffer", market.accept_offer, seller, collection.address, token, world.collectors[2].address, 1)
    collection.approve(seller, market.address, token)
    before_seller, before_op = world.balance(seller.address), world.balance(world.operator.address)
    receipt = market.accept_offer(seller, collection.address, token, buyer.address, amount)
    royalty, fee = amount * 500 // 10_000, amount * 500 // 10_000
    assert world.balance(seller.address) - before_seller == amount - royalty - fee - receipt.fee_wei
    assert world.balance(world.operator.address) - before_op == fee
    assert collection.owner_of(token) == buyer.address
    assert world.balance(market.address) == 0


def test_seller_accepts_an_offer_on_a_listed_token_and_the_listing_ends(world):
    market, collection, buyer = world.market, world.collection, world.collectors[0]
    token = _listed(world, 10**18)
    market.make_offer(buyer, collection.address, token, 10**17)
    _expect("NotSeller", market.accept_offer, world.collectors[1], collection.address, token, buyer.address, 10**17)
    receipt = market.accept_offer(world.artist, collection.address, token, buyer.address, 10**17)
    assert collection.owner_of(token) == buyer.address
    assert market.listing(collection.address, token) is None
    assert market.active_listings() == []
    cancelled = market.contract.events.ListingCancelled().get_logs(from_block=receipt.block_number)
    assert len(cancelled) == 1
    _expect("NotListed", market.buy, world.collectors[2], collection.address, token, 10**18)


# ---------------------------------------------------------------- fee, payments, reentrancy

def test_fee_is_owner_only_and_capped_at_five_percent(world):
    market = world.market
    assert market.fee() == (0, world.operator.address)
    _expect("OwnableUnauthorizedAccount", market.set_fee, world.artist, 100, world.artist.address)
    _expect("FeeTooHigh", _send, world, world.operator, market.contract.functions.setFee(501, world.operator.address))
    _expect("InvalidFeeRecipient", _send, world, world.operator, market.contract.functions.setFee(100, ZERO))
    with pytest.raises(InputError):
        market.set_fee(world.operator, 501, world.operator.address)
    market.set_fee(world.operator, 500, world.collectors[0].address)
    assert market.fee() == (500, world.collectors[0].address)


def _probe_lists(world, price: int):
    """A PaymentProbe contract (operated by collector 3) that owns and lists a token."""
    operator = world.collectors[3]
    probe = world.deploy_probe(operator)
    token = world.mint(probe.address)
    coll, market = world.collection.contract.functions, world.market.contract.functions
    execute = probe.functions.execute
    _send(world, operator, execute(world.collection.address, 0,
                                   request_for(coll.setApprovalForAll(world.market.address, True)).data))
    _send(world, operator, execute(world.market.address, 0,
                                   request_for(market.list(world.collection.address, token, price)).data))
    return probe, operator, token


def test_seller_that_refuses_eth_gets_a_withdrawable_balance(world):
    price = 10**16
    probe, operator, token = _probe_lists(world, price)
    _send(world, operator, probe.functions.setMode(1, ZERO, b""))
    world.market.buy(world.collectors[0], world.collection.address, token, price)
    proceeds = price - price * 500 // 10_000
    assert world.market.pending_withdrawal(probe.address) == proceeds
    assert world.balance(world.market.address) == proceeds
    withdraw = world.market.contract.functions.withdraw
    _expect("WithdrawFailed", _send, world, operator,
            probe.functions.execute(world.market.address, 0, request_for(withdraw(probe.address)).data))
    target = world.collectors[2].address
    before = world.balance(target)
    _send(world, operator, probe.functions.execute(world.market.address, 0,
                                                   request_for(withdraw(target)).data))
    assert world.balance(target) - before == proceeds
    assert world.balance(world.market.address) == 0
    _expect("NothingToWithdraw", world.market.withdraw, world.collectors[0], world.collectors[0].address)


def test_reentrant_seller_cannot_buy_during_a_sale(world):
    price = 10**16
    other = _listed(world, price)
    probe, operator, token = _probe_lists(world, price)
    reenter = request_for(world.market.contract.functions.buy(world.collection.address, other)).data
    _send(world, operator, probe.functions.setMode(2, world.market.address, reenter))
    world.market.buy(world.collectors[0], world.collection.address, token, price)
    assert probe.functions.reenterSucceeded().call() is False
    error = probe.functions.reenterError().call()
    from eth_utils import function_signature_to_4byte_selector

    assert error == function_signature_to_4byte_selector("ReentrancyGuardReentrantCall()")
    # The probe was still paid (its receive did not fail), and the other listing is untouched.
    assert world.market.pending_withdrawal(probe.address) == 0
    assert world.market.listing(world.collection.address, other).seller == world.artist.address
