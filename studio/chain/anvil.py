"""Start and stop an anvil node from the npm package in contracts/node_modules.

Used by the chain tests and the gas benchmark: a real Ethereum node on a free loopback port,
with the ten standard accounts of the public test mnemonic (never for real funds).
"""
from __future__ import annotations

import platform
import re
import subprocess
import threading
import time
from collections import deque
from pathlib import Path

from studio.errors import NetworkError, NotFound

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"
TEST_MNEMONIC = "test test test test test test test test test test test junk"
ANVIL_CHAIN_ID = 31337

_PLATFORMS = {
    ("Linux", "x86_64"): "linux-amd64",
    ("Linux", "aarch64"): "linux-arm64",
    ("Darwin", "x86_64"): "darwin-amd64",
    ("Darwin", "arm64"): "darwin-arm64",
    ("Windows", "AMD64"): "win32-amd64",
}


def anvil_binary(contracts_dir: Path = CONTRACTS_DIR) -> Path:
    """Path of the anvil executable npm installed for this platform (it may not exist yet)."""
    suffix = _PLATFORMS.get((platform.system(), platform.machine()), "linux-amd64")
    name = "anvil.exe" if suffix.startswith("win32") else "anvil"
    return contracts_dir / "node_modules" / "@foundry-rs" / f"anvil-{suffix}" / "bin" / name


class AnvilProcess:
    """A running anvil node; `url` is its HTTP RPC endpoint. Stop it with `stop()` or `with`."""

    def __init__(self, *, chain_id: int = ANVIL_CHAIN_ID, accounts: int = 10, balance_eth: int = 10_000,
                 binary: Path | None = None, startup_timeout: float = 30.0) -> None:
        self.binary = binary or anvil_binary()
        if not self.binary.exists():
            raise NotFound(
                f"The anvil node is not installed ({self.binary}).",
                hint="Run `python3 dev.py test` or `npm ci` in contracts/ to install the contract tools.",
            )
        self.output: deque[str] = deque(maxlen=200)
        self._listening = threading.Event()
        self._url: str | None = None
        self._process = subprocess.Popen(
            [str(self.binary), "--host", "127.0.0.1", "--port", "0", "--chain-id", str(chain_id),
             "--mnemonic", TEST_MNEMONIC, "--accounts", str(accounts), "--balance", str(balance_eth)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
        )
        # anvil blocks once its stdout pipe fills: read it for the whole life of the process.
        threading.Thread(target=self._drain, name="anvil-output", daemon=True).start()
        deadline = time.monotonic() + startup_timeout
        while not self._listening.wait(0.05):
            if time.monotonic() > deadline:
                self.stop()
                raise NetworkError("anvil did not start listening in time:\n" + "".join(self.output))
        if self._url is None:
            self.stop()
            raise NetworkError(f"anvil exited with code {self._process.returncode}:\n" + "".join(self.output))

    def _drain(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.output.append(line)
            if self._url is None:
                match = re.search(r"Listening on (\S+:\d+)", line)
                if match:
                    self._url = "http://" + match.group(1)
                    self._listening.set()
        self._listening.set()

    @property
    def url(self) -> str:
        assert self._url is not None
        return self._url

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within 10 s."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)

    def __enter__(self) -> "AnvilProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
