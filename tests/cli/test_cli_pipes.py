"""The command line behaves like a Unix tool in a pipe: a reader that stops early (`| head`) ends it quietly."""
from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_output_piped_into_a_reader_that_stops_early_ends_quietly(studio_home: Path) -> None:
    payload = bytes(range(256)) * 360  # 90 KiB: more than a pipe holds (64 KiB), so the writer meets the closed end
    uri = "data:application/octet-stream;base64," + base64.b64encode(payload).decode()
    env = dict(os.environ, STUDIO_HOME=str(studio_home))
    process = subprocess.Popen([sys.executable, "-m", "studio", "ipfs", "get", uri], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(10) == payload[:10]
    process.stdout.close()  # what `head -c 10` does once it has its bytes
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141  # 128 + SIGPIPE, as a shell reports it for other tools
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr and "Exception ignored" not in stderr
