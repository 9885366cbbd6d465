"""``studio list``, ``studio buy``, ``studio offers`` and ``studio market``: selling and buying from a terminal.

    studio list COLLECTION TOKEN --price 0.1 [--expiry 7d] [--fee ADDRESS:2.5%]   # a Seaport listing, no gas
    studio list COLLECTION --bulk 1 2 3=0.2 --price 0.1                           # many tokens, one signature
    studio list COLLECTION TOKEN --change-price 0.05 | --cancel
    studio list COLLECTION --lazy METADATA.json --price 0.1 [--redeemer A] [--voucher-out F]  # a mint voucher
    studio list COLLECTION --cancel-all-lazy                                      # void every voucher at once
    studio buy COLLECTION TOKEN   |   studio buy --order ORDER.json   |   studio buy --voucher FILE
    studio offers [--make COLLECTION TOKEN|any AMOUNT | --accept COLLECTION TOKEN BUYER | --cancel ORDER_HASH |
                   --withdraw COLLECTION TOKEN | --incoming]
    studio offers cancel-all                                                      # every Seaport order, one tx
    studio market listings | mine | withdraw | opensea COLLECTION | opensea-key set|remove

Listings and offers are Seaport 1.6 orders by default (signed, no gas; offers in WETH, wrapped and
approved as needed); ``--escrow`` uses the studio's own escrow marketplace, whose listings and
offers made before still show and can be bought, cancelled and withdrawn. Each transaction's and
signature's preview is shown and asked for unless ``--yes``; amounts read like ``0.1`` (ETH),
``20gwei`` or ``1000wei``. The escrow marketplace is the studio's on the network (deployed on the
devnet, the ``marketplace_addresses`` setting elsewhere).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from studio.cli.common import (ChainSession, add_network_options, add_storage_options, confirm_preview, network_of,
                               open_session)
from studio.cli.opensea import add_post_option, register_market_commands
from studio.errors import InputError
from studio.text import printable


def register(subparsers: argparse._SubParsersAction) -> None:
    sell = subparsers.add_parser("list", help="list tokens for sale (Seaport), change a price, cancel, list lazily",
                                 description="Lists a token at a fixed price as a Seaport order you sign (no gas; the "
                                             "token stays in your wallet behind one approval of Seaport for the "
                                             "collection), many tokens under one signature with --bulk, or with "
                                             "--escrow on the studio's escrow marketplace (which holds the token). "
                                             "--lazy signs a mint voucher for a work not minted yet: the buyer's "
                                             "purchase mints it, the artist pays no gas.")
    sell.add_argument("collection", metavar="COLLECTION", help="the collection's address")
    sell.add_argument("token", nargs="?", type=int, metavar="TOKEN", help="the token number")
    action = sell.add_mutually_exclusive_group()
    action.add_argument("--change-price", metavar="AMOUNT", help="new price of your listing")
    action.add_argument("--cancel", action="store_true", help="end your listing")
    action.add_argument("--bulk", nargs="+", metavar="TOKEN[=AMOUNT]",
                        help="list these tokens under one signature (each at --price unless given)")
    action.add_argument("--lazy", type=Path, metavar="METADATA",
                        help="sign a mint voucher for this token metadata JSON (a lazy listing)")
    action.add_argument("--cancel-all-lazy", action="store_true",
                        help="void every mint voucher of the collection signed so far (one transaction)")
    sell.add_argument("--price", metavar="AMOUNT", help="price: 0.1 (ETH), 20gwei or 1000wei")
    sell.add_argument("--expiry", default="7d", metavar="WHEN",
                      help="when a Seaport listing ends: 1d, 7d (default), 30d, 12h or a UTC date 2027-01-31T18:00")
    sell.add_argument("--fee", metavar="ADDRESS:PERCENT",
                      help="a marketplace fee paid out of the price, e.g. 0xabc…:2.5%% (Seaport listings)")
    sell.add_argument("--escrow", action="store_true",
                      help="the studio's escrow marketplace instead of Seaport (it holds the token while listed)")
    sell.add_argument("--redeemer", metavar="ADDRESS", help="with --lazy: only this account may buy it")
    sell.add_argument("--voucher-out", type=Path, metavar="F", help="with --lazy: write the voucher JSON here")
    sell.add_argument("--days", type=int, default=30, help="with --lazy: days the voucher stays valid (30)")
    sell.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for each transaction")
    add_post_option(sell)
    add_network_options(sell)
    add_storage_options(sell)
    sell.set_defaults(func=run_list)

    buy = subparsers.add_parser("buy", help="buy a listed token (Seaport), an order file, or a lazy listing",
                                description="Buys the cheapest Seaport listing of a token in the order book (after "
                                            "checking it can still be filled), a Seaport order from a file (signed "
                                            "by any Seaport client), a token on the escrow marketplace with "
                                            "--escrow, or redeems a lazy listing's voucher.")
    buy.add_argument("collection", nargs="?", metavar="COLLECTION", help="the collection's address")
    buy.add_argument("token", nargs="?", type=int, metavar="TOKEN", help="the token number")
    buy.add_argument("--voucher", type=Path, metavar="FILE", help="a voucher JSON (a lazy listing) to redeem")
    buy.add_argument("--order", type=Path, metavar="FILE", help="a signed Seaport order JSON to fill")
    buy.add_argument("--price", metavar="AMOUNT", help="refuse unless the price is still this")
    buy.add_argument("--escrow", action="store_true", help="buy on the studio's escrow marketplace")
    buy.add_argument("--timeout", type=float, default=120.0)
    add_network_options(buy)
    buy.set_defaults(func=run_buy)

    offers = subparsers.add_parser("offers", help="make, accept or cancel offers (Seaport, in WETH); list yours",
                                   description="Without an option: the offers you made. Offers are Seaport orders "
                                               "in WETH (wrapped and approved as needed; your WETH stays yours until "
                                               "one is accepted); TOKEN `any` makes a collection offer. --escrow "
                                               "uses the escrow marketplace, which holds the offer's ETH until "
                                               "withdrawn or accepted.")
    what = offers.add_mutually_exclusive_group()
    what.add_argument("--make", nargs=3, metavar=("COLLECTION", "TOKEN", "AMOUNT"),
                      help="offer AMOUNT for a token (TOKEN `any`: for any token of the collection)")
    what.add_argument("--withdraw", nargs=2, metavar=("COLLECTION", "TOKEN"),
                      help="take back your escrow offer and its ETH")
    what.add_argument("--accept", nargs=3, metavar=("COLLECTION", "TOKEN", "BUYER"),
                      help="sell your token to BUYER for their offer")
    what.add_argument("--cancel", metavar="ORDER_HASH", help="cancel one of your Seaport offers")
    what.add_argument("--incoming", action="store_true", help="offers on tokens you hold or list")
    offers.add_argument("--amount", metavar="AMOUNT", help="with --accept: refuse unless the offer is still this")
    offers.add_argument("--expiry", default="7d", metavar="WHEN",
                        help="when a Seaport offer ends: 1d, 7d (default), 30d, 12h or a UTC date")
    offers.add_argument("--escrow", action="store_true", help="the studio's escrow marketplace instead of Seaport")
    offers.add_argument("--timeout", type=float, default=120.0)
    add_post_option(offers)
    add_network_options(offers)
    offers.set_defaults(func=run_offers)
    offer_commands = offers.add_subparsers(dest="offers_command", metavar="SUBCOMMAND")
    cancel_all = offer_commands.add_parser("cancel-all", help="cancel every Seaport listing and offer you signed",
                                           description="One transaction (Seaport's incrementCounter) voids every "
                                                       "order the account signed on this network so far.")
    cancel_all.add_argument("--timeout", type=float, default=120.0)
    add_network_options(cancel_all)
    cancel_all.set_defaults(func=run_cancel_all)

    market = subparsers.add_parser("market", help="the market on a network: listings, your tokens, proceeds")
    commands = market.add_subparsers(dest="market_command", metavar="SUBCOMMAND", required=True)
    listings = commands.add_parser("listings", help="read new market events, then print what is for sale")
    add_network_options(listings, signs=False)
    listings.set_defaults(func=run_listings)
    mine = commands.add_parser("mine", help="tokens an account holds or lists (after reading new events)")
    mine.add_argument("--account", help="address or wallet account name (default: the first account)")
    add_network_options(mine, signs=False)
    mine.set_defaults(func=run_mine)
    withdraw = commands.add_parser("withdraw", help="collect payments the marketplace could not send you")
    withdraw.add_argument("--to", help="where to send them (default: your account)")
    withdraw.add_argument("--timeout", type=float, default=120.0)
    add_network_options(withdraw)
    withdraw.set_defaults(func=run_withdraw)
    register_market_commands(commands)


# ---- helpers

def _amount(text: str | None, what: str) -> int:
    from studio.cli.wallet import parse_amount

    if text is None:
        raise InputError(f"Give the {what}, e.g. --price 0.1 (ETH), 20gwei or 1000wei.")
    return parse_amount(text)


def _eth(wei: int | None, currency: str | None = None) -> str:
    from studio.cli.wallet import format_eth

    if wei is None:
        return "-"
    text = format_eth(wei)
    return text.replace(" ETH", f" {currency}") if currency else text


def _confirm(args: argparse.Namespace) -> Any:
    def confirm(preview: Any) -> bool:
        if hasattr(preview, "gas_limit"):
            return confirm_preview(args, preview, "Sign and send?")
        return _confirm_signature(args, preview)

    return confirm


def _confirm_signature(args: argparse.Namespace, preview: Any) -> bool:
    """What a signature commits to on stderr (a Seaport order: its lines and who receives what, in ETH;
    a voucher: its EIP-712 fields), then the same question as for transactions."""
    if getattr(args, "yes", False):
        return True
    print(printable(f"-- {preview.action or 'Sign'}: {preview.kind} as {preview.signer} (no gas) --"),
          file=sys.stderr)
    if preview.details or preview.flows:
        for label, text in signature_lines(preview):
            print(printable(f"  {label}: {text}"), file=sys.stderr)
    else:
        for label, fields in (("domain", preview.domain), (preview.primary_type or "message", preview.fields)):
            for key, text in fields:  # what is signed, shown as it is: a field cannot rewrite the lines above
                print(printable(f"  {label}.{key}: {text}"), file=sys.stderr)
    if not sys.stdin.isatty():
        return True
    return input("Sign? [y/N] ").strip().lower() in ("y", "yes")


def signature_lines(preview: Any) -> list[tuple[str, str]]:
    """A signature preview's details and flows as lines, amounts in ETH (or WETH)."""
    from studio.chain.transactions import Amount, flow_label, flow_text

    lines = [(label, "EIP-712 " + ", ".join(f"{k}={v}" for k, v in preview.domain)) for label in ("Domain",)]
    for label, value in preview.details:
        if isinstance(value, Amount):
            value = _eth(value.wei, value.currency)
        elif isinstance(value, int):
            value = _eth(value)
        lines.append((label, str(value)))
    lines += [(flow_label(f), flow_text(f, _eth(f.amount_wei, f.currency))) for f in preview.flows]
    return lines


