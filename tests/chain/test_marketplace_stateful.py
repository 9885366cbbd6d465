"""Random sequences of list/buy/cancel/offer/accept/transfer against a model of the marketplace.

After every step: each token is where the model says (a listed token is held by the marketplace),
the marketplace holds exactly the escrowed offers, and the ETH of all participants plus the gas
they paid is what they started with (ETH is conserved). A token is never sold twice: every sale
matches one live listing or offer of the model, and the chain's sale events match its count.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from studio.errors import StudioError

TOKENS = 4
PRICES = st.integers(min_value=1, max_value=10**18)


@pytest.mark.slow
def test_marketplace_conserves_eth_and_never_sells_twice(world):
    market, collection = world.market, world.collection
    actors = world.collectors
    market.set_fee(world.operator, 250, world.operator.address)
    for index in range(TOKENS):
        world.mint(actors[index % len(actors)].address, content=f"token {index}".encode())
    for actor in actors:
        collection.set_approval_for_all(actor, market.address)
    people = [a.address for a in actors] + [world.royalty_receiver.address, world.operator.address]
    node = world.node

    class Market(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = node.snapshot()
            self.owner = {token: actors[(token - 1) % len(actors)].address for token in range(1, TOKENS + 1)}
            self.listing: dict[int, tuple[str, int]] = {}
            self.offers: dict[tuple[int, str], int] = {}
            self.sales = 0
            self.gas_paid = 0
            self.start_block = node.web3.eth.block_number
            self.start_total = self.total()

        def total(self) -> int:
            return sum(world.balance(p) for p in people) + world.balance(market.address)

        def attempt(self, expect_ok: bool, action, *args):
            try:
                receipt = action(*args)
            except StudioError:
                assert not expect_ok, f"{action.__name__}{args[1:]} failed but the model allows it"
                return False
            assert expect_ok, f"{action.__name__}{args[1:]} succeeded but the model forbids it"
            self.gas_paid += receipt.fee_wei
            return True

        def pick(self, data, valid: bool, options, fallback):
            """Mostly a choice the model allows (so sales happen), sometimes an arbitrary one."""
            return data.draw(st.sampled_from(sorted(options))) if valid and options else fallback

        @rule(actor=st.sampled_from(actors), token=st.integers(1, TOKENS), price=PRICES, valid=st.booleans(),
              data=st.data())
        def list_token(self, actor, token, price, valid, data):
            owned = [t for t, owner in self.owner.items() if t not in self.listing]
            token = self.pick(data, valid, owned, token)
            if valid and token in owned:
                actor = next(a for a in actors if a.address == self.owner[token])
            ok = self.owner[token] == actor.address and token not in self.listing
            if ok:
                self.listing[token] = (actor.address, price)
            self.attempt(ok, _raw_list, actor, token, price)

        @rule(actor=st.sampled_from(actors), token=st.integers(1, TOKENS), valid=st.booleans(), data=st.data())
        def buy(self, actor, token, valid, data):
            token = self.pick(data, valid, self.listing, token)
            listing = self.listing.pop(token, None)
            price = listing[1] if listing else 1
            if self.attempt(listing is not None, market.buy, actor, collection.address, token, price):
                self.owner[token] = actor.address
                self.sales += 1

        @rule(actor=st.sampled_from(actors), token=st.integers(1, TOKENS))
        def cancel(self, actor, token):
            ok = token in self.listing and self.listing[token][0] == actor.address
            if self.attempt(ok, market.cancel, actor, collection.address, token):
                del self.listing[token]

        @rule(actor=st.sampled_from(actors), token=st.integers(1, TOKENS), amount=PRICES)
        def offer(self, actor, token, amount):
            self.attempt(True, market.make_offer, actor, collection.address, token, amount)
            self.offers[(token, actor.address)] = self.offers.get((token, actor.address), 0) + amount

        @rule(actor=st.sampled_from(actors), token=st.integers(1, TOKENS))
        def withdraw_offer(self, actor, token):
            ok = (token, actor.address) in self.offers
            if self.attempt(ok, market.withdraw_offer, actor, collection.address, token):
                del self.offers[(token, actor.address)]

        @rule(actor=st.sampled_from(actors), token=st.integers(1, TOKENS), buyer=st.sampled_from(actors),
              valid=st.booleans(), data=st.data())
        def accept(self, actor, token, buyer, valid, data):
            if valid and self.offers:
                token, address = data.draw(st.sampled_from(sorted(self.offers)))
                buyer = next(a for a in actors if a.address == address)
                holder = self.listing[token][0] if token in self.listing else self.owner[token]
                actor = next(a for a in actors if a.address == holder)
            amount = self.offers.get((token, buyer.address))
            listing = self.listing.get(token)
            holder = listing[0] if listing else self.owner[token]
            ok = amount is not None and holder == actor.address
            if self.attempt(ok, market.accept_offer, actor, collection.address, token, buyer.address, amount or 1):
                del self.offers[(token, buyer.address)]
                self.listing.pop(token, None)
                self.owner[token] = buyer.address
                self.sales += 1

        @rule(actor=st.sampled_from(actors), token=st.integers(1, TOKENS), to=st.sampled_from(actors))
        def transfer(self, actor, token, to):
            ok = token not in self.listing and self.owner[token] == actor.address
            if self.attempt(ok, collection.transfer, actor, to.address, token):
                self.owner[token] = to.address

        @invariant()
        def tokens_are_where_the_model_says(self):
            for token in range(1, TOKENS + 1):
                expected = market.address if token in self.listing else self.owner[token]
                assert collection.owner_of(token) == expected

        @invariant()
        def eth_is_conserved_and_escrow_is_exact(self):
            assert world.balance(market.address) == sum(self.offers.values())
            assert self.total() + self.gas_paid == self.start_total

        @invariant()
        def no_token_was_sold_twice(self):
            block = self.start_block  # setup made no sales; later blocks are this run's
            sold = market.contract.events.Sold().get_logs(from_block=block)
            accepted = market.contract.events.OfferAccepted().get_logs(from_block=block)
            assert len(sold) + len(accepted) == self.sales

        def teardown(self) -> None:
            node.revert(self.snapshot)

    def _raw_list(actor, token, price):
        return market.list(actor, collection.address, token, price)

    _raw_list.__name__ = "list"
    run_state_machine_as_test(Market, settings=settings(
        max_examples=15, stateful_step_count=20, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
