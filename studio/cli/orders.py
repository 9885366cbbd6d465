"""The Seaport side of ``studio list``, ``studio buy`` and ``studio offers`` (the default venue): listings
signed without gas (one token, or many under one bulk signature), buying from the order book or from
an order file, WETH offers for a token or a collection, accepting and cancelling them.

The order book is the library's (`OrderStore`): it is read again against the chain before anything
is bought or accepted, so an order whose token moved, whose approval was revoked or that expired
is refused with the reason, never filled.
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from studio.cli.opensea import publisher_for, report_posting
from studio.errors import InputError, NotFound

if TYPE_CHECKING:
    from studio.cli.market import _Market
    from studio.library.orders import OrderRow


def _end_time(args: argparse.Namespace, m: "_Market") -> int:
    from studio.workflows.seaport_market import parse_expiry

    return parse_expiry(args.expiry, m.connection.latest_block_time())


def parse_fee(text: str | None) -> tuple[str, int] | None:
    """``ADDRESS:2.5%`` (or ``ADDRESS:250bps``) as (recipient, basis points); None without a fee."""
    from studio.workflows.collections import parse_royalty

    if not text:
        return None
    recipient, sep, share = text.partition(":")
    if not sep:
        raise InputError(f"{text[:60]!r} is not a fee.", hint="Write it as ADDRESS:PERCENT, e.g. 0xabc…:2.5%.")
    try:
        bps = parse_royalty(share)
    except InputError as exc:
        raise InputError(f"{share!r} is not a fee share (examples: 2.5%, 250bps; at most 10%).") from exc
    return recipient.strip(), bps


def _bulk_items(args: argparse.Namespace) -> list[Any]:
    from studio.cli.market import _amount, _token_number
    from studio.workflows.seaport_market import ListingItem

    items = []
    for entry in args.bulk:
        token, sep, price = entry.partition("=")
        items.append(ListingItem(args.collection, _token_number(token),
                                 _amount(price if sep else args.price, f"price of token {token}")))
    return items


def seaport_list(args: argparse.Namespace, m: "_Market") -> int:
    from studio.cli.market import _amount, _eth, _report
    from studio.workflows import seaport_market as sm

    kw = m.seaport(args)
    publish = publisher_for(args, m.signing.wallet, m.connection.chain_id)  # checked before anything is signed
    if args.bulk:
        result = sm.bulk_list(**kw, items=_bulk_items(args), end_time=_end_time(args, m), fee=parse_fee(args.fee),
                              publish=publish)
        return _report(args, result, f"{len(result.orders)} tokens listed with one signature until "
                                     f"{_date(result.orders[0].end_time)}", report_posting(args, publish))
    if args.token is None:
        raise InputError("Name the token to list: `studio list COLLECTION TOKEN --price 0.1` (or --bulk TOKEN…).")
    if args.cancel or args.change_price is not None:
        sm.refresh_orders(m.connection, m.venue, m.orders, offerer=m.signing.signer.address,
                          collection=args.collection)
        mine = _listings_of(m, args.collection, args.token, m.signing.signer.address)
        if not mine:
            hint = "It may be listed on the escrow marketplace: add --escrow." if _escrow_listed(m, args) else \
                "`studio market mine` shows what you list."
            raise InputError(f"You have no open Seaport listing of token {args.token}.", hint=hint)
        result = sm.cancel_order(**kw, order=mine[0])
        if args.cancel:
            return _report(args, result, f"token {args.token} is no longer listed")
        relisted = sm.list_with_seaport(**kw, collection=args.collection, token_id=args.token,
                                        price_wei=_amount(args.change_price, "new price"),
                                        end_time=_end_time(args, m), fee=parse_fee(args.fee), publish=publish)
        combined = sm.SeaportReceipt("change-price", relisted.orders, result.receipts + relisted.receipts)
        return _report(args, combined, f"token {args.token} now costs {_eth(combined.price_wei)}",
                       report_posting(args, publish))
    result = sm.list_with_seaport(**kw, collection=args.collection, token_id=args.token,
                                  price_wei=_amount(args.price, "price"), end_time=_end_time(args, m),
                                  fee=parse_fee(args.fee), publish=publish)
    return _report(args, result, f"token {args.token} listed at {_eth(result.price_wei)} until "
                                 f"{_date(result.orders[0].end_time)}", report_posting(args, publish))


def seaport_buy(args: argparse.Namespace, m: "_Market") -> int:
    from studio.cli.market import _amount, _eth, _report
    from studio.fileio import read_text_bounded
    from studio.workflows import seaport_market as sm

    if args.order is not None:
        text = read_text_bounded(args.order, sm.MAX_ORDER_BYTES, what="The order file")
        order: Any = sm.import_order(m.orders, m.connection.chain_id, m.venue, text)
    else:
        if args.collection is None or args.token is None:
            raise InputError("Name what to buy: `studio buy COLLECTION TOKEN`, `studio buy --order FILE` or "
                             "`studio buy --voucher FILE`.")
        sm.refresh_orders(m.connection, m.venue, m.orders, collection=args.collection)
        listings = [o for o in m.orders.orders(m.connection.chain_id, seaport=m.venue.seaport, kind="listing",
                                               collection=args.collection, token_id=args.token)
                    if o.offerer.lower() != m.signing.signer.address.lower()]
        if not listings:
            hint = "It is listed on the escrow marketplace: add --escrow." if _escrow_listed(m, args) else \
                "`studio market listings` shows what is for sale."
            raise InputError(f"Token {args.token} is not listed for sale on Seaport.", hint=hint)
        order = listings[0]
    if args.price is not None and _amount(args.price, "price") != order.price_wei:
        raise InputError(f"The listing costs {_eth(order.price_wei)}, not {args.price}; nothing was bought.",
                         hint="Review the price.")
    result = sm.buy_order(**m.seaport(args), order=order)
    return _report(args, result, f"bought token {result.token_id} for {_eth(result.price_wei)}")


def seaport_offers(args: argparse.Namespace, m: "_Market") -> int:
    from studio.cli.market import _amount, _eth, _report, _token_number
    from studio.workflows import seaport_market as sm

    kw = m.seaport(args)
    me = m.signing.signer.address
    if args.make:
        collection, token, amount = args.make
        token_id = None if token.strip().lower() in ("any", "*") else _token_number(token)
        publish = publisher_for(args, m.signing.wallet, m.connection.chain_id)
        result = sm.make_seaport_offer(**kw, collection=collection, token_id=token_id,
                                       amount_wei=_amount(amount, "amount"), end_time=_end_time(args, m),
                                       publish=publish)
        what = f"token {token_id}" if token_id is not None else "any token of the collection"
        return _report(args, result, f"offer of {_eth(result.price_wei, 'WETH')} for {what} until "
                                     f"{_date(result.orders[0].end_time)} (order {result.orders[0].order_hash})",
                       report_posting(args, publish))
    if args.cancel:
        row = _own_order(m, args.cancel, me)
        result = sm.cancel_order(**kw, order=row)
        return _report(args, result, f"order {row.order_hash} cancelled")
    collection, token, buyer = args.accept
    token_id = _token_number(token)
    from studio.chain.contracts import checksum

    buyer = checksum(buyer, "buyer")
    sm.refresh_orders(m.connection, m.venue, m.orders, collection=collection)
    offers = [o for o in m.orders.orders(m.connection.chain_id, seaport=m.venue.seaport, collection=collection,
                                         token_id=token_id, offerer=buyer) if o.kind != "listing"]
    if args.amount is not None:
        offers = [o for o in offers if o.price_wei == _amount(args.amount, "amount")]
    if not offers:
        raise InputError(f"{buyer} has no open Seaport offer on token {token_id}" +
                         (f" of {args.amount}" if args.amount else "") + ".",
                         hint="`studio offers --incoming` shows the offers on your tokens; escrow offers take "
                              "--escrow.")
    result = sm.accept_seaport_offer(**kw, order=offers[0], token_id=token_id)
    return _report(args, result, f"token {token_id} sold to {buyer} for {_eth(result.price_wei, 'WETH')}")


def offer_lines(m: "_Market", address: str, *, incoming: bool) -> list[dict[str, Any]]:
    """Offers an account made (escrow and Seaport), or those on the tokens it holds, as JSON values."""
    from studio.workflows import market as wm
    from studio.workflows.seaport_market import refresh_orders

    chain_id = m.connection.chain_id
    lines: list[dict[str, Any]] = []
    if incoming:
        escrow = wm.incoming_offers(m.connection, m.marketplace, m.store, address)
    else:
        wm.sync_market(m.connection, m.marketplace, m.store)
        escrow = m.store.offers_by(chain_id, address)
    now = m.connection.latest_block_time()
    lines += [{"venue": "escrow", "collection": o.collection, "token_id": o.token_id, "buyer": o.buyer,
               "amount_wei": str(o.amount_wei), "status": "expired" if o.expired(now) else o.status,
               "expiry": o.expiry} for o in escrow]
    if m.seaport_venue is None:  # no Seaport on this network: escrow offers only
        return lines
    refresh_orders(m.connection, m.venue, m.orders)
    if incoming:
        held = m.store.my_tokens(chain_id, address)
        seen: set[str] = set()
        orders = []
        for token in held:
            for o in m.orders.orders(chain_id, seaport=m.venue.seaport, collection=token.collection,
                                     token_id=token.token_id):
                if o.kind != "listing" and o.order_hash not in seen and o.offerer.lower() != address.lower():
                    seen.add(o.order_hash)
                    orders.append(o)
    else:
        orders = [o for o in m.orders.orders(chain_id, seaport=m.venue.seaport, offerer=address, status=None)
                  if o.kind != "listing" and o.status in ("active", "unfillable") and not o.expired(now)]
    lines += [{"venue": "seaport", "collection": o.collection, "token_id": o.token_id, "buyer": o.offerer,
               "amount_wei": str(o.price_wei), "status": o.status, "expiry": o.end_time,
               "order_hash": o.order_hash, "kind": o.kind, "reason": o.status_reason} for o in orders]
    return lines


def _listings_of(m: "_Market", collection: str, token_id: int, seller: str) -> list["OrderRow"]:
    return [o for o in m.orders.orders(m.connection.chain_id, seaport=m.venue.seaport, kind="listing",
                                       collection=collection, token_id=token_id, offerer=seller)]


def _own_order(m: "_Market", order_hash: str, me: str) -> "OrderRow":
    try:
        row = m.orders.get(m.connection.chain_id, m.venue.seaport, order_hash)
    except NotFound as exc:
        raise InputError(f"The library has no order {order_hash[:80]}.",
                         hint="`studio offers --json` lists your offers with their order hashes.") from exc
    if row.offerer.lower() != me.lower():
        raise InputError(f"Order {order_hash} was signed by {row.offerer}, not by {me}.",
                         hint="Choose the account that signed it with --account.")
    return row


def _escrow_listed(m: "_Market", args: argparse.Namespace) -> bool:
    """Whether the token is listed on the escrow marketplace (to point at --escrow)."""
    from studio.chain.contracts import MarketplaceContract
    from studio.workflows.collections import marketplace_address

    try:
        market = MarketplaceContract(m.connection, marketplace_address(m.network))
        return market.listing(args.collection, args.token) is not None
    except Exception:  # noqa: BLE001 - a hint only: no escrow marketplace on this network is "no"
        return False


def _date(timestamp: int) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))
