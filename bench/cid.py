"""CID of a large file (v0 and v1, Kubo's layout) next to `openssl dgst -sha256` of the same file.

openssl is the hashing floor: every byte must go through sha2-256 once. Targets: CID no slower
than openssl (leaves are independent, so the studio hashes them on all cores) and peak memory
under 64 MiB above the interpreter. Each measurement runs in its own process, so its peak
resident memory is its own. The file is read once before timing so all runs see a warm cache.

    python bench/cid.py                 # 1 GiB
    python bench/cid.py --size 64M --json
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {repo!r})
from studio.storage.unixfs import add_path
version = int(sys.argv[2])
if version < 0:
    print(json.dumps({{"seconds": 0.0, "cid": "", "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
    sys.exit(0)
start = time.perf_counter()
cid = add_path(sys.argv[1], cid_version=version).cid
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "cid": str(cid), "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def parse_size(text: str) -> int:
    units = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    return int(float(text[:-1]) * units[text[-1]]) if text[-1:] in units else int(text)


def make_file(path: Path, size: int) -> None:
    block = os.urandom(8 * 1024 * 1024)
    with open(path, "wb") as out:
        written = 0
        while written < size:
            piece = block[: min(len(block), size - written)]
            out.write(piece)
            written += len(piece)


def run_cid(path: Path, version: int) -> dict:
    script = _CHILD.format(repo=str(REPO))
    result = subprocess.run([sys.executable, "-c", script, str(path), str(version)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def run_openssl(path: Path) -> dict:
    start = time.perf_counter()
    result = subprocess.run(["openssl", "dgst", "-sha256", str(path)], capture_output=True, text=True, check=True)
    return {"seconds": time.perf_counter() - start, "digest": result.stdout.split()[-1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1G", help="file size (e.g. 1G, 64M; default 1G)")
    parser.add_argument("--file", type=Path, help="hash this file instead of making one")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-cid-") as folder:
        path = args.file or Path(folder) / "big.bin"
        if args.file is None:
            make_file(path, parse_size(args.size))
        size = path.stat().st_size
        with open(path, "rb") as warm:
            while warm.read(16 * 1024 * 1024):
                pass
        baseline = run_cid(path, -1)["peak_mib"]
        rows = {"openssl dgst -sha256": run_openssl(path), "CIDv0 (dag-pb leaves)": run_cid(path, 0),
                "CIDv1 (raw leaves)": run_cid(path, 1)}
    floor = rows["openssl dgst -sha256"]["seconds"]
    report = {"bytes": size, "cores": os.cpu_count(), "interpreter_peak_mib": round(baseline, 1),
              "rows": [{"what": name, "seconds": round(row["seconds"], 3),
                        "mib_per_s": round(size / 2 ** 20 / row["seconds"], 1) if row["seconds"] else None,
                        "vs_openssl": round(row["seconds"] / floor, 2) if floor else None,
                        "peak_mib": round(row["peak_mib"], 1) if "peak_mib" in row else None,
                        "result": row.get("cid") or row.get("digest")} for name, row in rows.items()]}
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{size / 2 ** 20:.0f} MiB file, {report['cores']} cores; interpreter alone peaks at {baseline:.1f} MiB")
    print(f"{'':24}{'seconds':>9}{'MiB/s':>9}{'x openssl':>11}{'peak MiB':>10}  result")
    for row in report["rows"]:
        peak = f"{row['peak_mib']:.1f}" if row["peak_mib"] is not None else "-"
        print(f"{row['what']:24}{row['seconds']:9.3f}{row['mib_per_s']:9.1f}{row['vs_openssl']:11.2f}{peak:>10}  "
              f"{row['result']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