class _Market:
    """The network, marketplaces (escrow and Seaport) and library a market command works on."""

    def __init__(self, args: argparse.Namespace, *, signs: bool, escrow: bool = True) -> None:
        from studio.library.db import Library
        from studio.library.market import MarketStore
        from studio.library.orders import OrderStore
        from studio.workflows.collections import marketplace_address

        self.session = open_session(args) if signs else None
        if self.session is not None:
            self.network, self.connection = self.session.network, self.session.connection
        else:
            from studio.chain.networks import connect

            self.network = network_of(args)
            self.connection = connect(self.network)
        self.marketplace = marketplace_address(self.network) if escrow else ""
        self.library = Library.default()
        self.store = MarketStore(self.library)
        self.orders = OrderStore(self.library)
        self._venue: Any = None

    @property
    def venue(self) -> Any:
        """Seaport and WETH on this network (deployed on the devnet at first use)."""
        if self._venue is None:
            from studio.workflows.seaport_market import seaport_venue

            self._venue = seaport_venue(self.network, self.connection)
        return self._venue

    @property
    def seaport_venue(self) -> Any:
        """The venue when Seaport is on this network, else None (a private chain without it: escrow only)."""
        from studio.errors import NotFound

        try:
            return self.venue
        except NotFound:
            return None

    @property
    def signing(self) -> ChainSession:
        """The unlocked session of a command that signs (opened with ``signs=True``)."""
        if self.session is None:
            raise RuntimeError("This market command was opened read-only.")
        return self.session

    def common(self, args: argparse.Namespace) -> dict[str, Any]:
        return {"connection": self.connection, "signer": self.signing.signer, "marketplace": self.marketplace,
                "confirm": _confirm(args), "store": self.store, "network": self.network,
                "history": self.signing.history, "timeout": args.timeout}

    def seaport(self, args: argparse.Namespace) -> dict[str, Any]:
        """The arguments every Seaport workflow takes."""
        return {"connection": self.connection, "signer": self.signing.signer, "venue": self.venue,
                "orders": self.orders, "confirm": _confirm(args), "network": self.network,
                "history": self.signing.history, "timeout": args.timeout}

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
        self.library.close()

    def __enter__(self) -> "_Market":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _report(args: argparse.Namespace, result: Any, line: str, extra: dict[str, Any] | None = None) -> int:
    if args.json:
        print(json.dumps({**result.to_json(), **(extra or {})}))
    elif result.tx_hash is None:
        print(printable(f"{line}  (signed, no gas)"))
    else:
        print(printable(f"{line}  tx {result.tx_hash}  (fees {_eth(result.fee_wei)})"))
    return 0


