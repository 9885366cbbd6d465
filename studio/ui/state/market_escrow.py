"""The Market's actions on the studio's escrow marketplace (listings made before Seaport, and new ones
only where Seaport is not deployed; offers holding ETH) and on lazy listings (mint vouchers).

Each method checks what can be refused without a node, then starts the workflow call through
:meth:`ActionRunner.act`, which asks the person to confirm every preview. No widgets here.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from studio.errors import InputError
from studio.ui.state.market_jobs import VenueActions, needed
from studio.ui.widgets.market_tables import ESCROW, HeldToken, MarketItem, OfferLine
from studio.ui.workers import Job

if TYPE_CHECKING:
    from studio.library.db import Collection, Work
    from studio.library.market import VoucherRow


class EscrowActions(VenueActions):
    """Buy, list, change price, cancel, offer, withdraw and accept on the escrow marketplace; lazy listings."""

    def _venue(self) -> dict[str, Any]:
        return {"marketplace": self.state.marketplace(), "store": self.state.store}

    # -- listings -------------------------------------------------------------------------------

    def buy(self, item: MarketItem, account: str) -> Job:
        from studio.workflows import market as wm

        return self._buy(item, account, wm.buy_listing, collection=item.collection, token_id=_token(item.token_id),
                         expected_price_wei=item.price_wei)

    def list_token(self, token: HeldToken, price: int) -> Job:
        from studio.workflows import market as wm

        return self._act("list", f"Listing token {token.token_id}", token.owner, wm.list_token,
                         lambda r: f"Token {r.token_id} is listed at {self._eth(r.price_wei)}.",
                         collection=token.collection, token_id=token.token_id, price_wei=price)

    def change_price(self, token: HeldToken, price: int) -> Job:
        from studio.workflows import market as wm

        return self._act("change-price", f"Changing the price of token {token.token_id}", token.owner,
                         wm.change_price, lambda r: f"Token {r.token_id} now costs {self._eth(r.price_wei)}.",
                         collection=token.collection, token_id=token.token_id, price_wei=price)

    def cancel_listing(self, token: HeldToken) -> Job:
        from studio.workflows import market as wm

        return self._act("cancel", f"Cancelling the listing of token {token.token_id}", token.owner,
                         wm.cancel_listing,
                         lambda r: f"Token {r.token_id} is no longer listed; it is back in your account.",
                         collection=token.collection, token_id=token.token_id)

    # -- offers ---------------------------------------------------------------------------------

    def make_offer(self, collection: str, token_id: int, amount: int, account: str,
                   expiry: int | None = None) -> Job:
        from studio.workflows import market as wm

        self.state.trades.check_balance(account, amount)
        return self._act("offer", f"Offering for token {token_id}", account, wm.make_offer,
                         lambda r: f"Offer of {self._eth(r.price_wei)} on token {r.token_id} made (in escrow).",
                         collection=collection, token_id=token_id, amount_wei=amount, expiry=expiry)

    def withdraw_offer(self, line: OfferLine) -> Job:
        from studio.workflows import market as wm

        offer = line.offer
        token_id = _token(offer.token_id)
        return self._act("withdraw-offer", f"Withdrawing the offer on token {token_id}", offer.buyer,
                         wm.withdraw_offer, lambda r: f"Offer withdrawn: {self._eth(r.price_wei)} is back.",
                         collection=offer.collection, token_id=token_id)

    def accept_offer(self, line: OfferLine, holder: str) -> Job:
        from studio.workflows import market as wm

        offer = line.offer
        if offer.venue != ESCROW:
            raise InputError("This is not an escrow offer.")
        token_id = _token(offer.token_id)
        if offer.status == "expired":
            raise InputError(f"This offer on token {token_id} has expired; it can no longer be accepted.")
        return self._act("accept-offer", f"Accepting the offer on token {token_id}", holder, wm.accept_offer,
                         lambda r: f"Token {r.token_id} sold for {self._eth(r.price_wei)}.",
                         collection=offer.collection, token_id=token_id, buyer=offer.buyer,
                         amount_wei=offer.amount_wei)

    def withdraw_proceeds(self, account: str) -> Job:
        from studio.workflows import market as wm

        common = self._common()
        common.pop("store")
        return self.state.actions.act("withdraw", "Withdrawing payments", account,
                              lambda kw: wm.withdraw_proceeds(**kw, **common),
                              lambda r: f"Withdrew {self._eth(r.price_wei)}.")

    # -- lazy listings --------------------------------------------------------------------------

    def buy_voucher(self, item: MarketItem, account: str) -> Job:
        from studio.workflows import lazy_listings as lw

        voucher = needed(item.voucher, "This lazy listing has no voucher to redeem.")
        return self._buy(item, account, lw.buy_voucher, minted=True, voucher=voucher)

    def lazy_list(self, collection: "Collection", work: "Work", name: str, price: int, *, description: str,
                  license_id: str, days: int, redeemer: str | None = None) -> Job:
        from pathlib import Path

        from studio.workflows.mint import MintItem

        if days < 1:
            raise InputError("A lazy listing stays valid for at least one day.")
        if not Path(work.path).is_file():
            raise InputError(f"The work's file {work.path} is gone.", hint="Choose another work.")
        item = MintItem.of_work(work, name, description=description, license=license_id)
        state = self.state
        store, wallet = state.store, state.wallet_state.wallet
        expiry = int(time.time()) + days * 86_400

        def run(kw: dict[str, Any]) -> "VoucherRow":
            from studio.config import load_config
            from studio.workflows import lazy_listings as lw
            from studio.workflows.publish import store_from_config

            content_store = store_from_config(load_config(), wallet)
            return lw.lazy_list_work(store=store, collection=collection.address, item=item, price_wei=price,
                                     content_store=content_store, expiry=expiry, redeemer=redeemer, **kw)

        return state.actions.act("lazy-list", f"Lazily listing {name.strip() or 'the work'}", collection.owner, run,
                         lambda r: f"{name.strip()} is for sale at {self._eth(r.price_wei)}; a purchase mints it "
                                   "(you paid no gas).")

    def cancel_all_lazy(self, collection: "Collection") -> Job:
        from studio.workflows import lazy_listings as lw

        return self._act("cancel-all-lazy", f"Cancelling every lazy listing of {collection.name}", collection.owner,
                         lw.cancel_all_lazy_listings,
                         lambda r: f"Every lazy listing of {collection.name} is cancelled; vouchers signed before "
                                   "can no longer be bought.", collection=collection.address)

def _token(token_id: int | None) -> int:
    return needed(token_id, "The escrow marketplace deals in one token at a time; this names none.")
