"""Seaport on the session anvil node for the chain tests: deployed once (before any test's snapshot),
and `Market`, a world (collection with a 5% royalty) with Seaport, WETH and named accounts."""
from __future__ import annotations

import pytest

from studio.chain.seaport import OrderComponents, Payout, SaleTerms, SignedOrder, listing_order, offer_order, sign_order
from studio.chain.seaport_contract import SeaportContract, WethContract
from studio.chain.transactions import LocalSigner

ETH = 10**18
HOUR = 3600


@pytest.fixture(scope="session")
def seaport_addresses(anvil, accounts):
    """Seaport, its ConduitController and WETH9 deployed once on the session node (before any snapshot)."""
    from studio.chain.transactions import Connection

    connection = Connection.from_url(anvil.url)
    seaport = SeaportContract.deploy(connection, accounts[7])
    weth = WethContract.deploy(connection, accounts[7])
    return seaport.address, weth.address


class Market:
    """A world (collection with a 5% royalty to account 9) plus Seaport and WETH."""

    def __init__(self, world, addresses) -> None:
        self.world = world
        self.connection = world.connection
        self.seaport = SeaportContract(world.connection, addresses[0])
        self.weth = WethContract(world.connection, addresses[1])
        self.seller, self.buyer, self.bidder = world.collectors[0], world.collectors[1], world.collectors[2]
        self.fee_recipient = world.collectors[3]

    def now(self) -> int:
        return self.world.node.latest_timestamp()

    def token(self, owner=None, approve: bool = True) -> int:
        owner = owner or self.seller
        token = self.world.mint(owner.address)
        if approve:
            self.world.collection.set_approval_for_all(owner, self.seaport.address)
        return token

    def listing(self, token: int, price: int = ETH, *, fee_bps: int = 0, seller=None, start=None,
                end=None) -> OrderComponents:
        seller = seller or self.seller
        royalty = self.world.collection.royalty_info(token, price)
        terms = SaleTerms.split(price, seller.address, royalty=(royalty.receiver, royalty.amount_wei),
                                fee=(self.fee_recipient.address, fee_bps) if fee_bps else None)
        now = self.now()
        return listing_order(seller=seller.address, collection=self.world.collection.address, token_id=token,
                             terms=terms, start_time=now - 60 if start is None else start,
                             end_time=now + HOUR if end is None else end,
                             counter=self.seaport.counter(seller.address))

    def offer(self, token: int | None, amount: int = ETH // 2, bidder=None, royalty: int = 0) -> OrderComponents:
        bidder = bidder or self.bidder
        payouts = [Payout(self.world.royalty_receiver.address, royalty, "royalty")] if royalty else []
        now = self.now()
        return offer_order(buyer=bidder.address, weth=self.weth.address, collection=self.world.collection.address,
                           token_id=token, amount_wei=amount, payouts=payouts, start_time=now - 60,
                           end_time=now + HOUR, counter=self.seaport.counter(bidder.address))

    def sign(self, components: OrderComponents, account) -> SignedOrder:
        return sign_order(LocalSigner(account), components, self.connection.chain_id, self.seaport.address)

    def fund_weth(self, account, amount: int = ETH) -> None:
        self.weth.wrap(account, amount)
        self.weth.approve(account, self.seaport.address)


@pytest.fixture
def market(world, seaport_addresses) -> Market:
    return Market(world, seaport_addresses)