def _token_number(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise InputError(f"{text!r} is not a token number.") from exc


# ---- studio list

def run_list(args: argparse.Namespace) -> int:
    if args.lazy is not None:
        return _run_lazy(args)
    if args.cancel_all_lazy:
        return _run_cancel_all_lazy(args)
    if args.escrow:
        return _escrow_list(args)
    from studio.cli.orders import seaport_list

    with _Market(args, signs=True, escrow=False) as m:
        return seaport_list(args, m)


def _escrow_list(args: argparse.Namespace) -> int:
    from studio.workflows import market as wm

    if args.token is None or args.bulk:
        raise InputError("The escrow marketplace lists one token at a time: `studio list COLLECTION TOKEN --price "
                         "0.1 --escrow`.")
    with _Market(args, signs=True) as m:
        common = {**m.common(args), "collection": args.collection, "token_id": args.token}
        if args.cancel:
            result = wm.cancel_listing(**common)
            return _report(args, result, f"token {args.token} is no longer listed")
        if args.change_price is not None:
            result = wm.change_price(**common, price_wei=_amount(args.change_price, "new price"))
            return _report(args, result, f"token {args.token} now costs {_eth(result.price_wei)}")
        result = wm.list_token(**common, price_wei=_amount(args.price, "price"))
        return _report(args, result, f"token {args.token} listed at {_eth(result.price_wei)}")


def _run_lazy(args: argparse.Namespace) -> int:
    import time

    from studio.cli.common import store_of
    from studio.fileio import atomic_write_text, read_bounded
    from studio.storage.metadata import MAX_READ_BYTES
    from studio.workflows import lazy_listings as lw

    metadata = read_bounded(args.lazy, MAX_READ_BYTES, what="The metadata file")
    if args.days < 1:
        raise InputError("A voucher stays valid for at least one day (--days).")
    content = store_of(args)
    with _Market(args, signs=True) as m:
        row = lw.lazy_list(connection=m.connection, signer=m.signing.signer, store=m.store,
                           collection=args.collection, metadata=metadata, price_wei=_amount(args.price, "price"),
                           confirm=_confirm(args), expiry=int(time.time()) + args.days * 86_400,
                           redeemer=args.redeemer, content_store=content)
    if args.voucher_out:
        atomic_write_text(args.voucher_out, row.voucher_json)
    if args.json:
        print(json.dumps({"id": row.id, "collection": row.collection, "nonce": str(row.nonce),
                          "price_wei": str(row.price_wei), "expiry": row.expiry, "epoch": row.epoch,
                          "metadata_cid": row.metadata_cid, "voucher_cid": row.voucher_cid,
                          "voucher": json.loads(row.voucher_json)}))
    else:
        where = f" (written to {args.voucher_out})" if args.voucher_out else ""
        print(f"lazy listing {row.id} at {_eth(row.price_wei)}: voucher ipfs://{row.voucher_cid}{where}")
    return 0


def _run_cancel_all_lazy(args: argparse.Namespace) -> int:
    from studio.workflows import lazy_listings as lw

    with _Market(args, signs=True) as m:
        result = lw.cancel_all_lazy_listings(connection=m.connection, signer=m.signing.signer,
                                             collection=args.collection, confirm=_confirm(args), store=m.store,
                                             marketplace=m.marketplace, network=m.network,
                                             history=m.signing.history, timeout=args.timeout)
    return _report(args, result, f"every lazy listing of {args.collection} is cancelled")


# ---- studio buy

def run_buy(args: argparse.Namespace) -> int:
    from studio.workflows import lazy_listings as lw
    from studio.workflows import market as wm

    if args.voucher is not None:
        with _Market(args, signs=True) as m:
            from studio.fileio import read_text_bounded

            text = read_text_bounded(args.voucher, lw.MAX_VOUCHER_BYTES, what="The voucher file")
            signed = lw.parse_voucher_json(text)
            if args.price is not None and _amount(args.price, "price") != signed.voucher.price_wei:
                raise InputError(f"The voucher costs {_eth(signed.voucher.price_wei)}, not {args.price}.")
            result = lw.buy_voucher(voucher=signed, **m.common(args))
            return _report(args, result, f"bought token {result.token_id} (minted to you) for "
                                         f"{_eth(result.price_wei)}")
    if not args.escrow:
        from studio.cli.orders import seaport_buy

        with _Market(args, signs=True, escrow=False) as m:
            return seaport_buy(args, m)
    if args.collection is None or args.token is None:
        raise InputError("Name what to buy: `studio buy COLLECTION TOKEN --escrow`.")
    with _Market(args, signs=True) as m:
        expected = _amount(args.price, "price") if args.price is not None else None
        result = wm.buy_listing(**m.common(args), collection=args.collection, token_id=args.token,
                                expected_price_wei=expected)
        return _report(args, result, f"bought token {args.token} for {_eth(result.price_wei)}")


# ---- studio offers

def run_offers(args: argparse.Namespace) -> int:
    if args.make or args.withdraw or args.accept or args.cancel:
        if args.withdraw or args.escrow:
            return _escrow_offers(args)
        from studio.cli.orders import seaport_offers

        with _Market(args, signs=True, escrow=False) as m:
            return seaport_offers(args, m)
    from studio.cli.orders import offer_lines

    address = _account_address(args)
    with _Market(args, signs=False) as m:
        rows = offer_lines(m, address, incoming=args.incoming)
    if args.json:
        print(json.dumps(rows))
    else:
        for o in rows:
            what = f"token {o['token_id']}" if o["token_id"] is not None else "any token"
            currency = "WETH" if o["venue"] == "seaport" else None
            status = "" if o["status"] == "active" else f"  ({o['status']})"
            print(printable(f"{o['collection']}  {what}  {_eth(int(o['amount_wei']), currency)}  from {o['buyer']}  "
                            f"[{o['venue']}{' ' + o['order_hash'] if o.get('order_hash') else ''}]{status}"))
        if not rows:
            print("No offers." if args.incoming else "You have no open offers.", file=sys.stderr)
    return 0


def _escrow_offers(args: argparse.Namespace) -> int:
    from studio.workflows import market as wm

    if args.cancel:
        raise InputError("Escrow offers are withdrawn, not cancelled: `studio offers --withdraw COLLECTION TOKEN`.")
    with _Market(args, signs=True) as m:
        common = m.common(args)
        if args.make:
            collection, token, amount = args.make
            result = wm.make_offer(**common, collection=collection, token_id=_token_number(token),
                                   amount_wei=_amount(amount, "amount"))
            return _report(args, result, f"offer of {_eth(result.price_wei)} on token {token} (in escrow)")
        if args.withdraw:
            collection, token = args.withdraw
            result = wm.withdraw_offer(**common, collection=collection, token_id=_token_number(token))
            return _report(args, result, f"offer on token {token} withdrawn ({_eth(result.price_wei)} back)")
        collection, token, buyer = args.accept
        expected = _amount(args.amount, "amount") if args.amount is not None else None
        result = wm.accept_offer(**common, collection=collection, token_id=_token_number(token), buyer=buyer,
                                 amount_wei=expected)
        return _report(args, result, f"token {token} sold to {buyer} for {_eth(result.price_wei)}")


def run_cancel_all(args: argparse.Namespace) -> int:
    from studio.workflows.seaport_market import cancel_all_orders

    with _Market(args, signs=True, escrow=False) as m:
        result = cancel_all_orders(**m.seaport(args))
    return _report(args, result, f"every Seaport order you signed is cancelled ({result.cancelled} in the library)")


def _account_address(args: argparse.Namespace) -> str:
    from studio.chain.wallet import Wallet

    wallet = Wallet.default()
    if not wallet.exists:
        if args.account:
            from studio.chain.contracts import checksum

            return checksum(args.account, "account")
        raise InputError("There is no wallet, so there is no account to look at.",
                         hint="Give an address with --account, or create a wallet.")
    return wallet.account(getattr(args, "account", None)).address


# ---- studio market

def run_listings(args: argparse.Namespace) -> int:
    from studio.workflows import market as wm
    from studio.workflows.seaport_market import refresh_orders

    with _Market(args, signs=False) as m:
        sync = wm.sync_market(m.connection, m.marketplace, m.store,
                              progress=None if args.json else lambda f, line: None)
        chain_id = m.connection.chain_id
        listings = m.store.active_listings(chain_id, m.marketplace)
        vouchers = m.store.vouchers(chain_id)
        venue = m.seaport_venue
        orders = [o for o in refresh_orders(m.connection, venue, m.orders) if o.kind == "listing"] if venue else []
        orders.sort(key=lambda o: (o.price_wei, o.created))
    if args.json:
        print(json.dumps({"network": m.network.key, "marketplace": m.marketplace, "block": sync.last_block,
                          "seaport": venue.seaport if venue else None,
                          "orders": [{"order_hash": o.order_hash, "collection": o.collection, "token_id": o.token_id,
                                      "seller": o.offerer, "price_wei": str(o.price_wei), "end_time": o.end_time}
                                     for o in orders],
                          "listings": [{"collection": l.collection, "token_id": l.token_id, "seller": l.seller,
                                        "price_wei": str(l.price_wei), "listed_block": l.listed_block}
                                       for l in listings],
                          "lazy": [{"id": v.id, "collection": v.collection, "artist": v.artist,
                                    "price_wei": str(v.price_wei), "expiry": v.expiry,
                                    "metadata_cid": v.metadata_cid, "voucher_cid": v.voucher_cid}
                                   for v in vouchers]}))
        return 0
    print(f"{m.network.name}, read up to block {sync.last_block}", file=sys.stderr)
    for o in orders:
        print(f"{o.collection}  token {o.token_id}  {_eth(o.price_wei)}  seller {o.offerer}  [seaport, until "
              f"{_date(o.end_time)}]")
    for l in listings:
        print(f"{l.collection}  token {l.token_id}  {_eth(l.price_wei)}  seller {l.seller}  [escrow]")
    for v in vouchers:
        print(printable(f"{v.collection}  lazy listing {v.id}  {_eth(v.price_wei)}  artist {v.artist}  "
                        f"metadata ipfs://{v.metadata_cid}"))
    if not listings and not vouchers and not orders:
        print("Nothing is for sale.", file=sys.stderr)
    return 0


def _date(timestamp: int) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))


