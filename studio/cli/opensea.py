"""OpenSea from the command line: the API key kept encrypted in the wallet, orders posted as they are
signed (``studio list … --opensea``, ``studio offers --make … --opensea``), and OpenSea's orders read
into the studio's order book (``studio market opensea COLLECTION``), where ``studio buy`` fills them.

    studio market opensea-key set [--key-file F]   |   studio market opensea-key remove
    studio market opensea COLLECTION [--token N]… [--offers] [--maker ADDRESS]

``STUDIO_OPENSEA_KEY`` wins over the wallet's key (scripts); ``STUDIO_OPENSEA_URL`` points the client
at another address of the same API (a test server). The key is never an argument, printed or logged.
"""
from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.cli.common import add_network_options
from studio.errors import InputError, NotFound
from studio.workflows.opensea_orders import URL_ENV

if TYPE_CHECKING:
    from studio.workflows.opensea_orders import Publisher


def register_market_commands(commands: argparse._SubParsersAction) -> None:
    """`studio market opensea-key` and `studio market opensea`."""
    key = commands.add_parser("opensea-key", help="keep the OpenSea API key encrypted in the wallet",
                              description="Keep OpenSea's API key in the wallet's encrypted section (never in the "
                                          "settings). --opensea and `studio market opensea` use it; "
                                          "STUDIO_OPENSEA_KEY wins when set.")
    key_commands = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    key_set = key_commands.add_parser("set", help="keep a key (replacing any earlier one)",
                                      description="The key is read from --key-file or asked for; never an argument.")
    key_set.add_argument("--key-file", type=Path, metavar="FILE", help="a file holding only the key (default: ask)")
    key_set.add_argument("--password-file", type=Path, metavar="F", help="read the wallet password from this file")
    key_set.add_argument("--json", action="store_true", help='print {"kept": true}')
    key_set.set_defaults(func=run_key_set)
    key_remove = key_commands.add_parser("remove", help="forget the key kept in the wallet")
    key_remove.add_argument("--password-file", type=Path, metavar="F", help="read the wallet password from this file")
    key_remove.add_argument("--json", action="store_true", help='print {"removed": true|false}')
    key_remove.set_defaults(func=run_key_remove)

    fetch = commands.add_parser("opensea", help="read OpenSea's listings (or offers) of a collection into the "
                                                "order book",
                                description="Reads OpenSea's Seaport orders for a collection (some tokens, or one "
                                            "maker's) into the studio's order book, each checked to be signed by "
                                            "its offerer; `studio market listings` and `studio buy` then see them. "
                                            "Networks OpenSea serves only.")
    fetch.add_argument("collection", metavar="COLLECTION", help="the collection's address")
    fetch.add_argument("--token", type=int, action="append", dest="tokens", metavar="N", help="only this token")
    fetch.add_argument("--offers", action="store_true", help="offers instead of listings")
    fetch.add_argument("--maker", metavar="ADDRESS", help="only orders signed by this account")
    fetch.add_argument("--password-file", type=Path, metavar="F",
                       help="the wallet password, to use the key kept in the wallet")
    add_network_options(fetch, signs=False)
    fetch.set_defaults(func=run_fetch)


def add_post_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--opensea", action="store_true",
                        help="also post the signed order to OpenSea (networks it serves; the key kept in the wallet "
                             "or STUDIO_OPENSEA_KEY)")


def publisher_for(args: argparse.Namespace, wallet: Any, chain_id: int) -> "Publisher | None":
    """With --opensea: a publisher for the signing command, checked before anything is signed (a key,
    a network OpenSea serves); None without it."""
    if not getattr(args, "opensea", False):
        return None
    from studio.workflows.opensea_orders import opensea_client, opensea_key, publisher

    return publisher(opensea_client(opensea_key(wallet), chain_id, base_url=os.environ.get(URL_ENV) or None))


