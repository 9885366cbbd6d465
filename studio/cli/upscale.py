"""``studio upscale FILE``: upscale a picture (a studio work or any image) into a new work whose
manifest names the upscaler and the source; ``studio pnginfo FILE``: the parameters an image carries;
``studio styles`` and ``studio history``: saved prompt styles and recent prompts."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from studio.cli.common import add_signing_options, provenance_signer
from studio.text import json_line, printable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "upscale", help="upscale a picture into a new work",
        description="Upscale a picture with Lanczos or an upscaler model file (ESRGAN, Real-ESRGAN; SwinIR and "
                    "others with spandrel installed) and save it as a new work that names its source.",
        epilog="Prints the new work's path; with --json its path and recipe.")
    parser.add_argument("file", type=Path, metavar="FILE", help="the picture to upscale")
    parser.add_argument("--upscaler", default="lanczos", metavar="lanczos|FILE", help="default lanczos")
    parser.add_argument("--scale", type=float, default=2.0, help="how many times larger (default 2)")
    parser.add_argument("--out", type=Path, help="folder for the new work (default: the studio's works folder)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_signing_options(parser)
    parser.set_defaults(func=run_upscale)

    info = subparsers.add_parser(
        "pnginfo", help="show the generation parameters an image carries",
        description="Read an image's parameters (a studio work's manifest, A1111/Forge, ComfyUI or InvokeAI) "
                    "as the request Send to Create fills in.",
        epilog="With --json: source, fields (as read), request (the settings for Create) and notes.")
    info.add_argument("file", type=Path, metavar="FILE")
    info.add_argument("--json", action="store_true", help="print the result as JSON")
    info.set_defaults(func=run_pnginfo)

    styles = subparsers.add_parser("styles", help="saved prompt styles",
                                   description="Saved prompt and negative prompt pairs (apply with generate --style).")
    commands = styles.add_subparsers(dest="styles_command", metavar="COMMAND", required=True)
    listing = commands.add_parser("list", help="the saved styles")
    listing.add_argument("--json", action="store_true", help="print the styles as JSON")
    listing.set_defaults(func=run_styles_list)
    save = commands.add_parser("save", help="save (or replace) a style")
    save.add_argument("name")
    save.add_argument("--prompt", default="", help="text added to the prompt ({prompt} marks where the prompt goes)")
    save.add_argument("--negative", default="", help="text added to the negative prompt")
    save.add_argument("--json", action="store_true", help="print the styles as JSON")
    save.set_defaults(func=run_styles_save)
    delete = commands.add_parser("delete", help="delete a style")
    delete.add_argument("name")
    delete.add_argument("--json", action="store_true", help="print the styles left as JSON")
    delete.set_defaults(func=run_styles_delete)

    history = subparsers.add_parser("history", help="recent prompts", description="Recent prompts, newest first.")
    history.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    history.add_argument("--json", action="store_true", help="print them as JSON")
    history.set_defaults(func=run_history)


def run_upscale(args: argparse.Namespace) -> int:
    from studio.config import load_config
    from studio.generation.engine import Engine
    from studio.generation.models import ModelCatalog
    from studio.library.db import Library
    from studio.workflows.upscale import upscale_work

    config = load_config()
    engine = Engine(ModelCatalog(config), device=config["device"], precision=config["precision"],
                    memory_saving=config["memory_saving"], hash_cache=config.paths.hash_cache_file)
    upscaler = args.upscaler if args.upscaler == "lanczos" else str(Path(args.upscaler).expanduser())
    wallet, signer = provenance_signer(args)
    try:
        with Library.default() as library:  # the Gallery shows what the command line made too
            work = upscale_work(args.file, engine, args.out or config.paths.works_dir, library=library,
                                upscaler=upscaler, scale=args.scale, signer=signer)
    finally:
        if wallet is not None:
            wallet.lock()
    for warning in work.warnings:
        print(f"warning: {printable(warning)}", file=sys.stderr)
    if args.json:
        print(json_line({"path": str(work.path), "recipe": work.recipe.to_dict()}))
    else:
        print(printable(work.path))
    return 0


def request_summary(request: Any) -> dict[str, Any]:
    """A request's settings as JSON (pictures left out: they are named in the notes)."""
    from dataclasses import asdict, fields

    data: dict[str, Any] = {}
    for item in fields(request):
        value = getattr(request, item.name)
        if item.name in ("init_image", "mask_image", "ip_adapter_image"):
            continue
        if item.name == "control":
            value = [{"model": str(u.model), "preprocessor": u.preprocessor, "weight": u.weight, "start": u.start,
                      "end": u.end} for u in value]
        elif item.name == "hires" and value is not None:
            value = asdict(value)
        elif item.name == "loras":
            value = [{"path": str(spec.path), "weight": spec.weight} for spec in value]
        elif item.name == "ip_adapter" and value is not None:
            value = str(value.path)
        elif isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = [str(v) for v in value]
        data[item.name] = value
    return data


def run_pnginfo(args: argparse.Namespace) -> int:
    from studio.config import load_config
    from studio.generation.models import ModelCatalog
    from studio.workflows.pnginfo import parameter_lines, read_parameters

    config = load_config()
    info = read_parameters(args.file, catalog=ModelCatalog(config), weights=config.model_folders())
    request = request_summary(info.request) if info.request is not None else None
    if args.json:
        print(json_line({"source": info.source, "fields": info.fields, "request": request, "notes": list(info.notes)}))
        return 0
    print(printable(str(args.file)))
    for line in parameter_lines(info):  # as the Create tab's PNG Info shows it
        print("  " + printable(line))
    return 0


def _print_styles(styles: list[Any], as_json: bool) -> None:
    from dataclasses import asdict

    if as_json:
        print(json_line({"styles": [asdict(style) for style in styles]}))
        return
    for style in styles:
        print(printable(f"{style.name}: {style.prompt}" + (f" | negative: {style.negative_prompt}"
                                                              if style.negative_prompt else "")))


def run_styles_list(args: argparse.Namespace) -> int:
    from studio.workflows.prompt_library import load_styles

    _print_styles(load_styles(), args.json)
    return 0


def run_styles_save(args: argparse.Namespace) -> int:
    from studio.workflows.prompt_library import PromptStyle, save_style

    _print_styles(save_style(PromptStyle(args.name, args.prompt, args.negative)), args.json)
    return 0


def run_styles_delete(args: argparse.Namespace) -> int:
    from studio.workflows.prompt_library import delete_style

    _print_styles(delete_style(args.name), args.json)
    return 0


def run_history(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from studio.workflows.prompt_library import prompt_history

    entries = prompt_history()[: max(0, args.limit)]
    if args.json:
        print(json_line({"prompts": [asdict(entry) for entry in entries]}))
    else:
        for entry in entries:
            print(printable(entry.prompt + (f" | negative: {entry.negative_prompt}" if entry.negative_prompt else "")))
    sys.stdout.flush()
    return 0
