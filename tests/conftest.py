"""Shared fixtures: a private studio home per test, the embedded devnet with the test phrase's
signers, the home's library and local store, the demo model built once per session with an
engine over it per module, and the `hello world` file whose CIDs Kubo prints."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from studio.errors import NotFound

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def studio_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test owns a temporary studio home (config, data and cache folders)."""
    home = tmp_path / "studio-home"
    monkeypatch.setenv("STUDIO_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def demo_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo model saved as a diffusers folder, built once for the whole session."""
    from studio.generation.demo import ensure_demo_model

    return ensure_demo_model(tmp_path_factory.mktemp("demo") / "demo-model").path


#: The phrase of the devnet's and anvil's funded accounts (public: for tests only).
TEST_MNEMONIC = "test test test test test test test test test test test junk"


@pytest.fixture
def devnet(studio_home: Path) -> Iterator["Devnet"]:  # noqa: F821
    """The embedded devnet (a fresh chain; its funded accounts are the test phrase's)."""
    from studio.chain.devnet import Devnet

    devnet = Devnet.shared()
    yield devnet
    devnet.close()


@pytest.fixture
def signers() -> list["LocalSigner"]:  # noqa: F821
    """Signers for the test phrase's first three accounts (funded on the devnet and anvil)."""
    from eth_account import Account

    from studio.chain.transactions import LocalSigner

    Account.enable_unaudited_hdwallet_features()
    return [LocalSigner(Account.from_mnemonic(TEST_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}"))
            for i in range(3)]


@pytest.fixture
def library(studio_home: Path) -> Iterator["Library"]:  # noqa: F821
    """The studio home's library database."""
    from studio.library.db import Library

    with Library.default() as lib:
        yield lib


@pytest.fixture
def store(studio_home: Path) -> "LocalStore":  # noqa: F821
    """The studio home's local content store (IPFS blocks on disk)."""
    from studio.storage.store import LocalStore

    return LocalStore.default()


class DemoCatalog:
    """The catalog interface the engine needs, holding only the session's demo model."""

    config = None

    def __init__(self, folder: Path) -> None:
        from studio.generation.demo import demo_model_info

        self.info = demo_model_info(folder)

    def resolve(self, name: str):
        if name != "demo":
            raise NotFound(f"No model called “{name}”.")
        return self.info


@pytest.fixture(scope="session")
def demo_catalog(demo_model_dir: Path) -> DemoCatalog:
    """A model catalog that knows only the demo model, for engines made by a test."""
    return DemoCatalog(demo_model_dir)


@pytest.fixture(scope="module")
def engine(demo_catalog: DemoCatalog, tmp_path_factory: pytest.TempPathFactory) -> "Engine":  # noqa: F821
    """One engine for the module: it keeps the demo loaded, as the studio does between jobs."""
    from studio.generation.engine import Engine

    return Engine(demo_catalog, hash_cache=tmp_path_factory.mktemp("hashes") / "hashes.json")


@pytest.fixture
def hello(tmp_path: Path) -> Path:
    """A file holding `hello world`, whose CIDs Kubo prints are in known_cids.py."""
    path = tmp_path / "hello.txt"
    path.write_bytes(b"hello world")
    return path


@pytest.fixture(scope="session", autouse=True)
def _pinned_threads() -> None:
    """Same seed and same thread count give identical pixels; pin the count for golden tests."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator["LocalCluster"]:  # noqa: F821
    """A real Ray cluster on this computer (tests/local_ray.py), started once for the session."""
    from local_ray import local_cluster

    with local_cluster(tmp_path_factory) as cluster:
        yield cluster
