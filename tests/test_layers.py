"""DESIGN.md's layering, checked by reading every import in ``studio/``.

Qt only in ``ui/``; torch, diffusers and transformers only inside functions (so the window opens
before they load); web3, eth-account and the other eth libraries only in ``chain/``, and there too only inside functions
(the window imports chain modules for the wallet status, and must not pay for web3); the five domains independent (except
provenance → storage); nothing imports upwards (domains and base modules never reach workflows,
cli, api or ui; workflows never reach cli, api or ui; cli and api never reach ui).

The layers hold for objects too: outside ``chain/`` no code reaches into a web3 object (``.web3``,
``.eth``, a contract's ``.functions``) or recognises a web3 exception by its class name in a string
(``"TransactionNotFound"``): the chain layer offers typed methods and raises the studio's errors.
"""
from __future__ import annotations

import ast
import inspect
import re
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
#: Ray spreads generation over a cluster: only the cluster backend talks to it, and only once a run
#: starts (the studio runs without Ray installed; the packaged app leaves it out).
CLUSTER_ONLY_PACKAGES = {"ray"}
CLUSTER_MODULE = "studio.generation.cluster"
UPPER = {"workflows", "cli", "api", "ui"}
#: Attributes that reach into web3: a web3 handle, its ``eth`` module, a contract's raw functions.
WEB3_ATTRIBUTES = {"web3", "eth", "functions"}


def _web3_exception_names() -> frozenset[str]:
    """The exception classes web3 defines (TransactionNotFound, BlockNotFound, ContractLogicError ...)."""
    import web3.exceptions

    return frozenset(name for name, value in vars(web3.exceptions).items()
                     if inspect.isclass(value) and issubclass(value, BaseException)
                     and value.__module__.startswith("web3"))


WEB3_EXCEPTIONS = _web3_exception_names()


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


def test_ray_is_imported_only_by_the_cluster_backend_inside_functions() -> None:
    assert any(_package(s.target) == "ray" and s.module == CLUSTER_MODULE for s in SITES)  # the scan sees it
    bad = [s.where for s in SITES
           if _package(s.target) in CLUSTER_ONLY_PACKAGES and (s.module != CLUSTER_MODULE or s.top_level)]
    assert not bad, f"ray outside {CLUSTER_MODULE} or at module top level:\n" + "\n".join(bad)


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
    *[(base, UPPER) for base in ("config", "errors", "paths", "fileio", "logs", "cancel", "assets", "retry")],
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
    sites = []
    _walk(ast.parse("import ray\n\ndef run():\n    import ray.util\n"), "studio.workflows.fake", False, True, sites)
    assert [(_package(s.target), s.top_level, s.module != CLUSTER_MODULE) for s in sites] == [
        ("ray", True, True), ("ray", False, True)]


# ---------------------------------------------------------------- objects: web3 stays in chain/

@dataclass(frozen=True)
class ObjectLeak:
    module: str
    line: int
    what: str

    @property
    def where(self) -> str:
        return f"{self.module}:{self.line} {self.what}"


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the string constants that are docstrings (prose may name anything)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def object_leaks(tree: ast.AST, module: str) -> list[ObjectLeak]:
    """Where ``module`` reaches into a web3 object or names a web3 exception in a string."""
    names = re.compile(r"\b(" + "|".join(sorted(WEB3_EXCEPTIONS)) + r")\b")
    docstrings = _docstrings(tree)
    leaks = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in WEB3_ATTRIBUTES:
            leaks.append(ObjectLeak(module, node.lineno, f"uses .{node.attr}"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            for match in names.finditer(node.value):
                leaks.append(ObjectLeak(module, node.lineno, f"names the web3 exception {match.group(1)}"))
    return leaks


def studio_object_leaks() -> list[ObjectLeak]:
    leaks: list[ObjectLeak] = []
    for path in sorted(STUDIO.rglob("*.py")):
        module = _module_name(path)
        if _layer(module) == "chain":
            continue
        leaks += object_leaks(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), module)
    return leaks


def test_web3_objects_and_exceptions_stay_in_chain() -> None:
    leaks = studio_object_leaks()
    assert not leaks, "web3 objects or exception names outside studio/chain:\n" + "\n".join(l.where for l in leaks)


def test_the_object_checker_catches_a_leak() -> None:
    """The rules bite: attribute use and exception names in strings are caught; docstrings and
    look-alike names (``eth_amount``, ``.ethics``) are not."""
    source = (
        '''"""Reads the TransactionNotFound story."""\n'''
        "def settle(connection, contract, tx_hash):\n"
        '''    """Whatever BlockNotFound means here."""\n'''
        "    block = connection.web3.eth.block_number\n"
        "    contract.contract.functions.mintBatch(1).call()\n"
        "    try:\n"
        "        connection.receipt(tx_hash)\n"
        "    except Exception as exc:\n"
        "        if exc.__class__.__name__ in ('TransactionNotFound', 'Other'):\n"
        "            return None\n"
        "    eth_amount = contract.ethics\n"
        "    return f'{eth_amount} BlockNotFound'\n"
    )
    leaks = object_leaks(ast.parse(source), "studio.workflows.fake")
    assert [(leak.line, leak.what) for leak in sorted(leaks, key=lambda l: (l.line, l.what))] == [
        (4, "uses .eth"), (4, "uses .web3"), (5, "uses .functions"),
        (9, "names the web3 exception TransactionNotFound"), (12, "names the web3 exception BlockNotFound")]
    assert {"TransactionNotFound", "BlockNotFound", "ContractLogicError"} <= WEB3_EXCEPTIONS


def test_the_object_scan_sees_the_chain_layer_use_web3() -> None:
    """The scan would see a leak: the chain layer itself reaches into web3 (and is exempt)."""
    path = STUDIO / "chain" / "transactions.py"
    assert object_leaks(ast.parse(path.read_text(encoding="utf-8")), "studio.chain.transactions")
