"""Verify a file's provenance end to end, and regenerate a work from its recipe to compare.

This is where provenance meets the chain library (signature recovery) and this install's
C2PA certificate (the trust anchor for works made here); the CLI and the GUI call these.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.errors import InputError
from studio.provenance.embed import decode_image, read_embedded
from studio.provenance.manifest import SignedManifest, pixel_hash
from studio.provenance.verify import Verdict
from studio.provenance.verify import verify_file as _verify_file

PERCEPTUAL_MATCH_BITS = 10   # of 64: dHash distance up to which two images count as the same picture


def install_c2pa_trust() -> Any:
    """This install's C2PA credentials as a trust anchor, if they exist (verify never creates them)."""
    try:
        from studio.provenance import c2pa
    except ImportError:
        return None
    from studio.paths import studio_paths

    folder = studio_paths().data_dir / "provenance" / "c2pa"
    if not c2pa.c2pa_available() or not folder.is_dir() or not any(folder.iterdir()):
        return None
    return c2pa.C2paCredentials.load_or_create(folder)


def verify_file(path: Path, *, c2pa_trust: Any = "auto") -> Verdict:
    """Verify the image at ``path``: manifest, pixel hash, creator's signature and C2PA."""
    from studio.chain.signatures import recover_typed_data

    trust = install_c2pa_trust() if isinstance(c2pa_trust, str) and c2pa_trust == "auto" else c2pa_trust
    return _verify_file(Path(path), recover=recover_typed_data, c2pa_trust=trust)


@dataclass(frozen=True)
class Reproduction:
    """How a regenerated image compares with the file: exactly, or by perceptual hash."""

    method: str              # "exact" (same device and dtype) or "perceptual"
    match: bool
    distance: int | None     # dHash bits that differ (of 64), for the perceptual method
    device: str              # where it was regenerated
    dtype: str
    reason: str              # one sentence for people

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "match": self.match, "distance": self.distance, "device": self.device,
                "dtype": self.dtype, "reason": self.reason}


def perceptual_hash(image: Any) -> int:
    """64-bit difference hash (dHash): neighbouring brightness on a 9x8 thumbnail."""
    from PIL import Image

    small = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    pixels = small.tobytes()
    bits = 0
    for row in range(8):
        for col in range(8):
            bits = (bits << 1) | int(pixels[row * 9 + col] > pixels[row * 9 + col + 1])
    return bits


def reproduce_work(path: Path, engine: Any) -> Reproduction:
    """Regenerate the work at ``path`` from its manifest with ``engine``'s local model and compare.

    Same device and dtype as recorded: the pixels must match exactly. Otherwise floating-point
    differences are expected, and the images are compared by perceptual-hash distance.
    """
    from studio.generation.request import GenerationRequest

    path = Path(path)
    data = path.read_bytes()
    embedded = read_embedded(data, name=path.name)
    if embedded.provenance_json is None:
        raise InputError(f"{path.name} carries no studio manifest to reproduce from.")
    manifest = SignedManifest.from_json(embedded.provenance_json).manifest
    if manifest.pipeline != "txt2img" or manifest.parents:
        raise InputError(f"{path.name} was made from input images ({manifest.pipeline}); "
                         "reproducing needs only a prompt.",
                         hint="Reproduce works made from text only.")
    if manifest.loras or manifest.adapters:
        raise InputError(f"{path.name} was made with LoRAs or adapters, which reproduce does not load.",
                         hint="Reproduce works made with a model alone.")
    request = GenerationRequest(
        prompt=manifest.prompt, negative_prompt=manifest.negative_prompt, model=manifest.model_name,
        seed=manifest.seed, steps=manifest.steps, guidance=manifest.guidance, width=manifest.width,
        height=manifest.height, count=1, scheduler=manifest.scheduler)
    result = engine.generate(request)[0]
    if result.recipe.model_hash != manifest.model_sha256:
        raise InputError(f"The local model “{manifest.model_name}” is not the one that made {path.name}: "
                         "its weights have another SHA-256.",
                         hint="Install the exact model the manifest names to reproduce the work.")
    device, dtype = result.recipe.device, result.recipe.dtype
    if (device, dtype) == (manifest.device, manifest.dtype):
        same = pixel_hash(result.image) == manifest.pixel_hash
        reason = ("Regenerated on the same device and dtype: the pixels are identical." if same else
                  "Regenerated on the same device and dtype, but the pixels differ.")
        return Reproduction("exact", same, None, device, dtype, reason)
    distance = bin(perceptual_hash(result.image) ^ perceptual_hash(decode_image(data, path.name))).count("1")
    match = distance <= PERCEPTUAL_MATCH_BITS
    reason = (f"Regenerated on {device}/{dtype} (the work was made on {manifest.device}/{manifest.dtype}): "
              f"perceptual-hash distance {distance} of 64 bits, "
              f"{'within' if match else 'over'} the limit of {PERCEPTUAL_MATCH_BITS}.")
    return Reproduction("perceptual", match, distance, device, dtype, reason)
