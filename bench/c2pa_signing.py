"""C2PA signing and reading of a 1024x1024 PNG, next to a plain Pillow save of the same image.

The Pillow save is the floor every studio save pays anyway; C2PA adds signing (hashing the file,
one ES256 signature, rewriting it with the ``caBX`` chunk) and, when verifying, reading it back.
Each row is the median of ``--repeat`` runs in this process, after one warm-up (the native
library's first call loads it). The image is half noise, half flat, like a busy artwork.

    python bench/c2pa_signing.py
    python bench/c2pa_signing.py --size 2048 --repeat 5 --json
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_image(size: int):
    from PIL import Image

    noise = Image.merge("RGB", [Image.effect_noise((size, size // 2), 40 + 20 * band) for band in range(3)])
    image = Image.new("RGB", (size, size), (90, 120, 160))
    image.paste(noise, (0, 0))
    return image


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    action()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="edge of the square image in pixels (default 1024)")
    parser.add_argument("--repeat", type=int, default=9, help="timed runs per row (default 9)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    from studio.provenance.c2pa import C2paCredentials, read_c2pa, sign_c2pa

    image = make_image(args.size)

    def pillow_save() -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue()

    png = pillow_save()
    manifest = {"prompt": "a lighthouse at dusk", "seed": 1234, "steps": 30, "size": [args.size, args.size],
                "signature": "0x" + "ab" * 65}
    with tempfile.TemporaryDirectory(prefix="bench-c2pa-") as folder:
        start = time.perf_counter()
        credentials = C2paCredentials.load_or_create(Path(folder) / "c2pa")
        create_seconds = time.perf_counter() - start
        signed = sign_c2pa(png, "image/png", manifest, credentials=credentials)
        state = read_c2pa(signed, "image/png", trust=credentials).state
        rows = {
            "Pillow PNG save": median_seconds(pillow_save, args.repeat),
            "C2PA sign": median_seconds(lambda: sign_c2pa(png, "image/png", manifest, credentials=credentials),
                                        args.repeat),
            "C2PA read + validate": median_seconds(lambda: read_c2pa(signed, "image/png", trust=credentials),
                                                   args.repeat),
            "load credentials": median_seconds(lambda: C2paCredentials.load_or_create(Path(folder) / "c2pa"),
                                               args.repeat),
        }
    floor = rows["Pillow PNG save"]
    report = {"size": args.size, "cores": os.cpu_count(), "png_bytes": len(png), "signed_bytes": len(signed),
              "manifest_overhead_bytes": len(signed) - len(png), "state": state,
              "create_credentials_seconds": round(create_seconds, 4),
              "rows": [{"what": name, "seconds": round(seconds, 4),
                        "vs_pillow_save": round(seconds / floor, 3) if floor else None}
                       for name, seconds in rows.items()]}
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{args.size}x{args.size} PNG of {len(png) / 1024:.0f} KiB, {report['cores']} cores; the manifest adds "
          f"{report['manifest_overhead_bytes']} bytes and reads back {state}; first-use chain creation "
          f"{create_seconds * 1000:.1f} ms")
    print(f"{'':24}{'ms':>9}{'x Pillow save':>15}")
    for row in report["rows"]:
        print(f"{row['what']:24}{row['seconds'] * 1000:9.1f}{row['vs_pillow_save']:15.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
