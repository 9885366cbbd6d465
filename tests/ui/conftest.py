"""Fixtures for GUI tests: a studio home holding the session's demo model, the real window, and a
wallet (the test phrase's accounts on the embedded devnet) with its view-model."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

from studio.chain.history import TxHistory
from studio.chain.networks import NetworkRegistry
from studio.chain.session import WalletSession
from studio.chain.wallet import Wallet
from studio.config import Config, load_config
from studio.ui.state.wallet import WalletState
from studio.ui.workers import BackgroundPool
from wallet_helpers import PASSWORD, TEST_PHRASE, close_devnets


@pytest.fixture
def demo_config(studio_home: Path, demo_model_dir: Path) -> Config:
    """Settings of a studio home whose demo model is already built (a copy of the session's, so
    that nothing a test does can change the shared one)."""
    config = load_config()
    target = config.paths.demo_model_dir
    if not target.exists():
        shutil.copytree(demo_model_dir, target)
    return config


@pytest.fixture
def window(qtbot, demo_config: Config) -> Iterator["MainWindow"]:  # noqa: F821
    """The real main window over the real catalog and engine, with the demo chosen at 64x64, 2 steps."""
    from studio.generation.models import ModelCatalog
    from studio.ui.main_window import MainWindow

    demo_config.set("default_model", "demo")
    demo_config.set("preview_every", 1)
    window = MainWindow(demo_config, ModelCatalog(demo_config))
    qtbot.addWidget(window)
    state = window.create_state
    state.width, state.height, state.steps = 64, 64, 2
    window.show()
    yield window
    window.close()


@pytest.fixture
def wallet_session(tmp_path: Path, studio_home: Path) -> Iterator[WalletSession]:
    """The test phrase's first two accounts in a wallet with a cheap scrypt, on the embedded devnet."""
    wallet = Wallet(tmp_path / "wallet" / "wallet.json", kdf_n=2**10)
    wallet.create(PASSWORD, phrase=TEST_PHRASE, accounts=2)
    yield WalletSession(wallet, NetworkRegistry(tmp_path), TxHistory(tmp_path / "history.sqlite"))
    close_devnets()


@pytest.fixture
def empty_session(tmp_path: Path, studio_home: Path) -> Iterator[WalletSession]:
    """No wallet file yet (the setup wizard's starting point)."""
    yield WalletSession(Wallet(tmp_path / "wallet" / "wallet.json", kdf_n=2**10), NetworkRegistry(tmp_path),
                        TxHistory(tmp_path / "history.sqlite"))
    close_devnets()


@pytest.fixture
def pool(qtbot) -> Iterator[BackgroundPool]:
    """The background pool view-models run their jobs on, shut down after the test."""
    pool = BackgroundPool()
    yield pool
    pool.shutdown()


@pytest.fixture
def wallet_state(qtbot, wallet_session: WalletSession, pool: BackgroundPool) -> Iterator[WalletState]:
    """The Wallet tab's view-model over `wallet_session` (locked until a test unlocks it)."""
    state = WalletState(wallet_session, pool)
    yield state
    state.stop()


@pytest.fixture
def content_hashes(monkeypatch) -> list[str]:
    """Every SHA-256 of a work's bytes that the studio computes while the test runs (the library's
    hash of a work), as hex, in order: a test counts how often each work's file was hashed."""
    import studio.workflows.library as library_workflow

    computed: list[str] = []
    real = library_workflow.content_sha256

    def counting(data: bytes) -> str:
        computed.append(real(data))
        return computed[-1]

    monkeypatch.setattr(library_workflow, "content_sha256", counting)
    return computed
