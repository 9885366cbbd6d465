"""``studio mint FILE… --collection ADDR``: store works and mint them (one token, or one batch)."""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from studio.cli.common import add_network_options, add_storage_options, confirm_preview, open_session, store_of
from studio.cli.exit_codes import Exit
from studio.errors import InputError
from studio.text import printable

_INTEGER = re.compile(r"^-?\d+$")
_DECIMAL = re.compile(r"^-?\d+\.\d+$")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "mint", help="mint works into one of your collections",
        description="Stores each image and its metadata (the storage_backend setting), then mints one token, or "
                    "one batch for several files. Running it again after a failure never mints a work twice.")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="images to mint")
    parser.add_argument("--collection", required=True, metavar="ADDR",
                        help="a collection the studio knows on this network (create or import it first)")
    parser.add_argument("--name", help="the token's name (default: the file name; several files get ' #1', ' #2'…)")
    parser.add_argument("--description", default="", help="the token's description")
    parser.add_argument("--trait", action="append", default=[], metavar="KEY=VALUE",
                        help="an attribute, e.g. --trait Mood=calm (repeat for more; numbers stay numbers)")
    parser.add_argument("--license", default="all-rights-reserved",
                        help="cc0, cc-by, cc-by-nc or all-rights-reserved (default)")
    parser.add_argument("--royalty", help="this token's royalty instead of the collection's, e.g. 2.5%%")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the transaction")
    add_network_options(parser)
    add_storage_options(parser)
    parser.set_defaults(func=run_mint)


def parse_trait(text: str) -> tuple[str, str | int | float]:
    """KEY=VALUE; a value that reads as a number becomes one (so markets can sort and range it)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise InputError(f"{text!r} is not a trait; write KEY=VALUE, e.g. Mood=calm.")
    value = value.strip()
    if _INTEGER.match(value):
        return key.strip(), int(value)
    if _DECIMAL.match(value):
        return key.strip(), float(value)
    return key.strip(), value


def _items(args: argparse.Namespace):
    from studio.workflows.collections import parse_royalty
    from studio.workflows.mint import MintItem, parse_license

    traits = tuple(parse_trait(t) for t in args.trait)
    license_id = parse_license(args.license)
    royalty = parse_royalty(args.royalty) if args.royalty else None
    several = len(args.files) > 1
    items = []
    for index, path in enumerate(args.files):
        name = (f"{args.name} #{index + 1}" if several else args.name) if args.name else path.stem
        items.append(MintItem(path, name, args.description, traits, license_id, royalty))
    return items


def run_mint(args: argparse.Namespace) -> int:
    from studio.library.db import Library
    from studio.workflows.mint import mint_works

    items = _items(args)
    store = store_of(args)
    with open_session(args) as session, Library.default() as library:
        if not args.json:
            print(printable(f"Minting {len(items)} work{'s' if len(items) != 1 else ''} on {session.network.name}; "
                            f"files go to {store.name}."), file=sys.stderr)
        result = mint_works(
            items, args.collection, signer=session.signer, connection=session.connection, store=store,
            library=library, network=session.network, history=session.history, timeout=args.timeout,
            confirm=lambda preview: confirm_preview(args, preview, "Mint?"),
            progress=None if args.json else lambda fraction, line: print(f"  {printable(line)}", file=sys.stderr))
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        for minted in result.minted:
            note = "  (minted by an earlier run)" if minted.recovered else ""
            print(printable(f"token {minted.token.token_id}  {Path(minted.work.path).name}  "
                            f"ipfs://{minted.token.metadata_cid}  tx {minted.token.tx_hash}{note}"))
    for problem in result.problems:
        print(f"warning: {printable(problem)}", file=sys.stderr)
    return Exit.FAILED if result.problems else Exit.OK
