"""The Market's trades, as the acting account: buy, list one token or many, change a price, cancel, list
lazily, offer, withdraw or accept an offer, cancel Seaport orders, collect escrow payments, and quote a
sale. Each refuses at once what needs no node (a locked wallet, a bad price, another account's token,
one's own listing, too little balance), then hands the work to the venue it belongs to: Seaport
(:mod:`~studio.ui.state.market_seaport`) or the escrow marketplace (:mod:`~studio.ui.state.market_escrow`).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from studio.errors import InputError, WalletLocked
from studio.ui.money import format_eth, parse_eth, short_address
from studio.ui.widgets.market_tables import LAZY, SEAPORT, HeldToken, MarketItem, OfferLine, OrderLine
from studio.ui.workers import FunctionJob, Job

if TYPE_CHECKING:
    from studio.library.db import Collection, Work
    from studio.ui.state.market import MarketState


class MarketTrades:
    """Every market action of one MarketState, checked and sent to its venue."""

    def __init__(self, state: "MarketState") -> None:
        self.state = state

    # -- listings -------------------------------------------------------------------------------

    def buy(self, item: MarketItem) -> Job:
        """Buy a listing at the price shown (a Seaport order, an escrow listing or a lazy listing), as the
        acting account."""
        account = self._signing_account("buy")
        if item.seller.lower() == account.lower():
            raise InputError("This is your own listing.", hint="Choose another account to buy it, or cancel it.")
        self.check_balance(account, item.price_wei)
        if item.kind == SEAPORT:
            return self.state.seaport.buy(item, account)
        if item.kind == LAZY:
            return self.state.escrow.buy_voucher(item, account)
        return self.state.escrow.buy(item, account)

    def list_token(self, token: HeldToken, price_text: str, *, duration: int | None = None,
                   until: int | None = None, escrow: bool = False, opensea: bool = False) -> Job:
        """List a token the wallet holds: a Seaport order until `until` (or `duration` seconds; 7 days by
        default; Seaport approved for the collection first if needed), or on the escrow marketplace.
        `opensea`: also post the signed order to OpenSea (checked before anything is signed)."""
        if token.listed:
            raise InputError(f"Token {token.token_id} is already listed.", hint="Change its price instead.")
        price = self.parse_price(price_text)
        self._signing_account("list a token", token.owner)
        if escrow or not self.state.has_seaport:
            if opensea:
                raise InputError("OpenSea takes Seaport orders, not escrow listings.")
            return self.state.escrow.list_token(token, price)
        publish = self.state.opensea.publisher() if opensea else None
        return self.state.seaport.list_tokens([token], [price], duration=duration, until=until, publish=publish)

    def list_tokens(self, tokens: list[HeldToken], price_texts: list[str], *, duration: int | None = None,
                    until: int | None = None) -> Job:
        """List many tokens with one signature (Seaport's bulk order), each at its price."""
        if not tokens:
            raise InputError("Select the tokens to list.")
        if len(price_texts) != len(tokens):
            raise InputError("Give each token a price.")
        if not self.state.has_seaport:
            raise InputError(f"{self.state.network.name} has no Seaport: list tokens one by one on the escrow "
                             "marketplace.")
        prices = [self.parse_price(text, f"The price of token {t.token_id}") for t, text in zip(tokens, price_texts)]
        owners = {t.owner.lower() for t in tokens}
        for token in tokens:
            if token.listed:
                raise InputError(f"Token {token.token_id} is already listed.", hint="Leave it out of the selection.")
        self._signing_account("list tokens", tokens[0].owner if len(owners) == 1 else "")
        return self.state.seaport.list_tokens(tokens, prices, duration=duration, until=until)

    def change_price(self, token: HeldToken, price_text: str, *, duration: int | None = None,
                     until: int | None = None) -> Job:
        if not token.listed:
            raise InputError(f"Token {token.token_id} is not listed.", hint="List it first.")
        price = self.parse_price(price_text)
        if price == token.price_wei:
            raise InputError("That is the price it has now.")
        self._signing_account("change a price", token.owner)
        if token.venue == SEAPORT:
            return self.state.seaport.change_price(token, price, duration=duration, until=until)
        return self.state.escrow.change_price(token, price)

    def cancel_listing(self, token: HeldToken) -> Job:
        if not token.listed:
            raise InputError(f"Token {token.token_id} is not listed.")
        self._signing_account("cancel a listing", token.owner)
        if token.venue == SEAPORT:
            return self.state.seaport.cancel_listing(token)
        return self.state.escrow.cancel_listing(token)

    def lazy_list(self, collection: "Collection", work: "Work", name: str, price_text: str, *,
                  description: str = "", license_id: str = "all-rights-reserved", days: int = 30,
                  redeemer: str | None = None) -> Job:
        """List a work without minting it: store its image, sign a mint voucher (no gas)."""
        price = self.parse_price(price_text)
        self._signing_account("sign a lazy listing", collection.owner)
        return self.state.escrow.lazy_list(collection, work, name, price, description=description,
                                           license_id=license_id, days=days, redeemer=redeemer or None)

    def cancel_all_lazy(self, collection: "Collection") -> Job:
        """Void every mint voucher of one of the acting account's collections (one transaction)."""
        self._signing_account("cancel its lazy listings", collection.owner)
        return self.state.escrow.cancel_all_lazy(collection)

    # -- offers and orders -------------------------------------------------------------

    def make_offer(self, collection: str, token_id: int | None, amount_text: str, *, duration: int | None = None,
                   until: int | None = None, escrow: bool = False, opensea: bool = False) -> Job:
        """Offer for a token (or, with `token_id` None, for any token of the collection) as the acting
        account: a Seaport order in WETH by default, or ETH held by the escrow marketplace. `opensea`: also
        post the signed offer to OpenSea (one token's offer; checked before anything is signed)."""
        account = self._signing_account("make an offer")
        amount = self.parse_price(amount_text, "An offer")
        if token_id is not None and any(t.collection.lower() == collection.lower() and t.token_id == token_id
                                        and t.owner.lower() == account.lower() for t in self.state.held.rows()):
            raise InputError(f"Token {token_id} is yours; an offer is for someone else's token.")
        if escrow or not self.state.has_seaport:
            if token_id is None:
                raise InputError("The escrow marketplace takes offers for one token, not for a collection.")
            expiry = until if until is not None else (int(time.time()) + duration if duration else None)
            return self.state.escrow.make_offer(collection, token_id, amount, account, expiry)
        if opensea and token_id is None:
            raise InputError("OpenSea takes collection offers by its own collection slug; the studio keeps them in "
                             "its own order book.", hint="Untick \"Also post to OpenSea\", or offer for one token.")
        publish = self.state.opensea.publisher() if opensea else None
        return self.state.seaport.make_offer(collection, token_id, amount, account, duration=duration, until=until,
                                       publish=publish)

    def withdraw_offer(self, line: OfferLine) -> Job:
        """Take back one's own offer: withdraw an escrow offer's ETH, or cancel a Seaport offer."""
        offer = line.offer
        self._signing_account("withdraw an offer", offer.buyer)
        if offer.venue == SEAPORT and offer.order is not None:
            return self.state.seaport.cancel_order(OrderLine(offer.order))
        return self.state.escrow.withdraw_offer(line)

    def accept_offer(self, line: OfferLine) -> Job:
        """Sell a token the wallet holds to the buyer of an incoming offer, for that offer."""
        offer = line.offer
        token_id = line.token_id if line.token_id is not None else offer.token_id
        holder = line.account or next((t.owner for t in self.state.held.rows() if t.collection.lower() ==
                                       offer.collection.lower() and t.token_id == token_id), None)
        if holder is None:
            raise InputError(f"Token {token_id} is not in your collection any more.", hint="Refresh the market.")
        holder = self._signing_account("accept an offer", holder)
        if offer.venue == SEAPORT:
            return self.state.seaport.accept_offer(line, holder)
        return self.state.escrow.accept_offer(line, holder)

    def cancel_order(self, line: OrderLine) -> Job:
        """Cancel one of the acting account's Seaport orders on chain."""
        self._signing_account("cancel an order", line.order.offerer)
        return self.state.seaport.cancel_order(line)

    def cancel_all_orders(self) -> Job:
        """Cancel every Seaport listing and offer the acting account signed (one transaction)."""
        account = self._signing_account("cancel all orders")
        self.state.venue()
        return self.state.seaport.cancel_all(account)

    def withdraw_proceeds(self) -> Job:
        """Collect payments the escrow marketplace holds for the acting account (pull payments)."""
        return self.state.escrow.withdraw_proceeds(self._signing_account("withdraw payments"))

    # -- what every action checks ----------------------------------------------------------------

    def _signing_account(self, what: str, owner: str | None = None) -> str:
        """The acting account, which signs; refused while locked, and when what is acted on (a token,
        an offer, a collection) belongs to another account (``owner``): switch to it first."""
        if not self.state.wallet_state.wallet.is_unlocked:
            raise WalletLocked("The wallet is locked.", hint=f"Unlock it to {what}.")
        address = self.state.acting_account
        if not address or self.state.wallet_state.accounts.index_of(address) < 0:
            raise InputError(f"{short_address(address) or 'No account'} is not an account of this wallet.",
                             hint="Choose one of the wallet's accounts.")
        if owner == "":
            raise InputError("The selection holds tokens of several accounts; one signature lists one account's.")
        if owner is not None and owner.lower() != address.lower():
            name = self.state.account_name
            raise InputError(f"This belongs to {name(owner)}, not to {name(address)}, who is acting now: nothing "
                             "was signed.", hint=f"Choose {name(owner)} in the Market's header to {what}.")
        self.state.marketplace()
        return self.state.wallet_state.account_row(address).address

    def check_balance(self, account: str, amount_wei: int) -> None:
        """Refuse what costs more than the account holds (as last read)."""
        balance = self.state.wallet_state.account_row(account).balance_wei
        if balance is not None and balance < amount_wei:
            currency = self.state.network.currency
            raise InputError(f"This costs {format_eth(amount_wei, currency)}, but the account holds only "
                             f"{format_eth(balance, currency)}.", hint="Add funds or choose another account.")

    # -- what the sell dialog asks -------------------------------------------------------------

    def quote(self, collection: str, token_id: int, price_text: str, *, escrow: bool = False,
              seller: str | None = None) -> Job:
        """How a price splits (royalty, marketplace fee, what the seller receives); result: a SaleQuote.
        A Seaport listing pays the creator's royalty as the collection answers it and no fee."""
        price = self.parse_price(price_text)
        marketplace = self.state.marketplace()
        session = self.state.wallet_state.session
        escrow = escrow or not self.state.has_seaport
        seller = seller or self.state.acting_account

        def work(_progress: Any, _cancel: Any) -> Any:
            if escrow:
                from studio.workflows.market import quote_listing

                return quote_listing(session.connection(), marketplace, collection, token_id, price)
            from studio.workflows.seaport_market import listing_quote

            return listing_quote(session.connection(), collection, token_id, price, seller)

        return self.state.background.start(FunctionJob("Quoting the sale", work))

    def parse_price(self, text: str, what: str = "A price") -> int:
        """A price typed in the network's currency, in wei (more than zero)."""
        price = parse_eth(text, self.state.network.currency)
        if price <= 0:
            raise InputError(f"{what} must be more than zero.")
        return price
