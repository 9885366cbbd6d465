"""DESIGN.md's layering, checked by reading every import in ``studio/``.

Qt only in ``ui/``; torch, diffusers and transformers only inside functions (so the window opens
before they load); web3, eth-account and the other eth libraries only in ``chain/``, and there too only inside functions
(the window imports chain modules for the wallet status, and must not pay for web3); the five domains independent (except
provenance → storage); nothing imports upwards (domains and base modules never reach workflows,
cli, api or ui; workflows never reach cli, api or ui; cli and api never reach ui).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

STUDIO = Path(__file__).resolve().parent.parent / "studio"
DOMAINS = {"generation", "provenance", "storage", "chain", "library"}
ALLOWED_DOMAIN_EDGES = {("provenance", "storage")}
QT_PACKAGES = {"PySide6", "shiboken6", "PyQt5", "PyQt6", "PySide2"}
HEAVY_PACKAGES = {"torch", "diffusers", "transformers"}
#: The chain's libraries: only studio/chain talks to them (a workflow asks a chain function, e.g. for a
#: signed transaction's hash, instead of importing eth_utils itself).
CHAIN_ONLY_PACKAGES = {"web3", "eth_account", "eth_tester", "eth_abi", "eth_utils", "eth_keys", "eth_typing", "hexbytes"}
#: Slow to import (web3 alone takes about a second): never at the top of any studio module.
LAZY_CHAIN_PACKAGES = CHAIN_ONLY_PACKAGES
UPPER = {"workflows", "cli", "api", "ui"}


@dataclass(frozen=True)
class ImportSite:
    module: str        # the importing module, e.g. "studio.ui.app"
    target: str        # the imported module, absolute, e.g. "studio.generation.engine"
    line: int
    top_level: bool    # runs when the module is imported (not inside a function or TYPE_CHECKING)

    @property
    def where(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(STUDIO.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _walk(node: ast.AST, module: str, is_package: bool, top_level: bool, out: list[ImportSite]) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import):
            out.extend(ImportSite(module, alias.name, child.lineno, top_level) for alias in child.names)
        elif isinstance(child, ast.ImportFrom):
            target = _resolve(module, is_package, child)
            out.append(ImportSite(module, target, child.lineno, top_level))
            if child.level or target == "studio":  # "from studio import x" may name a submodule
                out.extend(ImportSite(module, f"{target}.{alias.name}", child.lineno, top_level)
                           for alias in child.names)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            _walk(child, module, is_package, False, out)
        elif isinstance(child, ast.If) and _is_type_checking(child):
            for stmt in child.body:
                _walk(ast.Module(body=[stmt], type_ignores=[]), module, is_package, False, out)
            for stmt in child.orelse:
                _walk(ast.Module(body=[stmt], type_ignores=[]), module, is_package, top_level, out)
        else:
            _walk(child, module, is_package, top_level, out)


def studio_imports() -> list[ImportSite]:
    sites: list[ImportSite] = []
    for path in sorted(STUDIO.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        _walk(tree, _module_name(path), path.name == "__init__.py", True, sites)
    return sites


def _layer(module: str) -> str:
    """'studio.generation.engine' -> 'generation'; 'studio.config' -> 'config'; 'studio' -> ''."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "studio" else ""


def _package(target: str) -> str:
    return target.split(".")[0]


SITES = studio_imports()


def test_the_scan_sees_the_code() -> None:
    modules = {site.module for site in SITES}
    assert {"studio.ui.app", "studio.generation.engine", "studio.config"} <= modules
    assert any(site.target == "PySide6.QtWidgets" for site in SITES)
    assert any(_package(site.target) == "torch" and not site.top_level for site in SITES)


def test_qt_is_imported_only_in_ui() -> None:
    bad = [s.where for s in SITES if _package(s.target) in QT_PACKAGES and _layer(s.module) != "ui"]
    assert not bad, "Qt outside studio/ui:\n" + "\n".join(bad)


def test_heavy_libraries_are_imported_only_inside_functions() -> None:
    bad = [s.where for s in SITES if _package(s.target) in HEAVY_PACKAGES and s.top_level]
    assert not bad, "torch/diffusers/transformers at module top level:\n" + "\n".join(bad)


def test_web3_and_eth_libraries_stay_in_chain() -> None:
    bad = [s.where for s in SITES if _package(s.target) in CHAIN_ONLY_PACKAGES and _layer(s.module) != "chain"]
    assert not bad, "chain libraries outside studio/chain:\n" + "\n".join(bad)


def test_web3_and_eth_libraries_are_imported_only_inside_functions() -> None:
    bad = [s.where for s in SITES if _package(s.target) in LAZY_CHAIN_PACKAGES and s.top_level]
    assert not bad, "web3/eth libraries at module top level:\n" + "\n".join(bad)


def test_domains_do_not_import_each_other() -> None:
    bad = []
    for s in SITES:
        source, target = _layer(s.module), _layer(s.target)
        if _package(s.target) == "studio" and source in DOMAINS and target in DOMAINS and source != target \
                and (source, target) not in ALLOWED_DOMAIN_EDGES:
            bad.append(s.where)
    assert not bad, "domain packages importing each other:\n" + "\n".join(bad)


@pytest.mark.parametrize("layer, forbidden", [
    ("cli", {"ui"}),
    ("api", {"ui"}),
    ("workflows", {"ui", "cli", "api"}),
    *[(domain, UPPER) for domain in sorted(DOMAINS)],
    *[(base, UPPER) for base in ("config", "errors", "paths", "fileio", "logs", "cancel", "assets")],
])
def test_nothing_imports_upwards(layer: str, forbidden: set[str]) -> None:
    bad = [s.where for s in SITES
           if _layer(s.module) == layer and _package(s.target) == "studio" and _layer(s.target) in forbidden]
    assert not bad, f"studio/{layer} importing a layer above it:\n" + "\n".join(bad)


def test_the_checker_catches_a_violation(tmp_path: Path) -> None:
    """The rules bite: a made-up domain module importing torch at top level and the UI is caught."""
    source = "import torch\nfrom studio.ui.app import main\n\ndef later():\n    import diffusers\n"
    sites: list[ImportSite] = []
    _walk(ast.parse(source), "studio.storage.fake", False, True, sites)
    assert [(s.target, s.top_level) for s in sites] == [
        ("torch", True), ("studio.ui.app", True), ("diffusers", False)]
    assert _layer(sites[1].target) in UPPER
