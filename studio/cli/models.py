"""``studio models``: the models the studio can use, and files it skipped with the reason."""
from __future__ import annotations

import argparse
import json

from studio.text import printable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list the models the studio found",
                                   description="List the models found in the models folders (and the demo), "
                                               "then the files skipped, with why.")
    parser.add_argument("--json", action="store_true", help="print one JSON object per model or skipped file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from studio.config import load_config
    from studio.generation.models import ModelCatalog

    catalog = ModelCatalog(load_config())
    models = catalog.models()
    skipped = list(getattr(catalog, "skipped", lambda: [])() if callable(getattr(catalog, "skipped", None))
                   else getattr(catalog, "skipped", []))
    if args.json:
        for info in models:
            print(json.dumps({"name": info.name, "family": info.family.value, "variant": info.variant,
                              "format": info.format.value, "path": str(info.path)}))
        for item in skipped:
            path, reason = _skipped(item)
            print(json.dumps({"skipped": path, "reason": reason}))
        return 0
    # model names and paths come from downloaded files
    rows = [(printable(info.name), info.family.label, printable(info.variant), info.format.value, printable(info.path))
            for info in models]
    header = ("NAME", "FAMILY", "VARIANT", "FORMAT", "PATH")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths)) + "  " + row[4])
    if skipped:
        print("\nSkipped:")
        for item in skipped:
            path, reason = _skipped(item)
            print(printable(f"  {path}: {reason}"))
    return 0


def _skipped(item: object) -> tuple[str, str]:
    """A skipped entry as (path, reason), whether it is a pair or an object with those fields."""
    if isinstance(item, tuple):
        return str(item[0]), str(item[1])
    return str(getattr(item, "path", item)), str(getattr(item, "reason", ""))
