"""Benchmark: the studio's Engine.generate against a raw diffusers pipeline call, side by side.

Both load the same diffusers folder and make the same image (same model, size, steps, seed, CPU
generator); repetitions are interleaved (raw, studio, raw, ...) and medians compared. Target:
identical pixels and at most 3 % overhead.

    python bench/generation.py                       # demo model on the CPU, 256x256, 4 steps
    python bench/generation.py --json                # the same figures as one JSON object
    python bench/generation.py --device cuda --fp16 --arch sd15    # full-size SD 1.5, 512x512
    python bench/generation.py --device cuda --fp16 --arch sdxl    # full-size SDXL, 1024x1024
    python bench/generation.py --arch sd15 --size 64x64 --steps 1 --reps 1   # CPU smoke check

``--arch`` builds the real architecture from ``assets/models/families/`` with random weights
(no download): speed is the same as with trained weights, the images are noise.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.generation.request import ModelFamily, ModelFormat, ModelInfo  # noqa: E402

ARCH_FAMILY = {"sd15": ModelFamily.SD1, "sdxl": ModelFamily.SDXL}
ARCH_FOLDERS = {"sd15": ("sd15", "sd1", "sd1.5"), "sdxl": ("sdxl",)}


class FolderCatalog:
    """The one model of the benchmark, resolved by any name."""

    config = None

    def __init__(self, info: ModelInfo) -> None:
        self.info = info

    def resolve(self, name: str) -> ModelInfo:
        return self.info


def _family_config_dir(arch: str) -> Path:
    from studio.assets import asset_path

    for name in ARCH_FOLDERS[arch]:
        folder = asset_path("models", "families", name)
        if (folder / "unet.json").exists() or (folder / "unet" / "config.json").exists():
            return folder
    raise SystemExit(f"No {arch} configs under {asset_path('models', 'families')}.")


def _load_json(folder: Path, name: str) -> dict:
    for candidate in (folder / f"{name}.json", folder / name / "config.json", folder / name / "scheduler_config.json"):
        if candidate.exists():
            data = json.loads(candidate.read_text())
            return {k: v for k, v in data.items() if not k.startswith("_") and k not in ("architectures",)}
    raise SystemExit(f"Missing {name} config in {folder}.")


def build_arch(arch: str, folder: Path, dtype_name: str) -> ModelInfo:
    """Save a full-size SD 1.5 or SDXL pipeline with random weights as a diffusers folder."""
    import torch
    from diffusers import (AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline,
                           StableDiffusionXLPipeline, UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    from studio.assets import asset_path

    configs = _family_config_dir(arch)
    tokenizer_dir = asset_path("models", "clip-tokenizer")
    tokenizer = CLIPTokenizer(str(tokenizer_dir / "vocab.json"), str(tokenizer_dir / "merges.txt"),
                              model_max_length=77, pad_token="<|endoftext|>")
    dtype = getattr(torch, dtype_name)
    torch.manual_seed(0)
    text_config = _load_json(configs, "text_encoder")
    text_config.pop("model_type", None)
    parts = dict(
        unet=UNet2DConditionModel(**_load_json(configs, "unet")).to(dtype),
        vae=AutoencoderKL(**_load_json(configs, "vae")).to(dtype),
        text_encoder=CLIPTextModel(CLIPTextConfig(**text_config)).to(dtype),
        tokenizer=tokenizer,
        scheduler=EulerDiscreteScheduler(**_load_json(configs, "scheduler")),
    )
    if arch == "sdxl":
        config_2 = _load_json(configs, "text_encoder_2")
        config_2.pop("model_type", None)
        parts.update(text_encoder_2=CLIPTextModelWithProjection(CLIPTextConfig(**config_2)).to(dtype),
                     tokenizer_2=tokenizer)
        pipe = StableDiffusionXLPipeline(**parts)
    else:
        pipe = StableDiffusionPipeline(**parts, safety_checker=None, feature_extractor=None,
                                       requires_safety_checker=False)
    pipe.save_pretrained(folder, safe_serialization=True)
    return ModelInfo(name=f"random-{arch}", path=folder, family=ARCH_FAMILY[arch], format=ModelFormat.DIFFUSERS)


def run(args: argparse.Namespace) -> dict:
    import numpy as np
    import torch
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    from studio.generation.engine import Engine
    from studio.generation.request import GenerationRequest

    torch.set_num_threads(args.threads) if args.threads else None
    dtype_name = "float16" if args.fp16 else "float32"
    workdir = Path(tempfile.mkdtemp(prefix="bench-generation-"))
    if args.arch:
        info = build_arch(args.arch, workdir / "model", dtype_name)
    else:
        from studio.generation.demo import ensure_demo_model

        info = ensure_demo_model(workdir / "demo")
    default_size = {"sd15": 512, "sdxl": 1024}.get(args.arch or "", 256)
    width, height = (int(v) for v in (args.size or f"{default_size}x{default_size}").lower().split("x"))

    cls = StableDiffusionXLPipeline if info.family is ModelFamily.SDXL else StableDiffusionPipeline
    extra = {} if info.family is ModelFamily.SDXL else dict(safety_checker=None, requires_safety_checker=False)
    raw = cls.from_pretrained(info.path, local_files_only=True, dtype=getattr(torch, dtype_name), **extra)
    raw.to(args.device)
    raw.set_progress_bar_config(disable=True)

    engine = Engine(FolderCatalog(info), device=args.device, precision="fp16" if args.fp16 else "fp32",
                    memory_saving="off", hash_cache=workdir / "hashes.json")
    request = GenerationRequest(prompt=args.prompt, model=info.name, seed=args.seed, steps=args.steps,
                                guidance=args.guidance, width=width, height=height, scheduler="euler")

    def sync() -> None:
        if args.device == "cuda":
            torch.cuda.synchronize()

    def raw_call():
        return raw(args.prompt, generator=torch.Generator().manual_seed(args.seed), num_inference_steps=args.steps,
                   guidance_scale=args.guidance, height=height, width=width).images[0]

    def studio_call():
        return engine.generate(request)[0].image

    # Warm-up (loading, hashing, kernels), not timed.
    raw_image, studio_image = raw_call(), studio_call()
    times: dict[str, list[float]] = {"raw": [], "studio": []}
    for _ in range(args.reps):
        for name, call in (("raw", raw_call), ("studio", studio_call)):
            sync()
            started = time.perf_counter()
            image = call()
            sync()
            times[name].append(time.perf_counter() - started)
            if name == "raw":
                raw_image = image
            else:
                studio_image = image
    raw_s, studio_s = statistics.median(times["raw"]), statistics.median(times["studio"])
    return {
        "model": info.name, "device": engine.device_label, "size": f"{width}x{height}", "steps": args.steps,
        "reps": args.reps, "raw_s": round(raw_s, 4), "studio_s": round(studio_s, 4),
        "overhead_pct": round(100 * (studio_s - raw_s) / raw_s, 2),
        "raw_images_per_s": round(1 / raw_s, 3), "studio_images_per_s": round(1 / studio_s, 3),
        "identical_pixels": bool(np.array_equal(np.asarray(raw_image), np.asarray(studio_image))),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "mps"))
    parser.add_argument("--fp16", action="store_true", help="half precision (GPU only)")
    parser.add_argument("--arch", choices=tuple(ARCH_FAMILY), help="full-size random-weight architecture")
    parser.add_argument("--size", help="WxH (default 256x256 demo, 512 sd15, 1024 sdxl)")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--guidance", type=float, default=7.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave as is)")
    parser.add_argument("--prompt", default="a lighthouse on a cliff at sunset, oil painting")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    if args.fp16 and args.device == "cpu":
        parser.error("--fp16 needs --device cuda or mps")
    result = run(args)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['model']} on {result['device']}, median of {result['reps']} interleaved runs")
    print(f"{'size':>10} {'steps':>5} {'raw s':>8} {'studio s':>9} {'overhead':>9} {'img/s raw':>10} "
          f"{'img/s studio':>12} {'identical':>9}")
    print(f"{result['size']:>10} {result['steps']:>5} {result['raw_s']:>8.3f} {result['studio_s']:>9.3f} "
          f"{result['overhead_pct']:>8.1f}% {result['raw_images_per_s']:>10.2f} "
          f"{result['studio_images_per_s']:>12.2f} {'yes' if result['identical_pixels'] else 'no':>9}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
