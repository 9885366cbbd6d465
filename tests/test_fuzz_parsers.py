"""A fuzz pass over every parser of outside data: whatever bytes or JSON come in, each parser either
succeeds or raises a StudioError (never another exception), and no example runs past a short deadline.

Kept to about a hundred examples per parser, so the whole module stays well under a minute; the hostile
inputs found by hand (deep nesting, escaped quotes, KDF costs, bombs) have their own tests. What this
pass found is fixed and kept as explicit examples below (a NUL in a manifest's file path, a metadata
name of null, ``https://[::1``, a royalty of ``1E310``).
"""
from __future__ import annotations

import base64
import json
import os
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Any, Callable

from hypothesis import HealthCheck, example, given, settings, strategies as st

from studio.errors import StudioError

# web3's libraries raise the recursion limit when imported (to 100,000): parse under that, as the studio
# does, and before hypothesis starts (it warns when the limit changes during a test)
import eth_account  # noqa: E402,F401  isort: skip

#: Examples per parser. The suite runs a fixed (derandomized) 100; STUDIO_FUZZ_EXAMPLES=5000 explores
#: further with fresh random examples each run.
_DEEP = int(os.environ.get("STUDIO_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=_DEEP or 100, deadline=2000, suppress_health_check=[HealthCheck.too_slow],
                derandomize=not _DEEP, database=None)

# JSON-shaped values: what a stranger's document can hold, with keys the parsers look for mixed in.
KEYS = st.sampled_from(["name", "description", "image", "attributes", "trait_type", "value", "display_type",
                        "max_value", "manifest", "signature", "crypto", "Crypto", "version", "kdf", "kdfparams",
                        "cipher", "cipherparams", "ciphertext", "mac", "n", "r", "p", "c", "dklen", "salt", "prf",
                        "iv", "address", "works", "file", "price", "royalty", "license", "format", "voucher",
                        "nodes", "inputs", "class_type", "seed", "steps", "positive", "negative", "prompt",
                        "categories", "values", "weight", "id", "links", "widgets_values", "type"]) | st.text(max_size=8)
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
           | st.sampled_from(["scrypt", "pbkdf2", "hmac-sha256", "aes-128-ctr", "ab" * 16, "0x" + "ab" * 65,
                              "ipfs://QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn", "KSampler", "data:,x"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=6),
                    max_leaves=30)
JSON_TEXT = JSON.map(json.dumps)


def _mutations(text: str) -> st.SearchStrategy[str]:
    """`text` cut, with a character replaced, or with noise inserted."""
    return st.one_of(
        st.integers(0, len(text)).map(lambda i: text[:i]),
        st.tuples(st.integers(0, max(0, len(text) - 1)), st.characters()).map(
            lambda p: text[:p[0]] + p[1] + text[p[0] + 1:]),
        st.tuples(st.integers(0, len(text)), st.text(max_size=20)).map(lambda p: text[:p[0]] + p[1] + text[p[0]:]),
    )


def _never_crashes(parse: Callable[[Any], Any], value: Any) -> None:
    try:
        parse(value)
    except StudioError:
        pass


# ------------------------------------------------------------------ JSON

@FUZZ
@given(st.one_of(JSON_TEXT, st.text(max_size=200), st.binary(max_size=200),
                 st.text(alphabet='[]{}",:\\ 01a', max_size=300)))
def test_safejson(data):
    from studio import safejson

    _never_crashes(lambda d: safejson.loads(d, max_depth=8, max_bytes=10_000), data)


# ------------------------------------------------------------------ keystores

def _keystore_like(draw_kdf: dict) -> dict:
    return {"version": 3, "address": "f39fd6e51aad88f6f4ce6ab8827279cfffb92266",
            "crypto": {"cipher": "aes-128-ctr", "cipherparams": {"iv": "00" * 16}, "ciphertext": "11" * 32,
                       "mac": "22" * 32, **draw_kdf}}


# valid scrypt/pbkdf2 parameters stay cheap (n at most 2**8, c at most 64); the rest is out of bounds or wrong
CHEAP_OR_HOSTILE = st.one_of(st.integers(1, 2**8), st.integers(2**19, 2**70), st.integers(-5, 0), st.text(max_size=6),
                             st.none(), st.booleans(), st.floats(allow_nan=False))
KDF = st.one_of(
    st.fixed_dictionaries({"kdf": st.just("scrypt"), "kdfparams": st.fixed_dictionaries({
        "n": st.sampled_from([2, 16, 256]) | CHEAP_OR_HOSTILE, "r": st.integers(1, 8) | CHEAP_OR_HOSTILE,
        "p": st.integers(1, 2) | CHEAP_OR_HOSTILE, "dklen": st.just(32) | CHEAP_OR_HOSTILE,
        "salt": st.sampled_from(["ab" * 16, "zz", "", "ab" * 300]) | st.text(max_size=10)})}),
    st.fixed_dictionaries({"kdf": st.just("pbkdf2"), "kdfparams": st.fixed_dictionaries({
        "c": st.integers(1, 64) | CHEAP_OR_HOSTILE, "prf": st.sampled_from(["hmac-sha256", "hmac-sha512"]) | SCALARS,
        "dklen": st.just(32) | CHEAP_OR_HOSTILE, "salt": st.sampled_from(["ab" * 16, "0"]) | st.text(max_size=10)})}),
    st.dictionaries(KEYS, JSON, max_size=4),
)


@FUZZ
@given(st.one_of(KDF.map(_keystore_like), JSON, KDF.map(_keystore_like).map(json.dumps).flatmap(_mutations)))
def test_keystore_parsing_and_decryption(keystore):
    from studio.chain.keystore import decrypt_keystore

    _never_crashes(lambda k: decrypt_keystore(k, "a password"), keystore)


# ------------------------------------------------------------------ batch manifests

CSV_FIELD = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30) | st.sampled_from(
    ["image.png", "0.01", "-1", "1e999", "NaN", "2.5%", "250bps", "cc0", "a:1;b:2", '{"a": [1]}', '{"a": {', '"'])


