"""The compiled contracts in contracts/build/*.json, committed so the studio needs no compiler.

`contracts/build.js` writes them; `source_is_current` tells whether an artifact still matches
the Solidity file it came from (the stale-artifact test uses it).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from studio.assets import data_dir
from studio.errors import NotFound, StorageError

#: The Solidity sources (a checkout only); the compiled artifacts also come with an installed wheel.
CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"
BUILD_DIR = data_dir("contracts/build")


@dataclass(frozen=True)
class Artifact:
    """One compiled contract: ABI, creation and runtime bytecode, and how it was built."""

    name: str
    abi: tuple[dict[str, Any], ...]
    bytecode: str
    deployed_bytecode: str
    source_path: str
    source_hash: str
    sources_hash: str
    compiler_version: str
    settings: dict[str, Any]
    #: sha256 of each of the project's own sources the contract imports (``src/base/...``), by path.
    imported_hashes: dict[str, str] = field(default_factory=dict)
    #: npm package -> version for a protocol compiled from its npm sources (Seaport); empty for ours.
    vendor_packages: dict[str, str] = field(default_factory=dict)
    #: Where the runtime code holds immutables: AST id -> [{"start", "length"}] (vendored artifacts).
    immutable_references: dict[str, list[dict[str, int]]] = field(default_factory=dict)

    @property
    def source_file(self) -> Path:
        return CONTRACTS_DIR / self.source_path

    def errors(self) -> list[dict[str, Any]]:
        return [entry for entry in self.abi if entry.get("type") == "error"]


@lru_cache(maxsize=None)
def load_artifact(name: str, build_dir: Path = BUILD_DIR) -> Artifact:
    """Read `build_dir/<name>.json`; raises NotFound or StorageError with what to do."""
    path = build_dir / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise NotFound(
            f"The compiled contract {name} is missing ({path}).",
            hint="Rebuild the contracts with `node build.js` in contracts/.",
        ) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise StorageError(f"The compiled contract {path} cannot be read: {exc}.",
                           hint="Rebuild the contracts with `node build.js` in contracts/.") from exc
    return Artifact(
        name=data["contractName"],
        abi=tuple(data["abi"]),
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
        source_path=data["sourcePath"],
        source_hash=data["sourceHash"],
        sources_hash=data["sourcesHash"],
        compiler_version=data["compiler"]["version"],
        settings=data["compiler"]["settings"],
        imported_hashes=dict(data.get("importedSources", {})),
        vendor_packages=dict((data.get("vendor") or {}).get("packages", {})),
        immutable_references=dict(data.get("immutableReferences") or {}),
    )


def artifact_names(build_dir: Path = BUILD_DIR) -> list[str]:
    """Names of every committed artifact."""
    return sorted(path.stem for path in build_dir.glob("*.json"))


def source_is_current(artifact: Artifact) -> bool:
    """Whether the artifact was built from the Solidity file, and the project's sources it imports,
    as they are now."""
    expected = {artifact.source_file: artifact.source_hash}
    expected.update((CONTRACTS_DIR / path, digest) for path, digest in artifact.imported_hashes.items())
    try:
        return all(hashlib.sha256(path.read_bytes()).hexdigest() == digest for path, digest in expected.items())
    except FileNotFoundError:
        return False
