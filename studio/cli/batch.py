"""``studio batch-mint MANIFEST --collection ADDR``: mint a whole manifest, resumable after any crash."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from studio.cli.common import add_network_options, add_storage_options, open_session, store_of
from studio.cli.exit_codes import Exit
from studio.cli.progress import ProgressBar
from studio.text import printable



def register(subparsers: argparse._SubParsersAction) -> None:
    from studio.workflows.batch import DEFAULT_BATCH_SIZE

    parser = subparsers.add_parser(
        "batch-mint", help="mint every work of a CSV/JSON manifest or a folder of images",
        description="Validates every row first (nothing happens if one is wrong), uploads while minting in batches, "
                    "and keeps a journal next to the manifest: run the same command again after a crash or a "
                    "failure and it finishes the batch without minting anything twice. See docs/batch.md.")
    parser.add_argument("manifest", type=Path, metavar="MANIFEST", help="a .csv or .json manifest, or a folder")
    parser.add_argument("--collection", required=True, metavar="ADDR", help="a collection you own on this network")
    parser.add_argument("--list-price", metavar="ETH", help="list each minted token at this price (a row's price "
                                                            "wins)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, metavar="N",
                        help=f"tokens per mint transaction (default {DEFAULT_BATCH_SIZE}, at most 1000)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the CIDs, the number of transactions and the estimated gas and cost; "
                             "nothing is uploaded or sent")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for each transaction")
    add_network_options(parser)
    add_storage_options(parser)
    parser.set_defaults(func=run_batch_mint)


def run_batch_mint(args: argparse.Namespace) -> int:
    from studio.cli.wallet import format_eth
    from studio.library.db import Library
    from studio.workflows.batch import BatchIncomplete, batch_mint, parse_eth, plan_batch, read_manifest

    read_manifest(args.manifest)  # every row's problem before the wallet is even asked for
    price = parse_eth(args.list_price) if args.list_price else None
    store = None if args.dry_run else store_of(args)
    with open_session(args) as session, Library.default() as library:
        if args.dry_run:
            plan = plan_batch(args.manifest, args.collection, signer=session.signer, connection=session.connection,
                              library=library, network=session.network, batch_size=args.batch_size,
                              list_price_wei=price)
            if args.json:
                print(json.dumps(plan.to_json()))
            else:
                for work in plan.works:
                    print(printable(f"row {work.row}  {work.file.name}  image {work.media_cid}  "
                                    f"metadata {work.metadata_cid}  {work.token_uri}"))
                print(f"{len(plan.works)} works in {len(plan.batches)} mint transactions, "
                      f"{plan.royalty_transactions} royalty and {plan.listing_transactions} listing transactions")
                print(f"estimated gas for the mints: {plan.estimated_gas:,} "
                      f"({plan.estimated_gas // max(1, len(plan.works)):,} per token); "
                      f"at most {format_eth(plan.max_cost_wei)}")
            return Exit.OK
        assert store is not None  # made above for every run that is not a dry run
        if not args.json:
            print(printable(f"Minting {args.manifest.name} on {session.network.name}; files go to {store.name}."),
                  file=sys.stderr)
        try:
            with ProgressBar() as bar:
                report = batch_mint(args.manifest, args.collection, signer=session.signer,
                                    connection=session.connection, store=store, library=library,
                                    network=session.network, batch_size=args.batch_size, list_price_wei=price,
                                    timeout=args.timeout, progress=bar.report)
        except BatchIncomplete as exc:
            if args.json:
                print(json.dumps(exc.report.to_json()))
            print(f"error: {printable(exc, multiline=True)}", file=sys.stderr)
            return Exit.FAILED
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        for token in report.tokens:
            listed = f"  listed at {format_eth(token.listed_wei)}" if token.listed_wei is not None else ""
            print(printable(f"token {token.token_id}  row {token.row}  {token.file.name}  "
                            f"ipfs://{token.metadata_cid}{listed}"))
        print(f"{report.done} of {report.total} minted in {sum(1 for t in report.transactions if t.kind == 'mint')} "
              f"mint transactions; gas {report.gas_used:,} ({report.gas_used // max(1, report.done):,} per token); "
              f"cost {format_eth(report.cost_wei)}")
    for problem in report.problems:
        print(f"warning: {printable(problem)}", file=sys.stderr)
    return Exit.FAILED if report.problems else Exit.OK