def report_posting(args: argparse.Namespace, publish: "Publisher | None") -> dict[str, Any]:
    """What --opensea did, on stderr (and for the --json answer)."""
    if publish is None:
        return {}
    if not getattr(args, "json", False):
        for order_hash in (p.order_hash for p in publish.posted):
            print(f"posted to OpenSea: {order_hash}", file=sys.stderr)
        for order_hash, why in publish.kept_home:
            print(f"not posted to OpenSea ({why}); the order is signed and kept in the studio: {order_hash}",
                  file=sys.stderr)
    return {"opensea": publish.to_json()}


def _wallet() -> Any:
    from studio.chain.wallet import Wallet

    wallet = Wallet.default()
    if not wallet.exists:
        raise NotFound("There is no wallet to keep the key in.",
                       hint="Create one first (`studio wallet create`), or set STUDIO_OPENSEA_KEY instead.")
    return wallet


def run_key_set(args: argparse.Namespace) -> int:
    from studio.cli.wallet import read_password
    from studio.storage.backends import read_token_file
    from studio.workflows.opensea_orders import OPENSEA_SECRET

    wallet = _wallet()
    if args.key_file is not None:
        key = read_token_file(args.key_file)
    elif sys.stdin.isatty():
        key = getpass.getpass("OpenSea API key (hidden): ").strip()
    else:
        raise InputError("No key to keep: there is no terminal to ask for it.",
                         hint="Give it in a file: studio market opensea-key set --key-file FILE.")
    if not key:
        raise InputError("The key is empty; nothing was changed.")
    wallet.set_service_secret(OPENSEA_SECRET, key, read_password(args))
    print(json.dumps({"kept": True}) if args.json else
          "The OpenSea API key is kept encrypted in the wallet. --opensea uses it when the wallet is unlocked.")
    return 0


def run_key_remove(args: argparse.Namespace) -> int:
    from studio.cli.wallet import read_password
    from studio.workflows.opensea_orders import OPENSEA_SECRET

    removed = _wallet().remove_service_secret(OPENSEA_SECRET, read_password(args))
    if args.json:
        print(json.dumps({"removed": removed}))
    else:
        print("The OpenSea API key is no longer kept in the wallet." if removed else
              "The wallet kept no OpenSea API key; nothing was changed.")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    from studio.chain.contracts import checksum
    from studio.cli.market import _Market
    from studio.workflows.opensea_orders import KEY_ENV, fetch_orders, opensea_client, opensea_key

    with _Market(args, signs=False, escrow=False) as m:
        chain_id = m.connection.chain_id
        key = opensea_key()
        if key is None:
            from studio.chain.opensea import opensea_chain

            opensea_chain(chain_id)  # a network OpenSea does not serve is said before asking for a password
            wallet = _wallet()
            if not wallet.is_unlocked:
                from studio.cli.wallet import read_password

                wallet.unlock(read_password(args, what="Wallet password (for the OpenSea key)"))
            try:
                key = opensea_key(wallet)
            finally:
                wallet.lock()
            if key is None:
                raise InputError("No OpenSea API key is kept.",
                                 hint=f"studio market opensea-key set, or set {KEY_ENV}.")
        client = opensea_client(key, chain_id, base_url=os.environ.get(URL_ENV) or None)
        result = fetch_orders(client, m.orders, chain_id, m.venue, side="offers" if args.offers else "listings",
                              collection=checksum(args.collection, "collection"), token_ids=args.tokens or (),
                              maker=checksum(args.maker, "maker") if args.maker else None)
    if args.json:
        print(json.dumps({"added": [row.order_hash for row in result.added], "refused": result.refused,
                          "skipped": result.skipped}))
    else:
        print(f"{len(result.added)} orders from OpenSea are in the order book"
              + (f"; {result.refused + result.skipped} left out (not valid or not signed by their offerer)"
                 if result.refused + result.skipped else "") + ".")
    return 0
