"""StudioMarketplace version 2 against the review of version 1 (issue #21): offers expire (M-1),
the seller's proceeds are fixed when listing and when accepting (M-2), no payee or withdrawal
strands or burns ETH (L-2, I-10), payouts copy no return data (L-5), ownership moves in two steps,
approved operators accept offers; and version 1's listings and offers still work."""
from __future__ import annotations

import pytest

from studio.chain.artifacts import load_artifact
from studio.chain.contracts import MarketplaceContract
from studio.chain.errors_decode import ContractRevert
from studio.chain.transactions import LocalSigner
from studio.errors import InputError

ZERO = "0x" + "00" * 20
DAY = 86_400


def _expect(error_name: str, call, *args, **kwargs) -> ContractRevert:
    with pytest.raises(ContractRevert) as caught:
        call(*args, **kwargs)
    assert caught.value.error_name == error_name, str(caught.value)
    return caught.value


def _send(world, account, function, value: int = 0):
    return world.connection.send(LocalSigner(account), function, value=value)


def _listed(world, market, price: int, seller=None) -> int:
    seller = seller or world.artist
    token = world.mint(seller.address)
    world.collection.set_approval_for_all(seller, market.address)
    market.list(seller, world.collection.address, token, price)
    return token


def _deploy_v1(world) -> MarketplaceContract:
    """A first-version marketplace, as studios deployed it before version 2."""
    artifact = load_artifact("StudioMarketplaceV1")
    factory = world.connection.web3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    address = _send(world, world.operator, factory.constructor()).contract_address
    return MarketplaceContract(world.connection, address)


# ---------------------------------------------------------------- M-1: offers expire

def test_an_offer_cannot_be_accepted_after_its_expiry_but_can_still_be_withdrawn(world):
    market, collection, buyer = world.market, world.collection, world.collectors[0]
    token = world.mint()
    collection.set_approval_for_all(world.artist, market.address)
    expiry = world.node.latest_timestamp() + DAY
    market.make_offer(buyer, collection.address, token, 10**16, expiry=expiry)
    assert market.offer(collection.address, token, buyer.address).expiry == expiry
    world.node.set_next_timestamp(expiry + 1)
    error = _expect("OfferExpired", market.accept_offer, world.artist, collection.address, token, buyer.address,
                    10**16)
    assert "expired" in str(error)
    assert collection.owner_of(token) == world.artist.address
    before = world.balance(buyer.address)
    receipt = market.withdraw_offer(buyer, collection.address, token)
    assert world.balance(buyer.address) == before + 10**16 - receipt.fee_wei


def test_an_offer_is_accepted_up_to_its_last_second(world):
    market, collection, buyer = world.market, world.collection, world.collectors[0]
    token = world.mint()
    collection.set_approval_for_all(world.artist, market.address)
    expiry = world.node.latest_timestamp() + DAY
    market.make_offer(buyer, collection.address, token, 10**16, expiry=expiry)
    world.node.set_next_timestamp(expiry)
    market.accept_offer(world.artist, collection.address, token, buyer.address, 10**16)
    assert collection.owner_of(token) == buyer.address


def test_an_offer_without_an_expiry_runs_thirty_days_and_none_runs_past_a_year(world):
    market, collection, buyer = world.market, world.collection, world.collectors[0]
    token = world.mint()
    now = world.node.latest_timestamp()
    market.make_offer(buyer, collection.address, token, 100)
    assert 30 * DAY <= market.offer(collection.address, token, buyer.address).expiry - now <= 30 * DAY + 60
    make = market.contract.functions.makeOffer
    _expect("InvalidExpiry", _send, world, buyer, make(collection.address, token, now - 1), value=1)
    _expect("InvalidExpiry", _send, world, buyer, make(collection.address, token, now + 400 * DAY), value=1)


# ---------------------------------------------------------------- M-2: proceeds fixed when listing / accepting

