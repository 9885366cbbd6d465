"""Benchmark: the studio's Engine.generate against a raw diffusers pipeline call, on full-size SD 1.5
and SDXL architectures (real configs from ``assets/models/families/``, random weights: the speed is that of
trained weights, the images are noise), reporting it/s and peak memory of each side.

Both sides load the same diffusers folder and make the same image (same size, steps, seed, CPU generator);
repetitions are interleaved (raw, studio, raw, ...) and medians compared. The studio runs with its speed
options (SDPA attention, channels-last on CUDA; ``--compile`` adds torch.compile, whose warm-up is timed
apart). Target: identical pixels without compile/channels-last, and the studio no slower than raw.

    python bench/generation.py --device cuda                 # SD 1.5 at 512 and SDXL at 1024, fp16, 20 steps
    python bench/generation.py --device cuda --compile --json
    python bench/generation.py --smoke --json                # CPU smoke run: the same path on scaled-down configs

Peak memory is CUDA's ``max_memory_allocated`` on a GPU, and the process's resident set sampled during
the call on the CPU (both sides live in one process there, so the CPU figure is an upper bound).
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


def _shrink(config: dict, kind: str) -> dict:
    """The smoke run's scaled-down copy of a family config: the same blocks, few channels and layers."""
    config = dict(config)
    if kind == "unet":
        levels = len(config["block_out_channels"])
        config.update(block_out_channels=[32, 64, 64, 64][:levels], layers_per_block=1, norm_num_groups=32,
                      cross_attention_dim=32 if "addition_embed_type" not in config else 64,
                      attention_head_dim=[8] * levels if isinstance(config.get("attention_head_dim"), list) else 8)
        if isinstance(config.get("transformer_layers_per_block"), list):
            config["transformer_layers_per_block"] = [1] * levels
        if config.get("addition_embed_type") == "text_time":
            config.update(projection_class_embeddings_input_dim=6 * 8 + 32, addition_time_embed_dim=8)
    elif kind == "vae":
        config.update(block_out_channels=[8, 16, 32, 32], norm_num_groups=8, layers_per_block=1)
    else:
        config.update(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                      projection_dim=32)
    return config


def build_arch(arch: str, folder: Path, dtype_name: str, *, smoke: bool = False) -> ModelInfo:
    """Save a full-size (or, for the smoke run, scaled-down) SD 1.5 or SDXL pipeline with random weights."""
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
    shrink = _shrink if smoke else (lambda config, _kind: config)
    text_config = shrink(_load_json(configs, "text_encoder"), "text")
    text_config.pop("model_type", None)
    parts = dict(
        unet=UNet2DConditionModel(**shrink(_load_json(configs, "unet"), "unet")).to(dtype),
        vae=AutoencoderKL(**shrink(_load_json(configs, "vae"), "vae")).to(dtype),
        text_encoder=CLIPTextModel(CLIPTextConfig(**text_config)).to(dtype),
        tokenizer=tokenizer,
        scheduler=EulerDiscreteScheduler(**_load_json(configs, "scheduler")),
    )
    if arch == "sdxl":
        config_2 = shrink(_load_json(configs, "text_encoder_2"), "text")
        config_2.pop("model_type", None)
        parts.update(text_encoder_2=CLIPTextModelWithProjection(CLIPTextConfig(**config_2)).to(dtype),
                     tokenizer_2=tokenizer)
        pipe = StableDiffusionXLPipeline(**parts)
    else:
        pipe = StableDiffusionPipeline(**parts, safety_checker=None, feature_extractor=None,
                                       requires_safety_checker=False)
    pipe.save_pretrained(folder, safe_serialization=True)
    return ModelInfo(name=f"random-{arch}", path=folder, family=ARCH_FAMILY[arch], format=ModelFormat.DIFFUSERS)




