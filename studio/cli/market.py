"""``studio list``, ``studio buy``, ``studio offers`` and ``studio market``: selling and buying from a terminal.

    studio list COLLECTION TOKEN --price 0.1            # approve if needed, then list (custody)
    studio list COLLECTION TOKEN --change-price 0.05 | --cancel
    studio list COLLECTION --lazy METADATA.json --price 0.1 [--voucher-out F]   # sign a mint voucher, no gas
    studio buy COLLECTION TOKEN   |   studio buy --voucher FILE
    studio offers [--make COLLECTION TOKEN AMOUNT | --withdraw COLLECTION TOKEN |
                   --accept COLLECTION TOKEN BUYER | --incoming]
    studio market listings | mine | withdraw

Each transaction's preview is shown and asked for unless ``--yes``; amounts read like ``0.1``
(ETH), ``20gwei`` or ``1000wei``. The marketplace is the studio's on the network (deployed on the
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
from studio.errors import InputError
from studio.text import printable


def register(subparsers: argparse._SubParsersAction) -> None:
    sell = subparsers.add_parser("list", help="list a token for sale, change its price, cancel, or list lazily",
                                 description="Lists a token at a fixed price (the marketplace holds it until sold "
                                             "or cancelled), or with --lazy signs a mint voucher for a work not "
                                             "minted yet: the buyer's purchase mints it, the artist pays no gas.")
    sell.add_argument("collection", metavar="COLLECTION", help="the collection's address")
    sell.add_argument("token", nargs="?", type=int, metavar="TOKEN", help="the token number")
    action = sell.add_mutually_exclusive_group()
    action.add_argument("--change-price", metavar="AMOUNT", help="new price of your listing")
    action.add_argument("--cancel", action="store_true", help="end your listing; the token comes back")
    action.add_argument("--lazy", type=Path, metavar="METADATA",
                        help="sign a mint voucher for this token metadata JSON (a lazy listing)")
    sell.add_argument("--price", metavar="AMOUNT", help="price: 0.1 (ETH), 20gwei or 1000wei")
    sell.add_argument("--voucher-out", type=Path, metavar="F", help="with --lazy: write the voucher JSON here")
    sell.add_argument("--days", type=int, default=30, help="with --lazy: days the voucher stays valid (30)")
    sell.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for each transaction")
    add_network_options(sell)
    add_storage_options(sell)
    sell.set_defaults(func=run_list)

    buy = subparsers.add_parser("buy", help="buy a listed token, or redeem a lazy listing's voucher")
    buy.add_argument("collection", nargs="?", metavar="COLLECTION", help="the collection's address")
    buy.add_argument("token", nargs="?", type=int, metavar="TOKEN", help="the token number")
    buy.add_argument("--voucher", type=Path, metavar="FILE", help="a voucher JSON (a lazy listing) to redeem")
    buy.add_argument("--price", metavar="AMOUNT", help="refuse unless the price is still this")
    buy.add_argument("--timeout", type=float, default=120.0)
    add_network_options(buy)
    buy.set_defaults(func=run_buy)

    offers = subparsers.add_parser("offers", help="make, withdraw or accept offers; list yours or incoming ones",
                                   description="Without an option: the offers you made. Offers hold your ETH in "
                                               "escrow until withdrawn or accepted.")
    what = offers.add_mutually_exclusive_group()
    what.add_argument("--make", nargs=3, metavar=("COLLECTION", "TOKEN", "AMOUNT"), help="offer AMOUNT for a token")
    what.add_argument("--withdraw", nargs=2, metavar=("COLLECTION", "TOKEN"), help="take back your offer")
    what.add_argument("--accept", nargs=3, metavar=("COLLECTION", "TOKEN", "BUYER"),
                      help="sell your token to BUYER for their offer")
    what.add_argument("--incoming", action="store_true", help="offers on tokens you hold or list")
    offers.add_argument("--amount", metavar="AMOUNT", help="with --accept: refuse unless the offer is still this")
    offers.add_argument("--timeout", type=float, default=120.0)
    add_network_options(offers)
    offers.set_defaults(func=run_offers)

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


# ---- helpers

def _amount(text: str | None, what: str) -> int:
    from studio.cli.wallet import parse_amount

    if text is None:
        raise InputError(f"Give the {what}, e.g. --price 0.1 (ETH), 20gwei or 1000wei.")
    return parse_amount(text)


def _eth(wei: int | None) -> str:
    from studio.cli.wallet import format_eth

    return "-" if wei is None else format_eth(wei)


def _confirm(args: argparse.Namespace):
    def confirm(preview: Any) -> bool:
        if hasattr(preview, "gas_limit"):
            return confirm_preview(args, preview, "Sign and send?")
        return _confirm_signature(args, preview)

    return confirm


def _confirm_signature(args: argparse.Namespace, preview: Any) -> bool:
    """An EIP-712 voucher's fields on stderr, then the same question as for transactions."""
    if getattr(args, "yes", False):
        return True
    print(printable(f"-- Sign {preview.kind} as {preview.signer} (no gas) --"), file=sys.stderr)
    for label, fields in (("domain", preview.domain), (preview.primary_type or "message", preview.fields)):
        for key, text in fields:  # what is signed, shown as it is: a field cannot rewrite the lines above
            print(printable(f"  {label}.{key}: {text}"), file=sys.stderr)
    if not sys.stdin.isatty():
        return True
    return input("Sign? [y/N] ").strip().lower() in ("y", "yes")


