"""A real Ray cluster on this computer for the tests (a head node with four logical CPUs, no
dashboard): its processes, and the workers they start, run the studio from this checkout with a
studio home of their own (no wallet, no library) and can import tests/generation/cluster_workers.py."""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
#: Where the cluster's workers keep what they received (tests/generation/cluster_workers.py).
RECORD_ENV = "STUDIO_TEST_CLUSTER_RECORDS"


class LocalCluster:
    """The started cluster: its address, and the folder where recording workers keep what they got."""

    def __init__(self, address: str, record_dir: Path) -> None:
        self.address = address
        self.record_dir = record_dir

    def clear_records(self) -> None:
        for path in self.record_dir.iterdir():
            path.unlink()


@contextmanager
def local_cluster(tmp_path_factory: pytest.TempPathFactory, cpus: int = 4) -> Iterator[LocalCluster]:
    """Start the cluster; stop it (its own processes only) and remove its files afterwards."""
    try:
        from ray.cluster_utils import Cluster
    except ImportError:  # the suite needs it: `pip install -e '.[dev]'` (dev.py) installs it
        pytest.fail("Ray is not installed, and the cluster tests need it: pip install -e '.[dev]'")
    record_dir = tmp_path_factory.mktemp("worker-records")
    node_home = tmp_path_factory.mktemp("node-home")
    # Ray's own folder (sessions, sockets, its "current cluster" file), never the machine's /tmp/ray;
    # short, as its socket paths must fit in 107 bytes
    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    environment = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), str(TESTS / "generation"),
                                                               os.environ.get("PYTHONPATH")])),
                   "STUDIO_HOME": str(node_home), RECORD_ENV: str(record_dir), "RAY_USAGE_STATS_ENABLED": "0"}
    started: Any = None
    with pytest.MonkeyPatch.context() as session_patch:
        session_patch.setenv("RAY_TMPDIR", temp_dir)
        try:
            with pytest.MonkeyPatch.context() as patch:  # inherited by the head node's processes only
                for name, value in environment.items():
                    patch.setenv(name, value)
                # on this computer's own address: a driver asked for 127.0.0.1 goes to that address
                # anyway (Ray's rule), where a head bound to the loopback does not answer
                started = Cluster(initialize_head=True, connect=False, shutdown_at_exit=True, head_node_args={
                    "num_cpus": cpus, "num_gpus": 0, "include_dashboard": False,
                    "object_store_memory": 80 * 1024 * 1024})
            yield LocalCluster(started.address, record_dir)
        finally:
            if started is not None:
                started.shutdown()
            shutil.rmtree(temp_dir, ignore_errors=True)
