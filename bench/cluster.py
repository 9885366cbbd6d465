"""Benchmark: a collection-sized run on a Ray cluster of this computer against this computer's engine.

The same single-image tasks (the demo model, fixed seeds) are made three ways, each warmed up first
(workers started and the model loaded, which a long run pays once): on this computer's engine
(before and after the cluster runs, the faster counted), on a local Ray cluster with one worker,
then with two, each worker on ``--threads`` torch threads (and as many of Ray's CPUs). Reported: items per second, and the scheduling overhead per
item of one worker against this computer (the time Ray and the checks of each answer add).

    python bench/cluster.py                  # 16 items of 256x256, 4 steps, 1 thread per worker
    python bench/cluster.py --json           # the same figures as one JSON object
    python bench/cluster.py --items 40 --size 512 --workers 1 2 4 --threads 2

On GPU nodes, run the studio against the cluster instead (docs/cluster.md): this script measures
what spreading costs and gains on one machine's cores.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))  # the workers
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


class OneModel:
    """The benchmark's catalog: the demo model by any name."""

    config = None

    def __init__(self, info: Any) -> None:
        self.info = info

    def resolve(self, name: str) -> Any:
        return self.info


def _tasks(args: argparse.Namespace, first_seed: int) -> list[Any]:
    from studio.generation.backends import single_image_tasks
    from studio.generation.request import GenerationRequest

    return single_image_tasks(GenerationRequest(prompt="a lighthouse at dusk", width=args.size, height=args.size,
                                                steps=args.steps, seed=first_seed, count=args.items))


def _timed(backend: Any, tasks: list[Any]) -> tuple[float, Any]:
    made: list[Any] = []
    began = time.perf_counter()
    report = backend.run_tasks(tasks, on_result=made.append)
    elapsed = time.perf_counter() - began
    if len(made) != len(tasks):
        raise SystemExit(f"{len(made)} of {len(tasks)} items were made: {report.lines()}")
    return elapsed, report


def run(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from studio.generation.backends import LocalBackend
    from studio.generation.cluster import RayBackend
    from studio.generation.demo import ensure_demo_model
    from studio.generation.engine import Engine

    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    os.environ["STUDIO_HOME"] = str(work / "home")
    info = ensure_demo_model(work / "demo")
    catalog = OneModel(info)
    torch.set_num_threads(args.threads)
    local = LocalBackend(Engine(catalog, device="cpu", hash_cache=work / "hashes.json"))
    _timed(local, _tasks(args, 1000)[:2])  # load the model
    local_s, _ = _timed(local, _tasks(args, 0))
    rows = [{"where": "this computer", "workers": 1, "threads": args.threads, "items": args.items,
             "seconds": round(local_s, 3), "items_per_s": round(args.items / local_s, 3)}]
    import ray

    ray.init(num_cpus=max(args.workers) * args.threads, include_dashboard=False, log_to_driver=False,
             object_store_memory=256 * 1024 * 1024)
    try:
        for count in args.workers:
            with RayBackend(catalog, address="local", hash_cache=work / "hashes.json", cpus_per_worker=args.threads,
                            max_workers=count) as backend:
                began = time.perf_counter()
                _timed(backend, _tasks(args, 2000)[:count * 2])  # start the workers, load the model on each
                startup_s = time.perf_counter() - began
                elapsed, report = _timed(backend, _tasks(args, 0))
            rows.append({"where": "Ray cluster on this computer", "workers": count, "threads": args.threads,
                         "items": args.items, "seconds": round(elapsed, 3),
                         "items_per_s": round(args.items / elapsed, 3), "warm_up_s": round(startup_s, 2),
                         "per_node": [n.done for n in report.nodes]})
    finally:
        ray.shutdown()
    again_s, _ = _timed(local, _tasks(args, 0))  # this computer again: the faster of the two counts
    if again_s < local_s:
        local_s = again_s
        rows[0].update(seconds=round(local_s, 3), items_per_s=round(args.items / local_s, 3))
    one = next((r for r in rows[1:] if r["workers"] == 1), None)
    overhead = (one["seconds"] - local_s) / args.items if one else None
    return {"benchmark": "cluster", "size": args.size, "steps": args.steps, "cpu_count": os.cpu_count(),
            "torch_threads_per_worker": args.threads, "rows": rows,
            "scheduling_overhead_per_item_s": round(overhead, 4) if overhead is not None else None,
            "ray": ray.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=16)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (and Ray CPUs) per worker")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to measure")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{args.items} items of {args.size}x{args.size}, {args.steps} steps, {args.threads} thread(s) per worker, "
          f"{result['cpu_count']} cores, Ray {result['ray']}")
    print(f"{'where':<30} {'workers':>7} {'items/s':>8} {'seconds':>8} {'warm-up s':>9}")
    for row in result["rows"]:
        print(f"{row['where']:<30} {row['workers']:>7} {row['items_per_s']:>8.2f} {row['seconds']:>8.2f} "
              f"{row.get('warm_up_s', ''):>9}")
    if result["scheduling_overhead_per_item_s"] is not None:
        print(f"scheduling overhead per item (1 worker against this computer): "
              f"{result['scheduling_overhead_per_item_s'] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