class _Market:
    """The network, marketplace and library a market command works on."""

    def __init__(self, args: argparse.Namespace, *, signs: bool) -> None:
        from studio.library.db import Library
        from studio.library.market import MarketStore
        from studio.workflows.collections import marketplace_address

        self.session = open_session(args) if signs else None
        if self.session is not None:
            self.network, self.connection = self.session.network, self.session.connection
        else:
            from studio.chain.networks import connect

            self.network = network_of(args)
            self.connection = connect(self.network)
        self.marketplace = marketplace_address(self.network)
        self.library = Library.default()
        self.store = MarketStore(self.library)

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

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
        self.library.close()

    def __enter__(self) -> "_Market":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _report(args: argparse.Namespace, result: Any, line: str) -> int:
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(printable(f"{line}  tx {result.tx_hash}  (fees {_eth(result.fee_wei)})"))
    return 0


# ---- commands

def run_list(args: argparse.Namespace) -> int:
    from studio.workflows import market as wm
    from studio.workflows import lazy_listings as lw

    if args.lazy is not None:
        return _run_lazy(args)
    if args.token is None:
        raise InputError("Name the token to list: `studio list COLLECTION TOKEN --price 0.1`.")
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
    from studio.fileio import atomic_write_text
    from studio.workflows import market as wm
    from studio.workflows import lazy_listings as lw

    from studio.fileio import read_bounded
    from studio.storage.metadata import MAX_READ_BYTES

    metadata = read_bounded(args.lazy, MAX_READ_BYTES, what="The metadata file")
    if args.days < 1:
        raise InputError("A voucher stays valid for at least one day (--days).")
    content = store_of(args)
    with _Market(args, signs=True) as m:
        row = lw.lazy_list(connection=m.connection, signer=m.signing.signer, store=m.store,
                           collection=args.collection, metadata=metadata, price_wei=_amount(args.price, "price"),
                           confirm=_confirm(args), expiry=int(time.time()) + args.days * 86_400,
                           content_store=content)
    if args.voucher_out:
        atomic_write_text(args.voucher_out, row.voucher_json)
    if args.json:
        print(json.dumps({"id": row.id, "collection": row.collection, "nonce": str(row.nonce),
                          "price_wei": str(row.price_wei), "expiry": row.expiry, "metadata_cid": row.metadata_cid,
                          "voucher_cid": row.voucher_cid, "voucher": json.loads(row.voucher_json)}))
    else:
        where = f" (written to {args.voucher_out})" if args.voucher_out else ""
        print(f"lazy listing {row.id} at {_eth(row.price_wei)}: voucher ipfs://{row.voucher_cid}{where}")
    return 0


def run_buy(args: argparse.Namespace) -> int:
    from studio.workflows import market as wm
    from studio.workflows import lazy_listings as lw

    with _Market(args, signs=True) as m:
        common = m.common(args)
        if args.voucher is not None:
            from studio.fileio import read_text_bounded

            text = read_text_bounded(args.voucher, lw.MAX_VOUCHER_BYTES, what="The voucher file")
            signed = lw.parse_voucher_json(text)
            if args.price is not None and _amount(args.price, "price") != signed.voucher.price_wei:
                raise InputError(f"The voucher costs {_eth(signed.voucher.price_wei)}, not {args.price}.")
            result = lw.buy_voucher(voucher=signed, **common)
            return _report(args, result, f"bought token {result.token_id} (minted to you) for {_eth(result.price_wei)}")
        if args.collection is None or args.token is None:
            raise InputError("Name what to buy: `studio buy COLLECTION TOKEN` or `studio buy --voucher FILE`.")
        expected = _amount(args.price, "price") if args.price is not None else None
        result = wm.buy_listing(**common, collection=args.collection, token_id=args.token,
                                expected_price_wei=expected)
        return _report(args, result, f"bought token {args.token} for {_eth(result.price_wei)}")