def test_a_royalty_raised_after_listing_cannot_cut_the_sellers_proceeds(world):
    market, collection, seller, buyer = world.market, world.collection, world.collectors[0], world.collectors[1]
    price = 10**18
    token = _listed(world, market, price, seller=seller)
    assert market.min_proceeds(collection.address, token) == price - price * 500 // 10_000
    collection.set_token_royalty(world.artist, token, world.artist.address, 1000)
    error = _expect("ProceedsTooLow", market.buy, buyer, collection.address, token, price)
    assert error.error_args == (price - price // 10, price - price * 500 // 10_000)
    assert collection.owner_of(token) == market.address  # nothing moved
    collection.set_token_royalty(world.artist, token, world.artist.address, 100)  # lower: the seller gets more
    before = world.balance(seller.address)
    market.buy(buyer, collection.address, token, price)
    assert world.balance(seller.address) - before == price - price // 100


def test_a_fee_raised_in_front_of_an_accept_reverts_it(world):
    market, collection, buyer = world.market, world.collection, world.collectors[0]
    token = world.mint()
    collection.set_approval_for_all(world.artist, market.address)
    market.make_offer(buyer, collection.address, token, 10**18)
    seen = market.quote(collection.address, token, 10**18).proceeds_wei
    market.set_fee(world.operator, 500, world.operator.address)  # the front-run
    _expect("ProceedsTooLow", market.accept_offer, world.artist, collection.address, token, buyer.address, 10**18,
            min_proceeds_wei=seen)
    assert collection.owner_of(token) == world.artist.address


def test_a_new_price_is_quoted_again(world):
    market, collection = world.market, world.collection
    token = _listed(world, market, 10**18)
    market.update_price(world.artist, collection.address, token, 2 * 10**18)
    assert market.min_proceeds(collection.address, token) == 2 * 10**18 * 95 // 100
    market.cancel(world.artist, collection.address, token)
    assert market.min_proceeds(collection.address, token) == 0


# ---------------------------------------------------------------- L-2, I-10: no stranded or burnt ETH

def test_withdrawals_to_the_zero_address_or_the_marketplace_are_refused(world):
    market = world.market
    for to in (ZERO, market.address):
        _expect("InvalidRecipient", _send, world, world.collectors[0], market.contract.functions.withdraw(to))
    _expect("InvalidFeeRecipient", _send, world, world.operator,
            market.contract.functions.setFee(100, market.address))


def test_a_royalty_named_to_the_marketplace_goes_to_the_seller_instead(world):
    market, collection, seller = world.market, world.collection, world.collectors[0]
    token = world.mint(seller.address)
    collection.set_token_royalty(world.artist, token, market.address, 1000)
    collection.set_approval_for_all(seller, market.address)
    market.list(seller, collection.address, token, 10**17)
    assert market.quote(collection.address, token, 10**17).royalty_wei == 0
    before = world.balance(seller.address)
    market.buy(world.collectors[1], collection.address, token, 10**17)
    assert world.balance(seller.address) - before == 10**17
    assert world.balance(market.address) == 0 and market.pending_withdrawal(market.address) == 0


# ---------------------------------------------------------------- L-5: return bombs

def _bomb_lists(world, market, price: int) -> int:
    """A ReturnBomb contract (operated by collector 3) owns and lists a token on `market`."""
    operator = world.collectors[3]
    artifact = load_artifact("ReturnBomb")
    factory = world.connection.web3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    bomb = world.connection.web3.eth.contract(address=_send(world, operator, factory.constructor()).contract_address,
                                              abi=artifact.abi)
    token = world.mint(bomb.address)
    execute = bomb.functions.execute
    approve = world.collection.contract.functions.setApprovalForAll(market.address, True)
    _send(world, operator, execute(world.collection.address, 0, approve._encode_transaction_data()))
    listing = market.contract.functions.list(world.collection.address, token, price)
    _send(world, operator, execute(market.address, 0, listing._encode_transaction_data()))
    return token


def test_a_return_bombing_seller_costs_the_buyer_only_its_own_gas_stipend(world):
    price = 10**16
    costs = {}
    for name, market in (("v1", _deploy_v1(world)), ("v2", world.market)):
        plain = _listed(world, market, price)
        bombing = _bomb_lists(world, market, price)
        costs[name] = (market.buy(world.collectors[0], world.collection.address, plain, price).gas_used,
                       market.buy(world.collectors[1], world.collection.address, bombing, price).gas_used)
    v1_extra, v2_extra = costs["v1"][1] - costs["v1"][0], costs["v2"][1] - costs["v2"][0]
    # Version 1 also paid for copying the 100,000 returned bytes; version 2 only for the payee's own
    # memory, which the 50,000-gas payment stipend bounds.
    assert v2_extra < 50_000
    assert v1_extra - v2_extra > 20_000
    assert world.balance(world.market.address) == 0  # the bomb was paid (its receive did not fail)


# ---------------------------------------------------------------- ownership and operators

def test_marketplace_ownership_moves_only_when_the_new_owner_accepts(world):
    market, new_owner = world.market, world.collectors[0]
    market.transfer_ownership(world.operator, new_owner.address)
    assert market.owner() == world.operator.address
    _expect("OwnableUnauthorizedAccount", market.accept_ownership, world.collectors[1])
    market.accept_ownership(new_owner)
    assert market.owner() == new_owner.address
    market.set_fee(new_owner, 100, new_owner.address)
    _expect("OwnableUnauthorizedAccount", market.set_fee, world.operator, 0, world.operator.address)


def test_an_approved_operator_accepts_an_offer_and_the_owner_is_paid(world):
    market, collection, owner, operator, buyer = (world.market, world.collection, world.collectors[0],
                                                  world.collectors[2], world.collectors[1])
    token = world.mint(owner.address)
    market.make_offer(buyer, collection.address, token, 10**17)
    collection.set_approval_for_all(owner, market.address)
    _expect("NotTokenOwner", market.accept_offer, operator, collection.address, token, buyer.address, 10**17)
    collection.set_approval_for_all(owner, operator.address)
    before_owner, before_operator = world.balance(owner.address), world.balance(operator.address)
    receipt = market.accept_offer(operator, collection.address, token, buyer.address, 10**17)
    assert collection.owner_of(token) == buyer.address
    assert world.balance(owner.address) - before_owner == 10**17 * 95 // 100
    assert before_operator - world.balance(operator.address) == receipt.fee_wei
    accepted = market.contract.events.OfferAccepted().get_logs(from_block=receipt.block_number)[0]["args"]
    assert accepted["seller"] == owner.address


# ---------------------------------------------------------------- version 1 still settles

def test_a_first_version_marketplace_still_shows_sells_cancels_and_withdraws(world):
    v1 = _deploy_v1(world)
    collection, buyer = world.collection, world.collectors[0]
    assert v1.version == 1 and world.market.version == 2
    sold, kept = _listed(world, v1, 10**16), _listed(world, v1, 2 * 10**16)
    offered = world.mint()
    _send(world, buyer, v1.contract.functions.makeOffer(collection.address, offered), value=10**15)
    assert [(l.token_id, l.price_wei) for l in v1.active_listings()] == [(sold, 10**16), (kept, 2 * 10**16)]
    assert v1.offer(collection.address, offered, buyer.address).expiry is None
    assert v1.min_proceeds(collection.address, sold) is None
    v1.buy(world.collectors[1], collection.address, sold, 10**16)
    assert collection.owner_of(sold) == world.collectors[1].address
    v1.cancel(world.artist, collection.address, kept)
    assert collection.owner_of(kept) == world.artist.address
    with pytest.raises(InputError, match="never expire"):
        v1.make_offer(buyer, collection.address, offered, 10**15)
    other = world.collectors[2]
    _send(world, other, v1.contract.functions.makeOffer(collection.address, offered), value=10**15)
    v1.accept_offer(world.artist, collection.address, offered, other.address, 10**15)
    assert collection.owner_of(offered) == other.address
    before = world.balance(buyer.address)
    receipt = v1.withdraw_offer(buyer, collection.address, offered)
    assert world.balance(buyer.address) == before + 10**15 - receipt.fee_wei
    assert v1.active_listings() == []


def test_an_unreachable_node_is_a_network_error_not_a_first_version_marketplace():
    from web3 import Web3

    from studio.chain.transactions import Connection
    from studio.errors import NetworkError

    down = Connection(Web3(Web3.HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 2})), 31337)
    with pytest.raises(NetworkError):
        MarketplaceContract(down, "0x" + "11" * 20)
