"""``studio models``: the models the studio can use (and files it skipped, with the reason), and
``studio models download`` to fetch a diffusers model from the Hugging Face hub into the models
folder (resumable and verified; the same workflow as the first-run welcome)."""
from __future__ import annotations

import argparse
import json
import sys

from studio.cli.progress import ProgressBar
from studio.text import printable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list the models the studio found, or download one",
                                   description="List the models found in the models folders (and the demo), "
                                               "then the files skipped, with why; or download one.")
    parser.add_argument("--json", action="store_true", help="print one JSON object per model or skipped file")
    parser.set_defaults(func=run_list)
    commands = parser.add_subparsers(dest="models_command", metavar="SUBCOMMAND")

    lst = commands.add_parser("list", help="list the models (the default)")
    lst.add_argument("--json", action="store_true", help="print one JSON object per model or skipped file")
    lst.set_defaults(func=run_list)

    download = commands.add_parser(
        "download", help="download a diffusers model from the Hugging Face hub into the models folder",
        description="Download a diffusers model (safetensors weights only, never pickles) into the models "
                    "folder. An interrupted download resumes where it stopped; every file is checked against "
                    "the hub's hashes before the model is listed.")
    download.add_argument("repo_id", nargs="?", help="owner/name on the hub, e.g. stable-diffusion-v1-5/"
                                                     "stable-diffusion-v1-5 (default: the first recommended model)")
    download.add_argument("--variant", help="weights variant, e.g. fp16 (default: the recommended model's, else "
                                            "full precision)")
    download.add_argument("--endpoint", help="another hub's address (default: HF_ENDPOINT or huggingface.co)")
    download.add_argument("--recommended", action="store_true", help="list the recommended models and exit")
    download.add_argument("--json", action="store_true", help="print the downloaded model as JSON")
    download.set_defaults(func=run_download)


def run_list(args: argparse.Namespace) -> int:
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


def run_download(args: argparse.Namespace) -> int:
    from studio.config import load_config
    from studio.generation.download import RECOMMENDED_MODELS
    from studio.workflows.models import download_into_catalog

    if args.recommended:
        for offered in RECOMMENDED_MODELS:
            if args.json:
                print(json.dumps({"repo_id": offered.repo_id, "title": offered.title, "variant": offered.variant,
                                  "approx_bytes": offered.approx_bytes, "note": offered.note}))
            else:
                print(f"{offered.repo_id}  ({offered.title}, about {offered.approx_bytes / 1e9:.1f} GB)\n"
                      f"  {offered.note}")
        return 0
    recommended = {offered.repo_id: offered for offered in RECOMMENDED_MODELS}
    repo_id = args.repo_id or RECOMMENDED_MODELS[0].repo_id
    variant = args.variant if args.variant is not None else (
        recommended[repo_id].variant if repo_id in recommended else None)
    print(printable(f"Downloading {repo_id}{f' ({variant})' if variant else ''} into the models folder "
                    "(Ctrl-C stops; running the command again resumes)."), file=sys.stderr)
    with ProgressBar() as bar:
        installed = download_into_catalog(load_config(), repo_id, variant=variant, endpoint=args.endpoint,
                                          progress=bar)
    model, download = installed.model, installed.download
    if args.json:
        print(json.dumps({"name": model.name, "repo_id": download.repo_id, "commit": download.commit,
                          "path": str(download.path), "family": model.family.value, "variant": model.variant,
                          "bytes": download.total_bytes, "files": list(download.files)}))
    else:
        print(printable(f"{model.name} ({model.family.label}) is ready: {download.path}"))
    return 0


def _skipped(item: object) -> tuple[str, str]:
    """A skipped entry as (path, reason), whether it is a pair or an object with those fields."""
    if isinstance(item, tuple):
        return str(item[0]), str(item[1])
    return str(getattr(item, "path", item)), str(getattr(item, "reason", ""))