@FUZZ
@given(st.lists(st.lists(CSV_FIELD, min_size=1, max_size=7), min_size=1, max_size=6),
       st.sampled_from(["file,name,price,royalty,attributes,license,description", "file", "name,price", ""]))
@example(rows=[["image\x00.png", "x"]], header="file,name")
@example(rows=[["", "", "", "1E310"]], header="file,name,price,royalty,attributes,license,description")
def test_csv_manifests(rows, header):
    from studio.workflows.batch_manifest import read_manifest

    with tempfile.TemporaryDirectory() as folder:
        _image(Path(folder) / "image.png")
        manifest = Path(folder) / "drop.csv"
        manifest.write_text(header + "\n" + "\n".join(",".join(row) for row in rows) + "\n", encoding="utf-8")
        _never_crashes(read_manifest, manifest)


@FUZZ
@given(st.one_of(JSON, st.lists(st.dictionaries(KEYS, JSON | st.just("image.png"), max_size=6), max_size=4),
                 st.fixed_dictionaries({"works": st.lists(st.fixed_dictionaries(
                     {"file": st.just("image.png")}, optional={"name": JSON, "price": JSON, "royalty": JSON,
                                                               "attributes": JSON, "license": JSON,
                                                               "description": JSON}), max_size=3)})))
def test_json_manifests(document):
    from studio.workflows.batch_manifest import read_manifest

    with tempfile.TemporaryDirectory() as folder:
        _image(Path(folder) / "image.png")
        manifest = Path(folder) / "drop.json"
        manifest.write_text(json.dumps(document), encoding="utf-8")
        _never_crashes(read_manifest, manifest)


def _image(path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (4, 4), (1, 2, 3)).save(path)


