"""The verifier page's tests reuse the provenance tests' helpers (signers, the PNG encoder)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "provenance"))
