"""The Market's actions with Seaport orders, the default for new listings and offers: list one token or
many under one signature (no gas after the collection's one approval), change a price (cancel, then
sign anew), buy, offer WETH for a token or a collection (wrapped and approved as needed), accept,
cancel one order, cancel all of them.

Each method checks what can be refused without a node, then starts the workflow call through
:meth:`ActionRunner.act`, which asks the person to confirm every preview (the order signature's too).
The order's end is `until` (unix seconds) or `duration` seconds after the chain's latest block.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from studio.errors import InputError
from studio.ui.state.market_jobs import VenueActions, needed
from studio.ui.state.market_opensea import OpenSeaActions
from studio.ui.widgets.market_tables import SEAPORT, HeldToken, MarketItem, OfferLine, OrderLine
from studio.ui.workers import Job

if TYPE_CHECKING:
    from studio.workflows.opensea_orders import Publisher
    from studio.workflows.seaport_market import SeaportReceipt


class SeaportActions(VenueActions):
    """Seaport orders for the acting account."""

    def _venue(self) -> dict[str, Any]:
        return {"venue": self.state.venue(), "orders": self.state.orders_store}

    @staticmethod
    def _end_time(kw: dict[str, Any], duration: int | None, until: int | None) -> int:
        """When the order ends: `until`, else `duration` seconds after the chain's latest block."""
        from studio.workflows.seaport_market import DEFAULT_EXPIRY_SECONDS

        if until is not None:
            return int(until)
        return kw["connection"].latest_block_time() + int(duration or DEFAULT_EXPIRY_SECONDS)

    # -- listings -------------------------------------------------------------------------------

    def list_tokens(self, tokens: Sequence[HeldToken], prices: Sequence[int], *, duration: int | None,
                    until: int | None, publish: "Publisher | None" = None) -> Job:
        """One token: a listing order; several: one bulk signature over all of them. `publish` (OpenSea)
        is called in the job with each order once it is signed."""
        from studio.workflows import seaport_market as sm

        owner = tokens[0].owner
        items = [sm.ListingItem(t.collection, t.token_id, p) for t, p in zip(tokens, prices)]
        common = self._common()
        posted = OpenSeaActions.outcome

        def run(kw: dict[str, Any]) -> "SeaportReceipt":
            return sm.bulk_list(items=items, end_time=self._end_time(kw, duration, until), publish=publish, **kw,
                                **common)

        if len(tokens) == 1:
            token = tokens[0]
            return self.state.actions.act("list", f"Listing token {token.token_id}", owner, run,
                                  lambda r: f"Token {token.token_id} is listed at {self._eth(r.price_wei)} until "
                                            f"{_date(r.orders[0].end_time)} (a signature: no gas)." + posted(publish))
        return self.state.actions.act("bulk-list", f"Listing {len(tokens)} tokens", owner, run,
                              lambda r: f"{len(r.orders)} tokens are listed with one signature until "
                                        f"{_date(r.orders[0].end_time)} (no gas)." + posted(publish))

    def change_price(self, token: HeldToken, price: int, *, duration: int | None, until: int | None) -> Job:
        """Cancel the Seaport listing (a transaction: the old price must not stay fillable), then sign
        a new one at `price`."""
        from studio.workflows import seaport_market as sm

        order = token.order
        if order is None:
            raise InputError(f"Token {token.token_id} has no Seaport listing.")
        common = self._common()

        def run(kw: dict[str, Any]) -> "SeaportReceipt":
            cancelled = sm.cancel_order(order=order, **kw, **common)
            listed = sm.list_with_seaport(collection=token.collection, token_id=token.token_id, price_wei=price,
                                          end_time=self._end_time(kw, duration, until), **kw, **common)
            return sm.SeaportReceipt("change-price", listed.orders, cancelled.receipts + listed.receipts)

        return self.state.actions.act("change-price", f"Changing the price of token {token.token_id}", token.owner, run,
                              lambda r: f"Token {token.token_id} now costs {self._eth(r.price_wei)}.")

    def cancel_listing(self, token: HeldToken) -> Job:
        if token.order is None:
            raise InputError(f"Token {token.token_id} has no Seaport listing.")
        return self.cancel_order(OrderLine(token.order), what=f"the listing of token {token.token_id}")

    def buy(self, item: MarketItem, account: str) -> Job:
        from studio.workflows import seaport_market as sm

        order = needed(item.order, "This listing has no Seaport order to fill.")
        return self._buy(item, account, sm.buy_order, order=order)

    # -- offers ---------------------------------------------------------------------------------

    def make_offer(self, collection: str, token_id: int | None, amount: int, account: str, *,
                   duration: int | None, until: int | None, publish: "Publisher | None" = None) -> Job:
        from studio.workflows import seaport_market as sm

        state = self.state
        held_weth = dict(state.snapshot.weth).get(account, 0) if state.snapshot else 0
        if held_weth < amount:
            state.trades.check_balance(account, amount - held_weth)  # the rest is wrapped from ETH
        common = self._common()
        what = f"token {token_id}" if token_id is not None else "any token of the collection"

        def run(kw: dict[str, Any]) -> "SeaportReceipt":
            return sm.make_seaport_offer(collection=collection, token_id=token_id, amount_wei=amount,
                                         end_time=self._end_time(kw, duration, until), publish=publish, **kw,
                                         **common)

        return state.actions.act("offer", f"Offering for {what}", account, run,
                         lambda r: f"Offer of {self._eth(r.price_wei, 'WETH')} for {what} signed, valid until "
                                   f"{_date(r.orders[0].end_time)} (your WETH stays yours until it is accepted)."
                                   + OpenSeaActions.outcome(publish))

    def accept_offer(self, line: OfferLine, holder: str) -> Job:
        from studio.workflows import seaport_market as sm

        offer = line.offer
        if offer.venue != SEAPORT or offer.order is None:
            raise InputError("This is not a Seaport offer.")
        token_id = line.token_id if line.token_id is not None else offer.token_id
        if token_id is None:
            raise InputError("Choose which of your tokens of the collection to sell to this offer.")
        return self._act("accept-offer", f"Accepting the offer on token {token_id}", holder, sm.accept_seaport_offer,
                         lambda r: f"Token {token_id} sold for {self._eth(r.price_wei, 'WETH')} (paid in WETH).",
                         order=offer.order, token_id=token_id)

    # -- cancelling ----------------------------------------------------------------------------

    def cancel_order(self, line: OrderLine, *, what: str = "") -> Job:
        from studio.workflows import seaport_market as sm

        order = line.order
        words = what or (f"the {order.kind} of token {order.token_id}" if order.token_id is not None else
                         f"the {order.kind}")
        return self._act("cancel", f"Cancelling {words}", order.offerer, sm.cancel_order,
                         lambda r: f"Cancelled {words}: nobody can fill it any more.", order=order)

    def cancel_all(self, account: str) -> Job:
        from studio.workflows import seaport_market as sm

        return self._act("cancel-all", "Cancelling all your Seaport orders", account, sm.cancel_all_orders,
                         lambda r: f"Every Seaport listing and offer you signed is cancelled ({r.cancelled} in the "
                                   "library).")


def _date(timestamp: int) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(int(timestamp)))