# ------------------------------------------------------------------ NFT metadata, vouchers, trait tables

METADATA = st.fixed_dictionaries({}, optional={
    "name": JSON, "description": JSON, "image": JSON | st.sampled_from(["ipfs://bafy", "javascript:x", "data:,"]),
    "attributes": st.lists(st.dictionaries(KEYS, JSON, max_size=4) | JSON, max_size=4) | JSON,
    "background_color": JSON, "animation_url": JSON, "external_url": JSON, "provenance": JSON})


@FUZZ
@given(st.one_of(METADATA, METADATA.map(json.dumps), METADATA.map(json.dumps).flatmap(_mutations), st.binary(max_size=80)))
@example({"name": None, "image": "ipfs://QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"})
@example({"name": "x", "image": "https://[::1"})
@example({"name": "x", "image": "data:,", "attributes": [{"trait_type": 5, "value": 1}, {"value": 10**400}]})
@example({"name": "x", "image": "data:,", "attributes": [{"trait_type": "t", "value": 1, "max_value": "9"}]})
def test_nft_metadata(metadata):
    from studio.storage.metadata import NftMetadata
    from studio.workflows.collector import _traits, clean_text

    _never_crashes(NftMetadata.from_json, metadata)
    if isinstance(metadata, dict):  # what the collector shows from a stranger's metadata never raises at all
        _traits(metadata.get("attributes"))
        clean_text(metadata.get("name"), 120)


@FUZZ
@given(st.one_of(JSON, st.fixed_dictionaries({"format": st.just("studio-mint-voucher"), "collection": JSON,
                                              "chain_id": JSON, "signature": JSON,
                                              "voucher": st.dictionaries(KEYS | st.sampled_from(
                                                  ["contentDigest", "price", "nonce", "expiry", "royaltyBps"]),
                                                  JSON, max_size=6)})))
def test_mint_vouchers(document):
    from studio.workflows.lazy_listings import parse_voucher_json

    _never_crashes(parse_voucher_json, json.dumps(document))


@FUZZ
@given(st.one_of(JSON_TEXT, st.text(alphabet="-:{}[]&*!| \nabc12#'\"", max_size=120)), st.sampled_from([".yaml", ".json"]))
def test_trait_tables(text, suffix):
    from studio.generation.traits import parse_trait_table

    _never_crashes(lambda t: parse_trait_table(t, suffix), text)


# ------------------------------------------------------------------ provenance: manifests, foreign recipes, PNG text

@FUZZ
@given(st.one_of(JSON_TEXT, st.fixed_dictionaries({"manifest": st.dictionaries(KEYS, JSON, max_size=8),
                                                   "signature": JSON}).map(json.dumps), st.text(max_size=60)))
def test_signed_manifests(text):
    from studio.provenance.manifest import SignedManifest

    _never_crashes(SignedManifest.from_json, text)


COMFY_GRAPH = st.dictionaries(st.sampled_from(["1", "2", "3", "x"]), st.fixed_dictionaries(
    {"class_type": st.sampled_from(["KSampler", "CLIPTextEncode", "CheckpointLoaderSimple", "EmptyLatentImage"]) | SCALARS,
     "inputs": st.dictionaries(KEYS, JSON | st.lists(st.sampled_from(["1", "2", "3", 0]), max_size=2), max_size=6)}),
    max_size=4)
A1111 = st.lists(st.sampled_from(["a prompt", "Negative prompt: ugly", "Steps: 20", "Sampler: Euler a",
                                  'Sampler: "Euler, a"', "CFG scale: 7", "Seed: 1", "Size: 512x512",
                                  "Model: sd15", ", ", ":", '"', "\n", "Seed: 99999999999999999999"])
                 | st.text(max_size=15), max_size=12).map(lambda parts: ", ".join(parts))


