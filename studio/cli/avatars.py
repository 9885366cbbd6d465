"""``studio avatars``: style presets, single avatars (from a prompt or a photo), character sheets,
resumable collections with traits and rarity.

    studio avatars presets [--json]
    studio avatars adapters [--json]
    studio avatars single "a fox astronaut" --preset anime [--photo F --strength 0.5] [--model M] [--seed N]
        [--adapter NAME [--adapter-scale 0.6] [--adapter-only] [--accept-noncommercial-licence]]
    studio avatars sheet REFERENCE "prompt" --count 6 [--seed N] [--adapter NAME ...]
    studio avatars collection TRAITS.yaml --count 100 --seed 7 --out DIR [--template T] [--preset P]
        [--cluster [ADDRESS] | --no-cluster]
    studio avatars rarity DIR [--json]

Each saved image's path is printed as it is written (``--json``: one object per line). A
collection prints a line per avatar and a summary; run the same command again to continue one
that was stopped. Ctrl-C stops after the current step.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from studio.cli.common import Interrupt as _Interrupt
from studio.cli.common import add_backend_options, backend_of, print_run_report
from studio.cli.progress import ProgressBar
from studio.errors import InputError
from studio.text import json_line, printable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("avatars", help="portrait avatars, character sheets and trait collections",
                                   description="Square avatars in a style preset, from a prompt or a photo; "
                                               "variations of one character; collections with traits and rarity "
                                               "ready for `studio batch-mint`.")
    commands = parser.add_subparsers(dest="avatars_command", metavar="COMMAND", required=True)

    presets = commands.add_parser("presets", help="list the style presets")
    presets.add_argument("--json", action="store_true", help="print the presets as JSON")
    presets.set_defaults(func=run_presets)

    adapters = commands.add_parser("adapters", help="which IP-Adapters are installed, and what to download")
    adapters.add_argument("--json", action="store_true", help="print the report as JSON")
    adapters.set_defaults(func=run_adapters)

    single = commands.add_parser("single", help="make avatars from a prompt (or a photo)")
    single.add_argument("prompt", help="who or what the avatar shows")
    single.add_argument("--photo", type=Path, help="start from this photo (image-to-image)")
    single.add_argument("--strength", type=float, default=0.55,
                        help="how much of the photo to repaint, 0-1 (default 0.55)")
    single.add_argument("--count", type=int, default=1, help="number of avatars (default 1)")
    _generation_options(single)
    single.set_defaults(func=run_single)

    sheet = commands.add_parser("sheet", help="variations of one character from a reference image")
    sheet.add_argument("reference", type=Path, help="the character's reference image")
    sheet.add_argument("prompt", nargs="?", default="", help="what the variations show (default: the reference alone)")
    sheet.add_argument("--count", type=int, default=6, help="number of variations, 2-16 (default 6)")
    sheet.add_argument("--strength", type=float, default=0.6,
                       help="how far each variation may move from the reference, 0-1 (default 0.6)")
    _generation_options(sheet)
    sheet.set_defaults(func=run_sheet)

    collection = commands.add_parser("collection", help="a collection with unique traits (resumable)",
                                     epilog="Writes NNNN.png avatars, manifest.json (for `studio batch-mint`), "
                                            "rarity.json and rarity.csv into --out. Run the same command again to "
                                            "continue after a stop or a crash.")
    collection.add_argument("traits", type=Path, help="the trait table (.yaml or .json)")
    collection.add_argument("--count", type=int, required=True, help="number of avatars")
    collection.add_argument("--seed", type=int, default=0, help="sampling seed; avatar i uses seed+i (default 0)")
    collection.add_argument("--out", type=Path, required=True, help="the collection's folder")
    collection.add_argument("--template", help="prompt template with {category} placeholders "
                                               "(default: the table's template)")
    collection.add_argument("--name", help="token name prefix (default: the table's name)")
    collection.add_argument("--preset", help="style preset around each prompt (default: none)")
    collection.add_argument("--model", help="model name, path or 'demo' (default: the default model setting)")
    collection.add_argument("--size", type=int, help="image side in pixels (default: the preset's for the model)")
    collection.add_argument("--steps", type=int, help="sampling steps (default: the preset's)")
    collection.add_argument("--guidance", type=float, help="CFG scale (default: the preset's)")
    collection.add_argument("--json", action="store_true", help="print one JSON object per avatar and a summary")
    add_backend_options(collection)
    collection.set_defaults(func=run_collection)

    rarity = commands.add_parser("rarity", help="the rarity report of a collection folder")
    rarity.add_argument("folder", type=Path, help="the folder `studio avatars collection` wrote")
    rarity.add_argument("--top", type=int, default=10, help="rarest avatars to list (default 10)")
    rarity.add_argument("--json", action="store_true", help="print the full report as JSON")
    rarity.set_defaults(func=run_rarity)


def _generation_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--preset", default="anime", help="style preset (default anime; see `studio avatars presets`)")
    sub.add_argument("--model", help="model name, path or 'demo' (default: the default model setting, else demo)")
    sub.add_argument("--seed", type=int, help="seed of the first image (default: random); image i uses seed+i")
    sub.add_argument("--size", type=int, help="image side in pixels (default: the preset's for the model)")
    sub.add_argument("--steps", type=int, help="sampling steps (default: the preset's)")
    sub.add_argument("--guidance", type=float, help="CFG scale (default: the preset's)")
    sub.add_argument("--out", type=Path, help="folder for the images (default: the studio's works folder)")
    sub.add_argument("--json", action="store_true", help="print one JSON object per saved image")
    sub.add_argument("--adapter", metavar="NAME",
                     help="IP-Adapter file (see `studio avatars adapters`) that takes the photo/reference as a "
                          "reference picture")
    sub.add_argument("--adapter-scale", type=float, default=0.6,
                     help="how strongly the adapter follows the reference, 0-2 (default 0.6)")
    sub.add_argument("--adapter-only", action="store_true",
                     help="use the photo only through the adapter, not as the image-to-image start")
    sub.add_argument("--accept-noncommercial-licence", action="store_true",
                     help="acknowledge that FaceID-type adapters use InsightFace models licensed for "
                          "non-commercial research only")


# ---------------------------------------------------------------------- helpers

def _engine() -> tuple[Any, Any]:
    from studio.config import load_config
    from studio.workflows.requests import studio_engine

    config = load_config()
    return config, studio_engine(config)


def _model(args: argparse.Namespace, config: Any) -> str:
    return args.model or config["default_model"] or "demo"


def _request(args: argparse.Namespace, config: Any, **fields: Any) -> Any:
    from studio.generation.avatars import AvatarRequest

    return AvatarRequest(prompt=getattr(args, "prompt", ""), preset=args.preset, model=_model(args, config),
                         seed=args.seed, size=args.size, steps=args.steps, guidance=args.guidance,
                         adapter=_adapter(args, config), adapter_scale=args.adapter_scale,
                         photo_as_init=not args.adapter_only,
                         licence_acknowledged=args.accept_noncommercial_licence, **fields)


def _adapter(args: argparse.Namespace, config: Any) -> Any:
    """The IP-Adapter ``--adapter`` names, found in the models folders (None without the option)."""
    if not args.adapter:
        if args.adapter_only:
            raise InputError("--adapter-only needs --adapter NAME.")
        return None
    from studio.generation.avatars import find_adapter, find_ip_adapters

    return find_adapter(find_ip_adapters(config.model_folders(), config.paths.models_dir), args.adapter)


def _print_work(args: argparse.Namespace, work: Any, warned: set[str]) -> None:
    for warning in work.warnings:
        if warning not in warned:
            warned.add(warning)
            print(f"warning: {printable(warning)}", file=sys.stderr)
    if args.json:
        print(json_line({"path": str(work.path), "recipe": work.recipe.to_dict(), "pipeline": "avatar",
                         "warnings": list(work.warnings)}), flush=True)
    else:
        print(printable(work.path), flush=True)


# ---------------------------------------------------------------------- commands

def run_presets(args: argparse.Namespace) -> int:
    from studio.generation.avatars import load_presets

    presets = load_presets()
    if args.json:
        print(json_line([{**p.to_dict(), "user": p.user} for p in presets], indent=2))
        return 0
    for preset in presets:
        sd1, sdxl = preset.settings_for("sd1"), preset.settings_for("sdxl")
        mine = " (yours)" if preset.user else ""
        print(printable(f"{preset.key:<14} {preset.label}{mine}"))  # presets are files anyone may share
        print(printable(f"{'':<14} {preset.prompt}"))
        print(f"{'':<14} SD 1.x {sd1.size}px {sd1.steps} steps CFG {sd1.guidance:g} {sd1.scheduler} · "
              f"SDXL {sdxl.size}px {sdxl.steps} steps CFG {sdxl.guidance:g} {sdxl.scheduler}")
    return 0


def run_adapters(args: argparse.Namespace) -> int:
    from studio.config import load_config
    from studio.generation.avatars import FACE_ID_NOTICE, find_ip_adapters

    config = load_config()
    report = find_ip_adapters(config.model_folders(), config.paths.models_dir)
    if args.json:
        print(json_line({**report.to_dict(), "licence_notice": FACE_ID_NOTICE}, indent=2))
        return 0
    print(printable(report.summary, multiline=True))
    for line in report.incomplete:
        print(f"incomplete: {printable(line)}")
    if report.downloads:
        print("To add (optional; avatars work without them):")
        for line in report.downloads:
            print(f"  - {printable(line)}")
    print(f"Note: {FACE_ID_NOTICE}")
    return 0


def _open_photo(path: Path, what: str) -> Any:
    from studio.cli.generate import _open_image

    return _open_image(path, what)


def run_single(args: argparse.Namespace) -> int:
    from studio.workflows.avatars import make_from_photo, make_single

    config, engine = _engine()
    request = _request(args, config, count=args.count, strength=args.strength)
    if request.adapter is not None and args.photo is None:
        raise InputError("--adapter needs --photo: the adapter reads the photo as its reference picture.")
    out_dir = args.out or config.paths.works_dir
    warned: set[str] = set()
    with _Interrupt() as cancel, _library() as library:
        if args.photo is not None:
            make_from_photo(request, _open_photo(args.photo, "photo"), engine, out_dir, library=library,
                            cancel=cancel, on_saved=lambda work: _print_work(args, work, warned))
        else:
            make_single(request, engine, out_dir, library=library, cancel=cancel,
                        on_saved=lambda work: _print_work(args, work, warned))
    return 0


def _library() -> Any:
    """The studio's library: every avatar made here is recorded, so the Gallery shows it."""
    from studio.library.db import Library

    return Library.default()


