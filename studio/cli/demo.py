"""``studio demo``: the artist's whole path, headless, on the embedded devnet and the local store.

Prints each step as it ends (addresses, token ids, CIDs, transaction hashes, balances, royalty)
or, with ``--json``, one JSON document at the end. Exit 0 only when every check held, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import sys

from studio.cli.exit_codes import Exit
from studio.text import printable



def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="run generate → provenance → store → deploy → mint → list → buy → verify on the devnet",
        description="Runs the whole path headless in the current studio home, with the demo model, the built-in "
                    "devnet and the local store. The artist and the collector are the devnet's public test "
                    "accounts 0 and 1; your wallet is not used or changed.")
    parser.add_argument("--count", type=int, default=2, help="works to generate and mint (1 to 4, default 2)")
    parser.add_argument("--size", type=int, default=64, help="image width and height in pixels (default 64)")
    parser.add_argument("--steps", type=int, default=4, help="sampling steps (default 4)")
    parser.add_argument("--price", default="0.01", help="listing price in ETH (default 0.01)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def _print_step(step) -> None:
    mark = "ok  " if step.ok else "FAIL"
    print(printable(f"[{mark}] {step.name:<10} {step.summary}"), flush=True)
    for line in step.more:
        print(printable(f"         {line}"), flush=True)
    if step.error:
        print(printable(f"         error: {step.error}"), flush=True)
    for check, held in step.checks.items():
        if not held:
            print(printable(f"         check failed: {check}"), flush=True)


def run(args: argparse.Namespace) -> int:
    from studio.cli.wallet import parse_amount
    from studio.workflows.demo import ACCOUNTS_NOTE, run_demo

    price = parse_amount(args.price)
    if not args.json:
        print(f"Provenance Studio demo. {ACCOUNTS_NOTE}", flush=True)
    report = run_demo(count=args.count, size=args.size, steps=args.steps, price_wei=price,
                      on_step=None if args.json else _print_step)  # the devnet saves itself at exit
    if args.json:
        print(json.dumps(report.to_json()))
    elif report.ok:
        print("Everything checked out.")
    else:
        print("The demo did not check out; see the failed steps above.", file=sys.stderr)
    return Exit.OK if report.ok else Exit.FAILED

