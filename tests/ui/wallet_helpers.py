"""Plain helpers and constants of the wallet GUI tests (the fixtures are in conftest.py): the
test phrase's accounts on the embedded devnet, and waiting for a view-model's jobs."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.ui.state.wallet import WalletState

TEST_PHRASE = "test test test test test test test test test test test junk"
PASSWORD = "wallet-password"
ACCOUNT_1 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ACCOUNT_2 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
DEVNET = "Studio devnet (built in)"
JOB_MS = 60_000


def close_devnets() -> None:
    """Close the embedded devnets a test started (each test starts from a fresh chain)."""
    import studio.chain.devnet as devnet_module

    for devnet in list(devnet_module._shared.values()):
        devnet.close()
    devnet_module._shared.clear()


def wait_job(qtbot, job, timeout: int = JOB_MS):
    """Wait for a job to end; returns its result (or raises the exception it failed with)."""
    outcome: list = []
    job.succeeded.connect(lambda result: outcome.append(("ok", result)))
    job.failed.connect(lambda exc: outcome.append(("failed", exc)))
    qtbot.waitUntil(lambda: bool(outcome), timeout=timeout)
    kind, value = outcome[0]
    if kind == "failed":
        raise value
    return value


def refresh(qtbot, state: "WalletState") -> None:
    with qtbot.waitSignal(state.refreshed, timeout=JOB_MS):
        state.refresh()
    qtbot.waitUntil(lambda: not state.busy, timeout=JOB_MS)  # the job's end arrives just after its result


def unlock(qtbot, state: "WalletState", password: str = PASSWORD) -> None:
    wait_job(qtbot, state.unlock(password))