def run_sheet(args: argparse.Namespace) -> int:
    from studio.workflows.avatars import make_character_sheet

    config, engine = _engine()
    request = _request(args, config, count=args.count, strength=args.strength)
    out_dir = args.out or config.paths.works_dir
    warned: set[str] = set()
    with _Interrupt() as cancel, _library() as library:
        sheet = make_character_sheet(request, _open_photo(args.reference, "reference image"), engine, out_dir,
                                     library=library, cancel=cancel,
                                     on_saved=lambda work: _print_work(args, work, warned))
    if args.json:
        print(json.dumps({"sheet": str(sheet.grid), "works": [str(w.path) for w in sheet.works]}), flush=True)
    else:
        print(f"sheet: {printable(sheet.grid)}")
    return 0


def run_collection(args: argparse.Namespace) -> int:
    from studio.generation.traits import load_trait_table
    from studio.workflows.avatars import make_collection
    from studio.workflows.journal import JournalProgress

    table = load_trait_table(args.traits)
    config, engine = _engine()
    announced: list[bool] = []

    bar = ProgressBar()

    def on_progress(step: JournalProgress) -> None:
        if step.skipped and not announced:
            announced.append(True)
            print(f"Continuing: {step.skipped} of {step.total} avatars were made by an earlier run.", file=sys.stderr)
        bar.report(step)

    def on_saved(item: Any, work: Any) -> None:
        if args.json:
            print(json_line({"index": item.index, "path": str(work.path), "seed": item.seed,
                             "attributes": item.attributes, "prompt": item.prompt}), flush=True)
        else:
            traits = ", ".join(f"{k}: {v}" for k, v in item.attributes.items())
            print(printable(f"{work.path}  {traits}"), flush=True)

    backend = backend_of(args, config, engine)

    def on_report(report: Any) -> None:
        bar.close()
        if report.nodes and report.backend != "this computer":
            print_run_report(report)

    try:
        with _Interrupt() as cancel, bar, _library() as library:
            result = make_collection(table, args.count, args.seed, args.out, backend, library=library,
                                     template=args.template, preset=args.preset, model=_model(args, config),
                                     size=args.size, steps=args.steps, guidance=args.guidance, progress=on_progress,
                                     cancel=cancel, on_saved=on_saved, name=args.name, on_report=on_report)
    finally:
        backend.close()
    summary = {"folder": str(result.folder), "count": len(result.items), "generated": result.generated,
               "manifest": str(result.manifest), "rarity": str(result.folder / "rarity.json"),
               "mint": f"studio batch-mint {result.manifest} --collection ADDRESS",
               "report": result.report.to_dict() if result.report is not None else None}
    if args.json:
        print(json_line(summary), flush=True)
    else:
        print(printable(f"{len(result.items)} avatars in {result.folder} ({result.generated} made now)."))
        print(printable(f"Manifest for minting: {result.manifest}"))
        print(printable(f"Mint them with: {summary['mint']}"))
    return 0


def run_rarity(args: argparse.Namespace) -> int:
    from studio.workflows.avatars import collection_rarity

    if args.top < 0:
        raise InputError("--top must be 0 or more.")
    report = collection_rarity(args.folder)
    if args.json:
        print(json_line(report.to_dict(), indent=1))
        return 0
    print(f"{report.total} avatars")
    category = None
    for share in report.shares:
        if share.category != category:
            category = share.category
            print(f"{printable(category)}:")  # trait tables are files anyone may share
        print(f"  {printable(share.value):<24} {share.count:>6}  {share.percent:6.2f} %")
    if args.top:
        print(f"Rarest {min(args.top, report.total)}:")
        for avatar in sorted(report.avatars, key=lambda a: a.rank)[:args.top]:
            traits = ", ".join(f"{k}: {v}" for k, v in avatar.attributes.items())
            print(f"  #{avatar.rank:<4} item {avatar.index + 1:<5} score {avatar.score:8.2f}  {printable(traits)}")
    return 0
