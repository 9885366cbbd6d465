"""Provenance fixtures: anvil's well-known test accounts as signers, and studio works made without a model."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from provenance_helpers import ANVIL_KEY_0, ANVIL_KEY_1, local_signer, write_work


@pytest.fixture
def signer() -> Any:
    return local_signer(ANVIL_KEY_0)


@pytest.fixture
def other_signer() -> Any:
    return local_signer(ANVIL_KEY_1)


@pytest.fixture
def make_work(tmp_path: Path) -> Callable[..., Path]:
    """``make_work(image=None, signer=None, *, c2pa=None, name=None, **manifest_fields) -> path``."""
    counter = iter(range(1000))

    def make(image: Any = None, signer: Any = None, *, c2pa: Any = None, name: str | None = None,
             **fields: Any) -> Path:
        return write_work(tmp_path / (name or f"work-{next(counter)}.png"), image, signer, c2pa=c2pa, **fields)

    return make