class PeakMemory:
    """Peak memory of the calls inside ``with``: CUDA's allocator high-water mark, or on the CPU the
    process's resident set, sampled every few milliseconds (the weights included)."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.peak_mib = 0.0

    @staticmethod
    def _rss() -> int:
        import os

        with open("/proc/self/statm") as stream:
            return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def __enter__(self) -> "PeakMemory":
        import threading

        if self.device == "cuda":
            import torch

            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._base = torch.cuda.memory_allocated()
            return self
        self._base = self._rss()
        self._top = self._base
        self._stop = threading.Event()

        def sample() -> None:
            while not self._stop.wait(0.002):
                self._top = max(self._top, self._rss())

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.device == "cuda":
            import torch

            torch.cuda.synchronize()
            self.peak_mib = torch.cuda.max_memory_allocated() / 2**20
            return
        self._stop.set()
        self._thread.join()
        self.peak_mib = max(self._top, self._rss()) / 2**20


def run_arch(args: argparse.Namespace, arch: str, workdir: Path) -> dict:
    import numpy as np
    import torch
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    from studio.generation.engine import Engine
    from studio.generation.request import GenerationRequest

    fp16 = args.device != "cpu" and not args.fp32
    dtype_name = "float16" if fp16 else "float32"
    info = build_arch(arch, workdir / arch, dtype_name, smoke=args.smoke)
    size = 64 if args.smoke else {"sd15": 512, "sdxl": 1024}[arch]
    width, height = (int(v) for v in (args.size or f"{size}x{size}").lower().split("x"))
    steps = args.steps or (1 if args.smoke else 20)
    cls = StableDiffusionXLPipeline if info.family is ModelFamily.SDXL else StableDiffusionPipeline
    extra = {} if info.family is ModelFamily.SDXL else dict(safety_checker=None, requires_safety_checker=False)
    raw = cls.from_pretrained(info.path, local_files_only=True, dtype=getattr(torch, dtype_name), **extra)
    raw.to(args.device)
    raw.set_progress_bar_config(disable=True)
    engine = Engine(FolderCatalog(info), device=args.device, precision="fp16" if fp16 else "fp32",
                    memory_saving="off", hash_cache=workdir / "hashes.json",
                    channels_last="on" if args.channels_last else "auto", torch_compile=args.compile)
    request = GenerationRequest(prompt=args.prompt, model=info.name, seed=args.seed, steps=steps,
                                guidance=args.guidance, width=width, height=height, scheduler="euler",
                                prompt_syntax="plain")

    def sync() -> None:
        if args.device == "cuda":
            torch.cuda.synchronize()

    def raw_call() -> object:
        return raw(args.prompt, generator=torch.Generator().manual_seed(args.seed), num_inference_steps=steps,
                   guidance_scale=args.guidance, height=height, width=width).images[0]

    warm_up: list[float] = []

    def on_progress(step: object) -> None:
        if getattr(step, "phase", "") == "warm-up":
            warm_up.append(time.perf_counter())

    def studio_call() -> object:
        return engine.generate(request, progress=on_progress)[0].image

    started = time.perf_counter()
    raw_image = raw_call()
    studio_started = time.perf_counter()
    studio_image = studio_call()  # loading, hashing and (with --compile) the compile warm-up: not timed below
    first_studio_s = time.perf_counter() - studio_started
    del started
    times: dict[str, list[float]] = {"raw": [], "studio": []}
    peaks: dict[str, float] = {"raw": 0.0, "studio": 0.0}
    for _ in range(args.reps):
        for name, call in (("raw", raw_call), ("studio", studio_call)):
            sync()
            with PeakMemory(args.device) as memory:
                began = time.perf_counter()
                image = call()
                sync()
                times[name].append(time.perf_counter() - began)
            peaks[name] = max(peaks[name], memory.peak_mib)
            if name == "raw":
                raw_image = image
            else:
                studio_image = image
    raw_s, studio_s = statistics.median(times["raw"]), statistics.median(times["studio"])
    result = {
        "arch": arch, "smoke": bool(args.smoke), "device": engine.device_label, "size": f"{width}x{height}",
        "steps": steps, "reps": args.reps, "raw_s": round(raw_s, 4), "studio_s": round(studio_s, 4),
        "raw_it_s": round(steps / raw_s, 3), "studio_it_s": round(steps / studio_s, 3),
        "overhead_pct": round(100 * (studio_s - raw_s) / raw_s, 2),
        "raw_peak_mib": round(peaks["raw"], 1), "studio_peak_mib": round(peaks["studio"], 1),
        "first_studio_call_s": round(first_studio_s, 2), "speed": engine.speed_report(),
        "identical_pixels": bool(np.array_equal(np.asarray(raw_image), np.asarray(studio_image))),
    }
    del raw, engine
    if args.device == "cuda":
        torch.cuda.empty_cache()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "mps"))
    parser.add_argument("--arch", choices=tuple(ARCH_FAMILY), action="append",
                        help="sd15 and/or sdxl (default: both)")
    parser.add_argument("--smoke", action="store_true",
                        help="CPU smoke run: scaled-down configs, 64x64, 1 step, 1 repetition")
    parser.add_argument("--fp32", action="store_true", help="full precision on a GPU (default fp16 there)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the studio's UNet")
    parser.add_argument("--channels-last", action="store_true", help="channels-last on any device (auto: CUDA)")
    parser.add_argument("--size", help="WxH (default 512 for sd15, 1024 for sdxl, 64 smoke)")
    parser.add_argument("--steps", type=int, default=0, help="default 20 (1 smoke)")
    parser.add_argument("--guidance", type=float, default=7.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reps", type=int, default=0, help="default 3 (1 smoke)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave as is)")
    parser.add_argument("--prompt", default="a lighthouse on a cliff at sunset, oil painting")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    args.reps = args.reps or (1 if args.smoke else 3)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    workdir = Path(tempfile.mkdtemp(prefix="bench-generation-"))
    try:
        rows = [run_arch(args, arch, workdir) for arch in (args.arch or ["sd15", "sdxl"])]
    finally:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps({"device": args.device, "compile": args.compile, "rows": rows}))
        return 0
    print(f"{'arch':>5} {'device':>22} {'size':>9} {'steps':>5} {'raw it/s':>9} {'studio it/s':>11} "
          f"{'overhead':>8} {'raw MiB':>8} {'studio MiB':>10} {'identical':>9}")
    for row in rows:
        print(f"{row['arch']:>5} {row['device'][:22]:>22} {row['size']:>9} {row['steps']:>5} {row['raw_it_s']:>9.2f} "
              f"{row['studio_it_s']:>11.2f} {row['overhead_pct']:>7.1f}% {row['raw_peak_mib']:>8.0f} "
              f"{row['studio_peak_mib']:>10.0f} {'yes' if row['identical_pixels'] else 'no':>9}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
