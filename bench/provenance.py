"""Provenance overhead: embed + verify of a 1024x1024 PNG next to a plain Pillow save of the same image.

"Embed" is what every studio save does: pixel hash, manifest, EIP-712 signature (a local test
key), PNG with parameters/manifest/XMP chunks, written atomically (fsync); with ``--c2pa`` also
the C2PA manifest signed with a throwaway per-install chain. "Verify" is `studio verify`'s work:
read, decode, pixel hash, signature recovery (and C2PA validation). The plain save writes the
same image with ``Image.save(path)``. Target: (embed + verify) / plain save under 1.5. Each step
is timed as the median of several runs after one warm-up (imports and first-use costs excluded).

    python bench/provenance.py
    python bench/provenance.py --size 512 --runs 5 --c2pa --json
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
TARGET = 1.5


def artwork(size: int) -> Any:
    """A picture-like image: smooth colour fields with fine grain (not pure noise, not flat)."""
    from PIL import Image, ImageFilter

    noise = Image.effect_noise((size, size), 64).convert("L")
    red = Image.linear_gradient("L").resize((size, size))
    green = noise.filter(ImageFilter.GaussianBlur(size / 64))
    blue = Image.effect_mandelbrot((size, size), (-2.0, -1.5, 1.0, 1.5), 64)
    return Image.merge("RGB", (red, green, blue)).filter(ImageFilter.SMOOTH)


def median_seconds(step: Callable[[], Any], runs: int) -> float:
    step()  # warm-up: imports, first-use caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="image width and height (default 1024)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per step (default 7)")
    parser.add_argument("--c2pa", action="store_true", help="also measure with a C2PA manifest")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)

    from eth_account import Account

    from studio.chain.signatures import recover_typed_data
    from studio.chain.transactions import LocalSigner
    from studio.provenance.embed import write_png_with_provenance
    from studio.provenance.manifest import Manifest, pixel_hash, utc_now
    from studio.provenance.verify import verify_file
    from studio.workflows.generate import sign_manifest

    image = artwork(args.size)
    signer = LocalSigner(Account.from_key(ANVIL_KEY_0))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        credentials = None
        if args.c2pa:
            from studio.provenance.c2pa import C2paCredentials

            credentials = C2paCredentials.load_or_create(folder / "c2pa")

        def plain() -> None:
            image.save(folder / "plain.png", format="PNG")

        def embed(c2pa: Any = None) -> None:
            manifest = Manifest(
                generator_name="provenance-studio", generator_version="bench", model_name="bench",
                model_sha256="ab" * 32, model_family="sd1", pipeline="txt2img", prompt="a benchmark, oil on canvas",
                negative_prompt="", seed=1, steps=20, guidance=7.0, scheduler="euler", width=image.width,
                height=image.height, pixel_hash=pixel_hash(image), created=utc_now(), creator=signer.address,
                device="cpu", dtype="float32")
            write_png_with_provenance(image, folder / "work.png", sign_manifest(manifest, signer),
                                      parameters="a benchmark, oil on canvas\nSteps: 20", c2pa_credentials=c2pa)

        def verify() -> None:
            verdict = verify_file(folder / "work.png", recover=recover_typed_data, c2pa_trust=credentials)
            if verdict.verdict != "verified":
                raise SystemExit(f"verify failed: {verdict.problems}")

        rows: dict[str, float] = {"plain Pillow save": median_seconds(plain, args.runs),
                                  "embed": median_seconds(embed, args.runs),
                                  "verify": median_seconds(verify, args.runs)}
        ratio = (rows["embed"] + rows["verify"]) / rows["plain Pillow save"]
        result: dict[str, Any] = {"size": args.size, "runs": args.runs, "seconds": rows,
                                  "ratio": ratio, "target": TARGET, "file_bytes": (folder / "work.png").stat().st_size,
                                  "plain_bytes": (folder / "plain.png").stat().st_size}
        if credentials is not None:
            rows["embed with C2PA"] = median_seconds(lambda: embed(credentials), args.runs)
            rows["verify with C2PA"] = median_seconds(verify, args.runs)
            result["ratio_with_c2pa"] = (rows["embed with C2PA"] + rows["verify with C2PA"]) / rows["plain Pillow save"]

    if args.json:
        print(json.dumps(result))
    else:
        print(f"Provenance overhead, {args.size}x{args.size} PNG, median of {args.runs} runs")
        print(f"{'step':<22}{'seconds':>10}")
        for name, seconds in rows.items():
            print(f"{name:<22}{seconds:>10.4f}")
        print(f"(embed + verify) / plain save: {ratio:.2f}x (target < {TARGET}x)")
        if "ratio_with_c2pa" in result:
            print(f"with C2PA: {result['ratio_with_c2pa']:.2f}x")
        print(f"file size: {result['file_bytes']:,} bytes (plain {result['plain_bytes']:,})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