def run_mine(args: argparse.Namespace) -> int:
    from studio.workflows import market as wm

    address = _account_address(args)
    with _Market(args, signs=False) as m:
        from studio.workflows.seaport_market import refresh_orders

        wm.sync_market(m.connection, m.marketplace, m.store)
        tokens = m.store.my_tokens(m.connection.chain_id, address)
        listed = {}
        if m.seaport_venue is not None:
            refresh_orders(m.connection, m.venue, m.orders, offerer=address)
            listed = {(o.collection.lower(), o.token_id): o for o in m.orders.orders(
                m.connection.chain_id, kind="listing", offerer=address) if o.collection}
    rows: list[dict[str, Any]] = []
    for t in tokens:
        order = listed.get((t.collection.lower(), t.token_id))
        venue = "escrow" if t.listed else "seaport" if order is not None else None
        price = t.price_wei if t.listed else order.price_wei if order is not None else None
        rows.append({"collection": t.collection, "token_id": t.token_id, "listed": venue is not None,
                     "venue": venue, "price_wei": None if price is None else str(price)})
    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            print(f"{r['collection']}  token {r['token_id']}" + (
                f"  listed at {_eth(int(r['price_wei']))} [{r['venue']}]" if r["listed"] else ""))
        if not rows:
            print(f"{address} holds no token the market has seen.", file=sys.stderr)
    return 0


def run_withdraw(args: argparse.Namespace) -> int:
    from studio.workflows import market as wm

    with _Market(args, signs=True) as m:
        result = wm.withdraw_proceeds(connection=m.connection, signer=m.signing.signer, marketplace=m.marketplace,
                                      confirm=_confirm(args), to=args.to, network=m.network,
                                      history=m.signing.history, timeout=args.timeout)
    return _report(args, result, f"withdrew {_eth(result.price_wei)}")
