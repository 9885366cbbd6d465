"""Fixtures of the storage tests."""
from __future__ import annotations

from pathlib import Path

import pytest
from storage_data import make_reference_folder


@pytest.fixture
def reference_folder(tmp_path: Path) -> Path:
    return make_reference_folder(tmp_path)
