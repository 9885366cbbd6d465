"""``studio generate``: make images from a prompt, or from a file of prompts, and save them as works.

Output: the path of each image as it is written, one per line. With ``--json``, one JSON object
per line instead (JSON Lines), as each image is written:
``{"path": "...", "recipe": {...}, "warnings": [...]}``; with ``--prompts`` each object also has
the row's ``index``, and a last line sums up the run (folder, counts, the run's report). With
``--x``/``--y``/``--z`` (an X/Y/Z plot) the grid images follow, one line each (``{"grid": "..."}``
under ``--json``).

``--prompts FILE`` makes one image per line (or CSV row) into a resumable run folder; ``--cluster``
makes the images on a Ray cluster (they are checked, signed and saved here as they arrive).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from studio.cli.common import (Interrupt, add_backend_options, add_signing_options, backend_of, print_run_report,
                               provenance_signer)
from studio.cli.progress import ProgressBar
from studio.errors import InputError, NotFound
from studio.workflows.requests import parse_size
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
    parser.add_argument("--scheduler", "--sampler", dest="scheduler",
                        help="sampler: euler, euler_a, heun, lms, dpm2, dpm2_a, dpmpp_2m, dpmpp_2m_sde, dpmpp_sde, "
                             "unipc, ddim, lcm (default: from the model)")
    parser.add_argument("--sigmas", default="default", choices=("default", "karras", "exponential"),
                        help="sigma schedule of the sampler (default: the model's spacing)")
    parser.add_argument("--clip-skip", type=int, default=1, metavar="N",
                        help="read the text encoder's N-th layer from the end (A1111's count; default 1)")
    parser.add_argument("--vae", type=Path, metavar="FILE", help="a VAE file or folder instead of the model's own")
    parser.add_argument("--prompt-syntax", default="a1111", choices=("a1111", "plain"),
                        help="a1111: (word:1.2), [word], prompts past 77 tokens (default); plain: as typed")
    parser.add_argument("--embedding", action="append", default=[], type=Path, metavar="FILE",
                        help="a textual-inversion .safetensors, called by its file name in the prompt; repeatable")
    parser.add_argument("--style", action="append", default=[], metavar="NAME",
                        help="apply a saved prompt style (`studio styles list`); repeatable")
    parser.add_argument("--batch-size", type=int, default=1, help="images made together per batch (default 1)")
    parser.add_argument("--variation-seed", type=int, help="seed of the noise blended in (A1111's subseed)")
    parser.add_argument("--variation-strength", type=float, default=0.0,
                        help="how much of the variation seed's noise, 0-1 (default 0)")
    hires = parser.add_argument_group("hires fix")
    hires.add_argument("--hires", type=float, metavar="SCALE", help="upscale by SCALE and repaint (e.g. 2)")
    hires.add_argument("--hires-upscaler", default="latent", metavar="latent|lanczos|FILE",
                       help="how the first pass is upscaled (default latent)")
    hires.add_argument("--hires-steps", type=int, default=0, help="steps of the second pass (default: as the first)")
    hires.add_argument("--hires-denoise", type=float, default=0.5, help="denoise of the second pass (default 0.5)")
    parser.add_argument("--control", action="append", default=[], metavar="model=PATH,image=FILE[,...]",
                        help="a ControlNet or T2I-Adapter unit: model=, image=, pre=none|canny|lineart|tile|depth|pose, "
                             "weight=, start=, end=, low=, high= (canny thresholds); repeatable")
    plot = parser.add_argument_group("X/Y/Z plot")
    for axis in ("x", "y", "z"):
        plot.add_argument(f"--{axis}", metavar="AXIS=V1,V2,...",
                          help="vary AXIS over the values (seed, steps, guidance, sampler, sigmas, model, "
                               "lora_weight, clip_skip, prompt_sr); every cell is saved as a work, plus a grid image")
    parser.add_argument("--init-image", type=Path, help="start from this image (image-to-image)")
    parser.add_argument("--strength", type=float, default=0.75,
                        help="how much of the init image to repaint, 0-1 (default 0.75)")
    parser.add_argument("--mask", type=Path, help="inpaint: white areas of this image are repainted")
    parser.add_argument("--outpaint", metavar="LEFT,RIGHT,TOP,BOTTOM",
                        help="extend the init image by these pixels on each side and paint the new area "
                             "(the size follows; the width and height must come out as multiples of 8)")
    parser.add_argument("--lora", action="append", default=[], metavar="FILE[:WEIGHT]",
                        help="apply a .safetensors LoRA (weight default 1); repeatable")
    parser.add_argument("--out", type=Path, help="folder for the images (default: the studio's works folder)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per saved image")
    add_signing_options(parser)
    add_backend_options(parser)
    parser.set_defaults(func=run)


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


def parse_control(text: str) -> Any:
    """'model=cn,image=pose.png,pre=canny,weight=0.8' -> ControlUnit (the picture loaded)."""
    from studio.generation.request import ControlUnit

    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            raise InputError(f"“{part}” in --control is not key=value.",
                             hint="Write --control model=PATH,image=FILE[,pre=canny][,weight=1][,start=0][,end=1].")
        fields[key.strip()] = value.strip()
    unknown = set(fields) - {"model", "image", "pre", "weight", "start", "end", "low", "high"}
    if unknown or "model" not in fields or "image" not in fields:
        raise InputError(f"--control {text!r} needs model= and image= (and knows pre, weight, start, end, low, high).")
    try:
        return ControlUnit(model=Path(fields["model"]).expanduser(),
                           image=_open_image(Path(fields["image"]).expanduser(), "control picture"),
                           preprocessor=fields.get("pre", "none"), weight=float(fields.get("weight", 1.0)),
                           start=float(fields.get("start", 0.0)), end=float(fields.get("end", 1.0)),
                           low_threshold=int(fields.get("low", 100)), high_threshold=int(fields.get("high", 200)))
    except ValueError as exc:
        raise InputError(f"A number in --control {text!r} is not readable ({exc}).") from exc


def parse_axis_option(text: str) -> Any:
    """'steps=10,20,30' -> GridAxis."""
    from studio.workflows.grid import parse_axis

    kind, sep, values = text.partition("=")
    if not sep:
        raise InputError(f"“{text}” is not an axis.", hint="Write AXIS=V1,V2,..., e.g. --x steps=10,20,30.")
    return parse_axis(kind.strip(), values)


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
    from studio.generation.request import HiresFix, Outpaint
    from studio.workflows.generate import generate_works
    from studio.workflows.requests import model_name, studio_request

    config, catalog, engine = _engine()
    catalog.resolve(model_name(config, args.model))  # an unknown model is named before any file is read
    width, height = parse_size(args.size) if args.size else (None, None)
    init_image = _open_image(args.init_image, "init image") if args.init_image else None
    mask_image = _open_image(args.mask, "mask") if args.mask else None
    prompt, negative = args.prompt, args.negative
    if args.style:
        from studio.workflows.prompt_library import apply_style, find_style

        for name in args.style:
            prompt, negative = apply_style(prompt, negative, find_style(name))
    outpaint = None
    if args.outpaint:
        if init_image is None:
            raise InputError("--outpaint extends the --init-image.", hint="Give --init-image FILE too.")
        try:
            left, right, top, bottom = (int(v) for v in args.outpaint.split(","))
        except ValueError as exc:
            raise InputError(f"“{args.outpaint}” is not LEFT,RIGHT,TOP,BOTTOM.", hint="e.g. --outpaint 0,128,0,0") from exc
        outpaint = Outpaint(left=left, right=right, top=top, bottom=bottom)
        width, height = outpaint.canvas_size(init_image.size)
    hires = None
    if args.hires is not None:
        upscaler = args.hires_upscaler if args.hires_upscaler in ("latent", "lanczos") \
            else str(Path(args.hires_upscaler).expanduser())
        hires = HiresFix(scale=args.hires, upscaler=upscaler, steps=args.hires_steps, denoise=args.hires_denoise)
    request = studio_request(
        config, catalog, prompt, model=args.model, steps=args.steps, guidance=args.guidance,
        scheduler=args.scheduler, width=width, height=height,
        negative_prompt=negative, seed=args.seed, count=args.count,
        init_image=init_image, strength=args.strength, mask_image=mask_image,
        loras=tuple(parse_lora(item) for item in args.lora), sigmas=args.sigmas, clip_skip=args.clip_skip,
        vae=args.vae.expanduser() if args.vae else None, prompt_syntax=args.prompt_syntax,
        embeddings=tuple(path.expanduser() for path in args.embedding), hires=hires,
        control=tuple(parse_control(item) for item in args.control), variation_seed=args.variation_seed,
        variation_strength=args.variation_strength, batch_size=args.batch_size, outpaint=outpaint,
    )
    axes = [parse_axis_option(text) for text in (args.x, args.y, args.z) if text]
    if axes and args.cluster is not None:
        raise InputError("An X/Y/Z plot runs on this computer.", hint="Leave out --cluster, or the --x/--y/--z axes.")
    backend = backend_of(args, config, engine, catalog)
    if not axes:
        backend.validate(request)
    out_dir = args.out or config.paths.works_dir
    report = _work_printer(args)

    with _saving(args, backend) as (library, signer, bar, cancel):
        def on_cell(cell: int, cells: int, step: Any) -> None:
            bar((cell + step.fraction) / cells, f"cell {cell + 1}/{cells}, step {step.step}/{step.steps}")

        if axes:
            from studio.workflows.grid import make_grid

            plot = make_grid(request, axes, engine, out_dir, library=library, cancel=cancel,
                             on_saved=lambda work: report(work, {}), signer=signer, progress=on_cell)
            for grid in plot.grids:  # a grid is a picture of works, not a work: it stays out of the library
                print(json_line({"grid": str(grid)}) if args.json else printable(grid), flush=True)
        else:
            generate_works(request, backend, out_dir, library=library, cancel=cancel,
                           on_saved=lambda work: report(work, {}), signer=signer, progress=bar.report)
    return 0


def _engine() -> tuple[Any, Any, Any]:
    """The settings, the model catalog and the engine they describe (workflows/requests.py)."""
    from studio.config import load_config
    from studio.generation.models import ModelCatalog
    from studio.workflows.requests import studio_engine

    config = load_config()
    catalog = ModelCatalog(config)
    return config, catalog, studio_engine(config, catalog)


@contextmanager
def _saving(args: argparse.Namespace, backend: Any) -> Iterator[tuple[Any, Any, ProgressBar, Any]]:
    """What a run that saves works holds: the library (the Gallery shows what the command line made
    too), the --sign signer, a progress bar and Ctrl-C; each let go at the end, with the backend."""
    from studio.library.db import Library

    wallet = library = None
    bar = ProgressBar()
    try:
        wallet, signer = provenance_signer(args)
        library = Library.default()
        with Interrupt() as cancel:
            yield library, signer, bar, cancel
    finally:
        bar.close()
        backend.close()
        if wallet is not None:
            wallet.lock()
        if library is not None:
            library.close()


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
    from studio.workflows.requests import model_name

    rows = read_prompts(args.prompts)
    if args.count != 1 or args.init_image is not None or args.mask is not None:
        raise InputError("--prompts makes one image per prompt: --count, --init-image and --mask do not apply.")
    config, catalog, engine = _engine()
    width, height = parse_size(args.size) if args.size else (None, None)
    defaults = BatchDefaults(model=model_name(config, args.model), negative_prompt=args.negative,
                             seed=args.seed, width=width, height=height, steps=args.steps, guidance=args.guidance,
                             scheduler=args.scheduler, loras=tuple(parse_lora(item) for item in args.lora))
    out_dir = args.out or config.paths.works_dir / "batches" / args.prompts.stem
    backend = backend_of(args, config, engine, catalog)
    report = _work_printer(args)

    with _saving(args, backend) as (library, signer, bar, cancel):
        def on_report(run_report: Any) -> None:
            bar.close()
            print_run_report(run_report)

        result = generate_batch(rows, out_dir, backend, library=library, defaults=defaults,
                                progress=bar.report, cancel=cancel,
                                on_saved=lambda item, work: report(work, {"index": item.index}), signer=signer,
                                on_report=on_report)
    if args.json:
        print(json_line({"folder": str(result.folder), "count": len(result.items), "generated": result.generated,
                         "report": result.report.to_dict()}), flush=True)
    else:
        print(printable(f"{len(result.items)} images in {result.folder} ({result.generated} made now)."),
              file=sys.stderr)
    return 0
