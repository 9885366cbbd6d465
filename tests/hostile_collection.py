"""A collection the studio did not create, built to misbehave: the HostileNFT test contract with one
token per kind of bad (and good) metadata, its files in the test's local IPFS store.

Shared by tests/chain/test_erc721.py, tests/workflows/test_collector.py and tests/ui/test_collector_view.py.
"""
from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

# HostileNFT.Mode
URI, REVERT, BARE_REVERT, GARBAGE, HUGE_STRING, BURN_GAS = range(6)
ROYALTY_BPS = 750

GOOD = "good"      # a card with a name and an image
NO_IMAGE = "no-image"  # a card with a name, the image refused with a note
ERROR = "error"    # an error card


def png_bytes(color: tuple[int, int, int], size: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), color).save(out, format="PNG")
    return out.getvalue()


def bomb_png(width: int = 60_000, height: int = 60_000) -> bytes:
    """A PNG header claiming 3.6 gigapixels over a few kilobytes of zeros (never decode it)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (width + 1) * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def data_json(value: Any) -> str:
    return "data:application/json;base64," + base64.b64encode(json.dumps(value).encode()).decode()


def data_png(color: tuple[int, int, int]) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(color)).decode()


SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script>'
       b'<rect width="10" height="10" fill="red"/></svg>')
HTML_NAME = "<b>Bold</b><script>alert('x')</script><img src=x onerror=alert(1)>"


@dataclass
class HostileCollection:
    address: str
    expected: dict[int, str] = field(default_factory=dict)   # token id -> GOOD / NO_IMAGE / ERROR
    labels: dict[int, str] = field(default_factory=dict)     # token id -> case name
    owner: str = ""

    def ids(self, kind: str) -> list[int]:
        return [token for token, k in self.expected.items() if k == kind]

    def by_label(self, label: str) -> int:
        return next(token for token, name in self.labels.items() if name == label)


def cases(store: Any) -> list[tuple[str, int, str, str]]:
    """(label, mode, uri, expected kind) for every token, adding the IPFS files to `store`."""
    good_image = store.add_bytes(png_bytes((20, 160, 90)))
    good_meta = store.add_bytes(json.dumps({
        "name": "Meadow", "description": "A green square, on IPFS.", "image": f"ipfs://{good_image}",
        "attributes": [{"trait_type": "Colour", "value": "green"}, {"trait_type": "Size", "value": 32}]}).encode())
    big_meta = store.add_bytes(json.dumps({"name": "Too big", "padding": "x" * (2 * 1024 * 1024)}).encode())
    bomb = store.add_bytes(bomb_png())
    bomb_meta = store.add_bytes(json.dumps({"name": "Bomb", "image": f"ipfs://{bomb}"}).encode())
    nested = "[" * 300 + "]" * 300
    return [
        ("good-data", URI, data_json({"name": "Sunrise", "description": "Inline metadata.",
                                      "image": data_png((230, 120, 30)),
                                      "attributes": [{"trait_type": "Mood", "value": "warm"}]}), GOOD),
        ("good-ipfs", URI, f"ipfs://{good_meta}", GOOD),
        ("oversized-json", URI, f"ipfs://{big_meta}", ERROR),
        ("nested-json", URI, "data:application/json," + nested, ERROR),
        ("javascript-uri", URI, "javascript:alert(document.cookie)", ERROR),
        ("file-uri", URI, "file:///etc/passwd", ERROR),
        ("html-name", URI, data_json({"name": HTML_NAME, "description": "<h1>big</h1>\u202eevil",
                                      "image": data_png((10, 10, 200))}), GOOD),
        ("svg-image", URI, data_json({"name": "Vector", "image": "data:image/svg+xml;base64,"
                                      + base64.b64encode(SVG).decode()}), NO_IMAGE),
        ("bomb-image", URI, f"ipfs://{bomb_meta}", NO_IMAGE),
        ("not-json", URI, "data:text/plain,hello%20there", ERROR),
        ("huge-string", HUGE_STRING, "", ERROR),
        ("revert", REVERT, "", ERROR),
        ("bare-revert", BARE_REVERT, "", ERROR),
        ("garbage", GARBAGE, "", ERROR),
        ("burn-gas", BURN_GAS, "", ERROR),
    ]


def deploy_hostile(connection: Any, deployer: Any, store: Any, *, to: str | None = None,
                   only: tuple[str, ...] | None = None) -> HostileCollection:
    """Deploy HostileNFT from `deployer` (a Signer) and mint one token per case (or the `only` ones) to `to`."""
    from studio.chain.artifacts import load_artifact

    artifact = load_artifact("HostileNFT")
    factory = connection.web3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = connection.send(deployer, factory.constructor(ROYALTY_BPS), action="Deploying HostileNFT")
    contract = connection.web3.eth.contract(address=receipt.contract_address, abi=artifact.abi)
    owner = to or deployer.address
    collection = HostileCollection(receipt.contract_address, owner=owner)
    token_id = 0
    for label, mode, uri, kind in cases(store):
        if only is not None and label not in only:
            continue
        connection.send(deployer, contract.functions.mint(owner, mode, uri), action=f"Minting {label}")
        token_id += 1
        collection.expected[token_id] = kind
        collection.labels[token_id] = label
    connection.send(deployer, contract.functions.emitFungibleTransfer(owner, 10**18), action="ERC-20 shaped log")
    return collection
