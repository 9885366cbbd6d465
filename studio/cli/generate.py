"""``studio generate``: make images from a prompt and save them as works with their recipes.

Output: the path of each image as it is written, one per line. With ``--json``, one JSON object
per line instead (JSON Lines), as each image is written:
``{"path": "...", "recipe": {...}, "warnings": [...]}``.
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from studio.cli.common import add_signing_options, provenance_signer
from studio.cli.progress import ProgressBar
from studio.errors import InputError, NotFound
from studio.text import json_line, printable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate", help="make images from a prompt",
        description="Make images from a prompt and save each as a PNG carrying its recipe. "
                    "Steps, guidance and sampler default to what suits the model.",
        epilog="Prints the path of each image as it is saved; with --json one JSON object per line "
               "(path, recipe, warnings). Ctrl-C stops after the current step; finished images stay saved.")
    parser.add_argument("prompt", help="what to draw")
    parser.add_argument("--negative", default="", help="what to keep out of the image")
    parser.add_argument("--model", help="model name, path or 'demo' (default: the default model setting, else demo)")
    parser.add_argument("--seed", type=int, help="seed of the first image (default: random); image i uses seed+i")
    parser.add_argument("--steps", type=int, help="sampling steps (default: from the model)")
    parser.add_argument("--guidance", type=float, help="CFG scale (default: from the model)")
    parser.add_argument("--size", default=None, metavar="WxH", help="image size, e.g. 512x512 (default: the model's)")
    parser.add_argument("--count", type=int, default=1, help="number of images (default 1)")
    parser.add_argument("--scheduler", help="sampler: euler, euler_a, dpmpp_2m_karras, ddim, lcm")
    parser.add_argument("--init-image", type=Path, help="start from this image (image-to-image)")
    parser.add_argument("--strength", type=float, default=0.75,
                        help="how much of the init image to repaint, 0-1 (default 0.75)")
    parser.add_argument("--mask", type=Path, help="inpaint: white areas of this image are repainted")
    parser.add_argument("--lora", action="append", default=[], metavar="FILE[:WEIGHT]",
                        help="apply a .safetensors LoRA (weight default 1); repeatable")
    parser.add_argument("--out", type=Path, help="folder for the images (default: the studio's works folder)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per saved image")
    add_signing_options(parser)
    parser.set_defaults(func=run)


def parse_size(text: str) -> tuple[int, int]:
    """'512x768' -> (512, 768); '512' -> (512, 512)."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        if len(parts) == 1:
            return int(parts[0]), int(parts[0])
        if len(parts) == 2:
            return int(parts[0]), int(parts[1])
    except ValueError:
        pass
    raise InputError(f"“{text}” is not a size.", hint="Write it as WIDTHxHEIGHT, e.g. 512x512.")


def parse_lora(text: str) -> Any:
    """'style.safetensors:0.8' -> LoraSpec(path, 0.8); a bare path gets weight 1."""
    from studio.generation.request import LoraSpec

    path, weight = text, 1.0
    head, sep, tail = text.rpartition(":")
    if sep and head:
        try:
            weight = float(tail)
            path = head
        except ValueError:
            path = text  # a colon inside the path (e.g. a Windows drive), no weight
    return LoraSpec(path=Path(path).expanduser(), weight=weight)


def _open_image(path: Path, what: str) -> Any:
    from studio.safeimage import load_image

    if not path.is_file():
        raise NotFound(f"The {what} {path} does not exist.")
    return load_image(path, what=f"The {what} {path}")


def run(args: argparse.Namespace) -> int:
    from studio.cancel import CancelToken
    from studio.config import load_config
    from studio.generation.engine import Engine
    from studio.generation.models import ModelCatalog
    from studio.generation.request import GenerationRequest
    from studio.generation.schedulers import default_settings
    from studio.workflows.generate import SavedWork, generate_works

    config = load_config()
    catalog = ModelCatalog(config)
    model_name = args.model or config["default_model"] or "demo"
    info = catalog.resolve(model_name)
    steps, guidance, scheduler = default_settings(info)
    if args.size:
        width, height = parse_size(args.size)
    else:
        width = height = info.family.native_size
    init_image = _open_image(args.init_image, "init image") if args.init_image else None
    mask_image = _open_image(args.mask, "mask") if args.mask else None
    request = GenerationRequest(
        prompt=args.prompt, negative_prompt=args.negative, model=model_name, seed=args.seed,
        steps=args.steps if args.steps is not None else steps,
        guidance=args.guidance if args.guidance is not None else guidance,
        width=width, height=height, count=args.count, scheduler=args.scheduler or scheduler,
        init_image=init_image, strength=args.strength, mask_image=mask_image,
        loras=tuple(parse_lora(item) for item in args.lora),
    )
    engine = Engine(catalog, device=config["device"], precision=config["precision"],
                    memory_saving=config["memory_saving"], hash_cache=config.paths.hash_cache_file)
    engine.validate(request)
    out_dir = args.out or config.paths.works_dir
    wallet, signer = provenance_signer(args)
    from studio.library.db import Library

    library = Library.default()  # the Gallery shows what the command line made too

    warned: set[str] = set()

    def report(work: SavedWork) -> None:
        for warning in work.warnings:
            if warning not in warned:  # the same prompt warning holds for every image of the batch
                warned.add(warning)
                print(f"warning: {printable(warning)}", file=sys.stderr)
        if args.json:
            print(json_line({"path": str(work.path), "recipe": work.recipe.to_dict(),
                             "warnings": list(work.warnings)}), flush=True)
        else:
            print(printable(work.path), flush=True)

    cancel = CancelToken()

    def on_interrupt(_signum: int, _frame: Any) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt
        print("Stopping after the current step (Ctrl-C again to quit at once)...", file=sys.stderr)
        cancel.cancel()

    previous = signal.signal(signal.SIGINT, on_interrupt) if _main_thread() else None
    bar = ProgressBar()

    def on_step(step: Any) -> None:
        bar(step.fraction, f"image {step.image_index + 1}/{step.image_count}, step {step.step}/{step.steps}")

    try:
        generate_works(request, engine, out_dir, library=library, cancel=cancel, on_saved=report, signer=signer,
                       progress=on_step)
    finally:
        bar.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if wallet is not None:
            wallet.lock()
        library.close()
    return 0


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