def _token_number(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise InputError(f"{text!r} is not a token number.") from exc


def run_offers(args: argparse.Namespace) -> int:
    from studio.workflows import market as wm
    from studio.workflows import lazy_listings as lw

    if args.make or args.withdraw or args.accept:
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
    address = _account_address(args)
    with _Market(args, signs=False) as m:
        if args.incoming:
            rows = wm.incoming_offers(m.connection, m.marketplace, m.store, address)
        else:
            wm.sync_market(m.connection, m.marketplace, m.store)
            rows = m.store.offers_by(m.connection.chain_id, address)
    if args.json:
        print(json.dumps([{"collection": o.collection, "token_id": o.token_id, "buyer": o.buyer,
                           "amount_wei": str(o.amount_wei), "status": o.status} for o in rows]))
    else:
        for o in rows:
            print(f"{o.collection}  token {o.token_id}  {_eth(o.amount_wei)}  from {o.buyer}")
        if not rows:
            print("No offers." if args.incoming else "You have no open offers.", file=sys.stderr)
    return 0


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


def run_listings(args: argparse.Namespace) -> int:
    from studio.workflows import market as wm
    from studio.workflows import lazy_listings as lw

    with _Market(args, signs=False) as m:
        sync = wm.sync_market(m.connection, m.marketplace, m.store,
                              progress=None if args.json else lambda f, line: None)
        chain_id = m.connection.chain_id
        listings = m.store.active_listings(chain_id, m.marketplace)
        vouchers = m.store.vouchers(chain_id)
    if args.json:
        print(json.dumps({"network": m.network.key, "marketplace": m.marketplace, "block": sync.last_block,
                          "listings": [{"collection": l.collection, "token_id": l.token_id, "seller": l.seller,
                                        "price_wei": str(l.price_wei), "listed_block": l.listed_block}
                                       for l in listings],
                          "lazy": [{"id": v.id, "collection": v.collection, "artist": v.artist,
                                    "price_wei": str(v.price_wei), "expiry": v.expiry,
                                    "metadata_cid": v.metadata_cid, "voucher_cid": v.voucher_cid}
                                   for v in vouchers]}))
        return 0
    print(f"{m.network.name}, marketplace {m.marketplace}, read up to block {sync.last_block}", file=sys.stderr)
    for l in listings:
        print(f"{l.collection}  token {l.token_id}  {_eth(l.price_wei)}  seller {l.seller}")
    for v in vouchers:
        print(printable(f"{v.collection}  lazy listing {v.id}  {_eth(v.price_wei)}  artist {v.artist}  "
                        f"metadata ipfs://{v.metadata_cid}"))
    if not listings and not vouchers:
        print("Nothing is for sale.", file=sys.stderr)
    return 0


def run_mine(args: argparse.Namespace) -> int:
    from studio.workflows import market as wm
    from studio.workflows import lazy_listings as lw

    address = _account_address(args)
    with _Market(args, signs=False) as m:
        wm.sync_market(m.connection, m.marketplace, m.store)
        tokens = m.store.my_tokens(m.connection.chain_id, address)
    if args.json:
        print(json.dumps([{"collection": t.collection, "token_id": t.token_id, "listed": t.listed,
                           "price_wei": None if t.price_wei is None else str(t.price_wei)} for t in tokens]))
    else:
        for t in tokens:
            print(f"{t.collection}  token {t.token_id}" + (f"  listed at {_eth(t.price_wei)}" if t.listed else ""))
        if not tokens:
            print(f"{address} holds no token the market has seen.", file=sys.stderr)
    return 0


def run_withdraw(args: argparse.Namespace) -> int:
    from studio.workflows import market as wm
    from studio.workflows import lazy_listings as lw

    with _Market(args, signs=True) as m:
        result = wm.withdraw_proceeds(connection=m.connection, signer=m.signing.signer, marketplace=m.marketplace,
                                      confirm=_confirm(args), to=args.to, network=m.network,
                                      history=m.signing.history, timeout=args.timeout)
    return _report(args, result, f"withdrew {_eth(result.price_wei)}")
