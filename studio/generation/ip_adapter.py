"""IP-Adapter files on a loaded pipeline: loaded once, re-scaled without reloading, unloaded when
a request has none or another one.

A reference picture steers the image through the adapter's image encoder (a CLIP vision model)
and extra cross-attention weights in the UNet. Everything is read from local files: the image
encoder is loaded by the studio from its folder, so that diffusers never looks for it on the hub.
Only ``.safetensors`` weights are read (pickle files can run code). FaceID adapters need face
embeddings from InsightFace, which the studio does not compute: they are refused with advice.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from studio.errors import InputError, ModelError
from studio.generation.request import IpAdapterSpec, ModelFamily, ModelInfo

log = logging.getLogger(__name__)

MIN_SCALE, MAX_SCALE = 0.0, 2.0


def check_ip_adapter(spec: IpAdapterSpec, scale: float, reference: Any, info: ModelInfo) -> None:
    """Raise a people-readable error when ``spec`` cannot run on ``info`` with ``reference``."""
    path = Path(spec.path)
    if reference is None:
        raise InputError(f"The IP-Adapter {spec.name} needs a reference picture.",
                         hint="Choose a photo or reference image, or turn the adapter off.")
    if isinstance(scale, bool) or not MIN_SCALE <= float(scale) <= MAX_SCALE:
        raise InputError(f"The adapter scale {scale} is out of range.",
                         hint=f"Use {MIN_SCALE:g} to {MAX_SCALE:g} (about 0.6 keeps a likeness and follows the prompt).")
    if spec.face_id:
        raise ModelError(f"{spec.name} is a FaceID adapter: it needs face embeddings from InsightFace, "
                         "which the studio does not compute.",
                         hint="Use ip-adapter-plus-face_sd15.safetensors (or the SDXL one) to keep a face "
                              "from a photo instead.")
    if not path.is_file():
        raise ModelError(f"The IP-Adapter file {path} does not exist.",
                         hint="Check the models folder (Settings), or choose another adapter.")
    if path.suffix.lower() != ".safetensors":
        raise ModelError(f"{spec.name} is not a .safetensors file.",
                         hint="Only .safetensors adapters are loaded (pickle files can run code when opened); "
                              "h94/IP-Adapter publishes the .safetensors version of each.")
    encoder = Path(spec.image_encoder) if spec.image_encoder is not None else None
    if encoder is None or not (encoder / "config.json").is_file():
        where = f" ({encoder} has no config.json)" if encoder is not None else ""
        raise ModelError(f"The IP-Adapter {spec.name} has no image encoder{where}.",
                         hint="Put the image_encoder folder of h94/IP-Adapter (models/image_encoder, with its "
                              "config.json and weights) next to the adapter's folder.")
    family = "sd1" if info.family is ModelFamily.SD2 else info.family.value
    if spec.family is not None and (spec.family != family or info.family is ModelFamily.SD2):
        wanted = {"sd1": "SD 1.5", "sdxl": "SDXL"}.get(spec.family, spec.family)
        raise ModelError(f"{spec.name} is made for {wanted} models; “{info.name}” is {info.family.label}.",
                         hint=f"Choose an adapter for {info.family.label}, or a {wanted} model.")


class IpAdapterState:
    """The IP-Adapter currently loaded on one pipeline's shared UNet (at most one)."""

    def __init__(self) -> None:
        self._key: tuple[str, int, int, str] | None = None
        self._scale: float | None = None
        self._feature_extractor: Any = None

    @property
    def loaded(self) -> bool:
        return self._key is not None

    def apply(self, pipe: Any, spec: IpAdapterSpec | None, scale: float, *, reload_offload: Any = None) -> bool:
        """Make ``pipe`` carry exactly ``spec`` at ``scale``; True when the loaded adapter changed
        (pipelines derived from ``pipe`` before then must be derived again to see it).

        ``reload_offload``: called after the image encoder is added when the pipeline offloads
        models to the CPU, so that the new encoder gets its hook too.
        """
        key = _file_key(spec) if spec is not None else None
        changed = key != self._key
        if changed:
            self.unload(pipe)
            if spec is not None:
                self._load(pipe, spec)
                self._key = key
                if reload_offload is not None:
                    reload_offload()
        if spec is not None and (changed or scale != self._scale):
            pipe.set_ip_adapter_scale(float(scale))
            self._scale = float(scale)
        return changed

    def _load(self, pipe: Any, spec: IpAdapterSpec) -> None:
        from transformers import CLIPVisionModelWithProjection

        path = Path(spec.path)
        self._feature_extractor = getattr(pipe, "feature_extractor", None)
        try:
            encoder = CLIPVisionModelWithProjection.from_pretrained(str(spec.image_encoder), local_files_only=True,
                                                                    dtype=pipe.dtype)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ModelError(f"Could not load the image encoder of {spec.name} from {spec.image_encoder}: {exc}",
                             hint="The folder needs config.json and model.safetensors of a CLIP vision model "
                                  "(h94/IP-Adapter's models/image_encoder).") from exc
        pipe.register_modules(image_encoder=encoder.to(pipe.device))
        try:
            pipe.load_ip_adapter(str(path.parent), subfolder="", weight_name=path.name, image_encoder_folder=None,
                                 local_files_only=True)
        except (OSError, ValueError, KeyError, RuntimeError, AttributeError) as exc:
            try:
                self._restore(pipe)
            except Exception:  # the load error below says more than a failed clean-up
                log.exception("Could not clean up after a failed IP-Adapter load")
            raise ModelError(f"Could not load the IP-Adapter {spec.name}: {exc}",
                             hint="It may be for another model family (SD 1.5 vs SDXL), need another image "
                                  "encoder, or be damaged.") from exc
        log.info("Loaded IP-Adapter %s", spec.name)

    def unload(self, pipe: Any) -> None:
        """Take the adapter off ``pipe`` (its attention processors, image encoder and projection)."""
        if self._key is None:
            return
        self._restore(pipe)
        log.info("Unloaded IP-Adapter")

    def _restore(self, pipe: Any) -> None:
        try:
            pipe.unload_ip_adapter()
        finally:
            pipe.register_modules(image_encoder=None, feature_extractor=self._feature_extractor)
            self._key, self._scale, self._feature_extractor = None, None, None

    def reset(self) -> None:
        """Forget the adapter (its pipeline was dropped)."""
        self._key, self._scale, self._feature_extractor = None, None, None


def _file_key(spec: IpAdapterSpec) -> tuple[str, int, int, str]:
    path = Path(spec.path)
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns, str(spec.image_encoder)