@FUZZ
@given(st.dictionaries(st.sampled_from(["parameters", "prompt", "workflow", "invokeai_metadata", "Software"]),
                       st.one_of(A1111, COMFY_GRAPH.map(json.dumps), JSON_TEXT, st.text(max_size=60)), max_size=4))
def test_foreign_recipes(chunks):
    from studio.provenance.foreign import read_foreign

    _never_crashes(read_foreign, chunks)


def _chunk(kind: bytes, body: bytes, good_crc: bool = True) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc if good_crc else crc ^ 1)


TEXT_CHUNK = st.tuples(st.sampled_from([b"tEXt", b"zTXt", b"iTXt", b"IHDR", b"IEND", b"caBX"]),
                       st.one_of(st.binary(max_size=60),
                                 st.tuples(st.binary(max_size=10), st.binary(max_size=30)).map(lambda p: p[0] + b"\0" + p[1]),
                                 st.binary(max_size=40).map(lambda b: b"k\0\0" + zlib.compress(b)),
                                 st.binary(max_size=40).map(lambda b: b"k\0\x01\0en\0k\0" + zlib.compress(b))),
                       st.booleans())


@FUZZ
@given(st.one_of(st.lists(TEXT_CHUNK, max_size=6).map(
    lambda chunks: b"\x89PNG\r\n\x1a\n" + b"".join(_chunk(*c) for c in chunks)),
    st.binary(max_size=120).map(lambda b: b"\x89PNG\r\n\x1a\n" + b)))
def test_png_text_chunks_and_embedded_metadata(data):
    from studio.provenance.embed import read_embedded
    from studio.provenance.png_text import read_text_chunks

    _never_crashes(read_text_chunks, data)
    _never_crashes(read_embedded, data)


@FUZZ
@given(st.binary(max_size=200).map(lambda b: b"RIFF\x20\x00\x00\x00WEBP" + b) | st.binary(max_size=200).map(
    lambda b: b"\xff\xd8\xff" + b) | st.binary(max_size=200).map(lambda b: b"GIF89a" + b) | st.binary(max_size=200))
def test_images_from_outside(data):
    from studio.safeimage import load_image
    from studio.workflows.collector import safe_preview

    _never_crashes(load_image, data)
    safe_preview(data)  # the collector's preview never raises: it says why there is no image


# ------------------------------------------------------------------ CIDs and URIs

CID_TEXT = st.one_of(st.text(max_size=70), st.sampled_from(["Qm", "bafy", "bafk", "b", "z", "f01", "u"]).flatmap(
    lambda prefix: st.text(alphabet="abcdefghijklmnopqrstuvwxyz234567QWERTYmn0", max_size=64).map(lambda t: prefix + t)),
    st.just("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").flatmap(_mutations))


@FUZZ
@given(CID_TEXT, st.text(max_size=30))
def test_cids_and_ipfs_uris(cid_text, path):
    from studio.storage.cid import Cid
    from studio.storage.fetch import _ipfs_in_gateway_url, parse_ipfs_uri

    _never_crashes(Cid.parse, cid_text)
    _never_crashes(parse_ipfs_uri, f"ipfs://{cid_text}/{path}")
    _ipfs_in_gateway_url(f"https://gw.example/ipfs/{cid_text}/{path}")  # None or a CID: never raises


@FUZZ
@given(st.one_of(st.text(max_size=80).map(lambda t: "data:" + t),
                 st.binary(max_size=60).map(lambda b: "data:application/json;base64," + base64.b64encode(b).decode()),
                 st.text(max_size=60), st.sampled_from(["file:///etc/passwd", "javascript:alert(1)", "ftp://x/y",
                                                        "ipfs://", "ipfs:///", "https://", "https://[::1", "http://"])))
@example("https://[::1")
def test_uris_a_token_may_name(uri):
    from studio.storage.fetch import VerifiedFetcher

    _never_crashes(VerifiedFetcher(gateways=(), max_bytes=1000, deadline=1.0).fetch, uri)
