"""Helpers shared by the provenance tests: anvil's test accounts, busy images, manifests and studio works."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from studio.provenance.embed import write_png_with_provenance
from studio.provenance.manifest import Manifest, SignedManifest, pixel_hash

# anvil's (and Hardhat's) first two accounts from the "test test ... junk" mnemonic
ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ANVIL_ADDRESS_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ANVIL_KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
ANVIL_ADDRESS_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def local_signer(key: str) -> Any:
    from eth_account import Account

    from studio.chain.transactions import LocalSigner

    return LocalSigner(Account.from_key(key))


def noise_image(size: int = 64, seed: int = 0) -> Image.Image:
    """A deterministic, busy RGB image (no flat areas, so lossy codecs change it)."""
    import random

    rng = random.Random(seed)
    return Image.frombytes("RGB", (size, size), bytes(rng.randrange(256) for _ in range(size * size * 3)))


def make_manifest(image: Image.Image, creator: str | None = None, **fields: Any) -> Manifest:
    values: dict[str, Any] = dict(
        generator_name="provenance-studio", generator_version="0.1.0", model_name="demo",
        model_sha256="ab" * 32, model_family="sd1", pipeline="txt2img", prompt="a lighthouse at dusk",
        negative_prompt="fog", seed=7, steps=2, guidance=6.5, scheduler="euler_a", width=image.width,
        height=image.height, created="2026-11-28T12:00:00Z", pixel_hash=pixel_hash(image), creator=creator,
        device="cpu", dtype="float32")
    values.update(fields)
    return Manifest(**values)


def sign(manifest: Manifest, signer: Any) -> SignedManifest:
    from studio.workflows.generate import sign_manifest

    return sign_manifest(manifest, signer)


def write_work(path: Path, image: Image.Image | None = None, signer: Any = None, *, c2pa: Any = None,
               **fields: Any) -> Path:
    """Write a studio PNG (parameters, manifest, XMP; C2PA when credentials are given) at ``path``."""
    image = image if image is not None else noise_image()
    manifest = make_manifest(image, signer.address if signer is not None else None, **fields)
    signed = sign(manifest, signer) if signer is not None else SignedManifest(manifest)
    write_png_with_provenance(image, path, signed, parameters=f"{manifest.prompt}\nSteps: {manifest.steps}",
                              c2pa_credentials=c2pa)
    return path
