"""``studio generate``: make images from a prompt, or from a file of prompts, and save them as works.

Output: the path of each image as it is written, one per line. With ``--json``, one JSON object
per line instead (JSON Lines), as each image is written:
``{"path": "...", "recipe": {...}, "warnings": [...]}``; with ``--prompts`` each object also has
the row's ``index``, and a last line sums up the run (folder, counts, the run's report).

``--prompts FILE`` makes one image per line (or CSV row) into a resumable run folder; ``--cluster``
makes the images on a Ray cluster (they are checked, signed and saved here as they arrive).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from studio.cli.common import (Interrupt, add_backend_options, add_signing_options, backend_of, print_run_report,
                               provenance_signer)
from studio.cli.progress import ProgressBar
from studio.errors import InputError, NotFound
from studio.text import json_line, printable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate", help="make images from a prompt",
        description="Make images from a prompt and save each as a PNG carrying its recipe. "
                    "Steps, guidance and sampler default to what suits the model.",
        epilog="Prints the path of each image as it is saved; with --json one JSON object per line "
               "(path, recipe, warnings). Ctrl-C stops after the current step; finished images stay saved. "
               "With --prompts, run the same command again to continue a stopped batch.")
    parser.add_argument("prompt", nargs="?", help="what to draw (or give --prompts FILE)")
    parser.add_argument("--prompts", type=Path, metavar="FILE",
                        help="one image per line of FILE, or per row of a CSV file with a prompt column and "
                             "optional negative, seed, size (WxH), model, steps, guidance, scheduler columns; "
                             "saved as 0001.png... into --out (default: batches/<FILE name> in the works folder), "
                             "resumably")
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
    add_backend_options(parser)
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
    if (args.prompt is None) == (args.prompts is None):
        raise InputError("Give a prompt, or --prompts FILE (not both).",
                         hint='e.g. studio generate "a red fox", or studio generate --prompts prompts.txt; '
                              "see studio generate --help.")
    if args.prompts is not None:
        return _run_batch(args)
    from studio.generation.request import GenerationRequest
    from studio.generation.schedulers import default_settings
    from studio.workflows.generate import SavedWork, generate_works

    config, catalog, engine = _engine()
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
    backend = backend_of(args, config, engine, catalog)
    backend.validate(request)
    out_dir = args.out or config.paths.works_dir
    wallet, signer = provenance_signer(args)
    from studio.library.db import Library

    library = Library.default()  # the Gallery shows what the command line made too
    report = _work_printer(args)
    bar = ProgressBar()

    def on_step(step: Any) -> None:
        bar(step.fraction, f"image {step.image_index + 1}/{step.image_count}, step {step.step}/{step.steps}")

    try:
        with Interrupt() as cancel:
            generate_works(request, backend, out_dir, library=library, cancel=cancel,
                           on_saved=lambda work: report(work, {}), signer=signer, progress=on_step)
    finally:
        bar.close()
        backend.close()
        if wallet is not None:
            wallet.lock()
        library.close()
    return 0


def _engine() -> tuple[Any, Any, Any]:
    from studio.config import load_config
    from studio.generation.engine import Engine
    from studio.generation.models import ModelCatalog

    config = load_config()
    catalog = ModelCatalog(config)
    engine = Engine(catalog, device=config["device"], precision=config["precision"],
                    memory_saving=config["memory_saving"], hash_cache=config.paths.hash_cache_file)
    return config, catalog, engine


def _work_printer(args: argparse.Namespace) -> Any:
    """Prints each saved work (a path, or a JSON line with ``extra`` fields); each warning once."""
    warned: set[str] = set()

    def report(work: Any, extra: dict[str, Any]) -> None:
        for warning in work.warnings:
            if warning not in warned:  # the same prompt warning holds for every image of the batch
                warned.add(warning)
                print(f"warning: {printable(warning)}", file=sys.stderr)
        if args.json:
            print(json_line({**extra, "path": str(work.path), "recipe": work.recipe.to_dict(),
                             "warnings": list(work.warnings)}), flush=True)
        else:
            print(printable(work.path), flush=True)

    return report


def _run_batch(args: argparse.Namespace) -> int:
    """``--prompts FILE``: one work per row, into a run folder that a rerun continues."""
    from studio.workflows.prompt_batch import BatchDefaults, generate_batch, read_prompts

    rows = read_prompts(args.prompts)
    if args.count != 1 or args.init_image is not None or args.mask is not None:
        raise InputError("--prompts makes one image per prompt: --count, --init-image and --mask do not apply.")
    config, catalog, engine = _engine()
    width, height = parse_size(args.size) if args.size else (None, None)
    defaults = BatchDefaults(model=args.model or config["default_model"] or "demo", negative=args.negative,
                             seed=args.seed, width=width, height=height, steps=args.steps, guidance=args.guidance,
                             scheduler=args.scheduler, loras=tuple(parse_lora(item) for item in args.lora))
    out_dir = args.out or config.paths.works_dir / "batches" / args.prompts.stem
    backend = backend_of(args, config, engine, catalog)
    wallet, signer = provenance_signer(args)
    from studio.library.db import Library

    library = Library.default()
    report = _work_printer(args)
    bar = ProgressBar()

    def on_report(run_report: Any) -> None:
        bar.close()
        print_run_report(run_report)

    try:
        with Interrupt() as cancel:
            result = generate_batch(rows, out_dir, backend, library=library, defaults=defaults,
                                    progress=lambda step: bar(step.fraction, step.text), cancel=cancel,
                                    on_saved=lambda item, work: report(work, {"index": item.index}), signer=signer,
                                    on_report=on_report)
    finally:
        bar.close()
        backend.close()
        if wallet is not None:
            wallet.lock()
        library.close()
    if args.json:
        print(json_line({"folder": str(result.folder), "count": len(result.items), "generated": result.generated,
                         "report": result.report.to_dict()}), flush=True)
    else:
        print(printable(f"{len(result.items)} images in {result.folder} ({result.generated} made now)."),
              file=sys.stderr)
    return 0
