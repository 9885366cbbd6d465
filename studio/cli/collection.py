"""``studio collection``: create (deploy) a collection, import one by address, list them per network."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from studio.cli.common import (add_network_options, add_storage_options, confirm_preview, network_of, open_session,
                               store_of)
from studio.errors import Cancelled
from studio.text import printable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("collection", help="your collections: create, import, list",
                                   description="Collections are StudioCollection contracts owned by your account; "
                                               "the studio remembers them per network.")
    commands = parser.add_subparsers(dest="collection_command", metavar="SUBCOMMAND", required=True)

    create = commands.add_parser("create", help="deploy a new collection from your account")
    create.add_argument("--name", required=True, help="the collection's name, e.g. 'Dawns'")
    create.add_argument("--symbol", required=True, help="a short ticker, e.g. DAWN")
    create.add_argument("--royalty", default="0%", help="royalty on every resale: 5%%, 2.5%% or 250bps (max 10%%)")
    create.add_argument("--receiver", help="who receives royalties (default: your account)")
    create.add_argument("--description", default="", help="a line about the collection (kept in the library)")
    create.add_argument("--image", type=Path, metavar="F", help="a cover image, stored like a work")
    add_network_options(create)
    add_storage_options(create)
    create.set_defaults(func=run_create)

    imp = commands.add_parser("import", help="remember an existing studio collection by its address")
    imp.add_argument("address", help="the collection's contract address")
    imp.add_argument("--description", default="", help="a line about the collection (kept in the library)")
    add_network_options(imp, signs=False)
    imp.set_defaults(func=run_import)

    lst = commands.add_parser("list", help="the collections the studio knows on a network")
    add_network_options(lst, signs=False)
    lst.set_defaults(func=run_list)


def _print(collections, as_json: bool, network) -> None:
    from studio.workflows.collections import collection_info

    if as_json:
        print(json.dumps([{**collection_info(c), "network": network.key} for c in collections]))
        return
    for c in collections:
        royalty = f"{c.royalty_bps / 100:g}% to {c.royalty_receiver}" if c.royalty_receiver else "no royalty"
        print(printable(f"{c.address}  {c.name} ({c.symbol})  owner {c.owner}  {royalty}"))  # name: the contract's


def run_create(args: argparse.Namespace) -> int:
    from studio.library.db import Library
    from studio.workflows.collections import create_collection, parse_royalty, preview_collection

    bps = parse_royalty(args.royalty)
    store = store_of(args) if args.image is not None else None
    with open_session(args) as session, Library.default() as library:
        receiver = args.receiver or session.signer.address
        preview = preview_collection(connection=session.connection, signer=session.signer, name=args.name,
                                     symbol=args.symbol, royalty_receiver=receiver, royalty_bps=bps,
                                     network=session.network)
        if not confirm_preview(args, preview, "Deploy the collection?"):
            raise Cancelled("Nothing was signed.")
        collection = create_collection(
            connection=session.connection, signer=session.signer, library=library, name=args.name,
            symbol=args.symbol, royalty_receiver=receiver, royalty_bps=bps, description=args.description,
            image=args.image, store=store,
            progress=None if args.json else lambda fraction, line: print(printable(line), file=sys.stderr))
        _print([collection], args.json, session.network)
    return 0


def run_import(args: argparse.Namespace) -> int:
    from studio.chain.networks import connect
    from studio.library.db import Library
    from studio.workflows.collections import import_collection

    network = network_of(args)
    with Library.default() as library:
        collection = import_collection(connection=connect(network), library=library, address=args.address,
                                       description=args.description)
        _print([collection], args.json, network)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from studio.library.db import Library

    network = network_of(args)
    with Library.default() as library:
        collections = library.collections(network.chain_id)
    _print(collections, args.json, network)
    if not collections and not args.json:
        print(f"No collections on {network.name} yet: `studio collection create` or `studio collection import`.",
              file=sys.stderr)
    return 0
