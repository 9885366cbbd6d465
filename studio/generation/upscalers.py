"""Upscaler models (ESRGAN, Real-ESRGAN, SwinIR ...) from local files, and upscaling a picture.

Models are loaded with spandrel (the loader ComfyUI and chaiNNer use) when it imports; spandrel
needs torchvision, which has no CPU build on PyPI that works beside the CPU torch the studio
installs, so the ESRGAN family (RRDBNet in the original ESRGAN and the BasicSR/Real-ESRGAN layouts,
and Real-ESRGAN's compact SRVGG network: 4x-UltraSharp, RealESRGAN_x4plus, realesr-general-x4v3 ...)
is also read by the studio itself. Only ``.safetensors`` files are loaded (pickles can run code).
An upscale is deterministic: fp32 on the CPU, the device's own kernels elsewhere.
"""
from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.errors import InputError, ModelError, NotFound

log = logging.getLogger(__name__)

BUILTIN = ("lanczos",)   # resamplers that need no model file
MAX_SCALE = 8.0
TILE, TILE_OVERLAP = 256, 32  # input pixels per tile, and the margin each tile reads beyond its core


def check_upscaler_file(path: Path) -> None:
    if not Path(path).is_file():
        raise NotFound(f"The upscaler model {path} does not exist.",
                       hint="Choose an upscaler model file, or use Lanczos.")
    if Path(path).suffix.lower() != ".safetensors":
        raise InputError(f"{Path(path).name} is not a .safetensors upscaler.",
                         hint="Only .safetensors upscaler files are loaded; pickle files (.pth, .pt) can run code "
                              "when opened. Most upscalers are published as .safetensors too (or convert the .pth "
                              "once with a tool you trust).")


@dataclass
class UpscalerModel:
    """A loaded upscaler: a torch module mapping RGB in 0-1 to RGB ``scale`` times larger."""

    name: str
    architecture: str
    scale: int
    module: Any
    device: str

    def upscale(self, image: Any, *, tile: int = TILE, overlap: int = TILE_OVERLAP) -> Any:
        """``image`` (PIL) upscaled by the model's own factor, in tiles of ``tile`` pixels that overlap
        by ``overlap`` (each tile's border is cut away), so that memory stays flat for large pictures."""
        import numpy as np
        import torch
        from PIL import Image

        array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
        tensor = torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).to(self.device)
        height, width = tensor.shape[2:]
        scale = self.scale
        out = torch.zeros((1, 3, height * scale, width * scale), dtype=torch.float32)
        step = max(1, tile - 2 * overlap)
        with torch.no_grad():
            for top in range(0, height, step):
                for left in range(0, width, step):
                    # the tile grown by the overlap on each side (inside the picture), then its core kept
                    y0, x0 = max(0, top - overlap), max(0, left - overlap)
                    y1, x1 = min(height, top + step + overlap), min(width, left + step + overlap)
                    part = self.module(tensor[:, :, y0:y1, x0:x1]).float().cpu()
                    core_y1, core_x1 = min(height, top + step), min(width, left + step)
                    out[:, :, top * scale:core_y1 * scale, left * scale:core_x1 * scale] = part[
                        :, :, (top - y0) * scale:(core_y1 - y0) * scale, (left - x0) * scale:(core_x1 - x0) * scale]
        pixels = out.squeeze(0).clamp(0, 1).permute(1, 2, 0).mul(255).round().to(torch.uint8).numpy()
        return Image.fromarray(pixels, mode="RGB")


def upscale_image(image: Any, upscaler: str, scale: float, model: UpscalerModel | None = None) -> Any:
    """``image`` made ``scale`` times larger: with Lanczos, or with ``model`` (its own factor, then
    Lanczos to the exact size asked, as A1111 does)."""
    from PIL import Image

    width, height = image.size
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    if upscaler == "lanczos" or model is None:
        return image.convert("RGB").resize(target, Image.Resampling.LANCZOS)
    result = image.convert("RGB")
    while result.size[0] < target[0] or result.size[1] < target[1]:
        result = model.upscale(result)
        if model.scale == 1:
            break
    return result if result.size == target else result.resize(target, Image.Resampling.LANCZOS)


def load_upscaler(path: Path, *, device: str = "cpu") -> UpscalerModel:
    """The upscaler model at ``path`` on ``device``; what it is decides how it is read."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    check_upscaler_file(path)
    try:
        state = load_file(str(path))
    except (OSError, SafetensorError) as exc:
        raise ModelError(f"Could not read the upscaler {path.name}: {exc}.", hint="Download it again.") from exc
    spandrel_model = _load_with_spandrel(state)
    if spandrel_model is not None:
        module, architecture, scale = spandrel_model
    else:
        module, architecture, scale = _load_esrgan_family(state, path.name)
    module = module.to(device).eval()
    log.info("Loaded the upscaler %s (%s, %dx)", path.name, architecture, scale)
    return UpscalerModel(name=path.name, architecture=architecture, scale=scale, module=module, device=device)


def _load_with_spandrel(state: dict[str, Any]) -> tuple[Any, str, int] | None:
    import importlib

    try:
        spandrel: Any = importlib.import_module("spandrel")  # optional: see the module's docstring
    except Exception as exc:  # not installed, or its torchvision import fails beside a CPU torch
        log.debug("spandrel is not usable here (%s); reading the ESRGAN family directly", exc)
        return None
    try:
        descriptor = spandrel.ModelLoader().load_from_state_dict(state)
    except Exception as exc:  # an architecture spandrel does not know: let the studio's reader say what it is
        log.debug("spandrel could not read the file: %s", exc)
        return None
    if not isinstance(descriptor, spandrel.ImageModelDescriptor):
        raise ModelError("The file is not an upscaler (spandrel reads it as a restoration or inpainting model).",
                         hint="Choose an upscaler model such as ESRGAN, Real-ESRGAN or SwinIR.")
    return descriptor.model, descriptor.architecture.name, int(descriptor.scale)


# -- the ESRGAN family, read by the studio --------------------------------------------------------

def _load_esrgan_family(state: dict[str, Any], name: str) -> tuple[Any, str, int]:
    if "model.0.weight" in state and any(".sub." in k for k in state):
        state = _old_esrgan_to_new(state)
    if "conv_first.weight" in state and "body.0.rdb1.conv1.weight" in state:
        return _rrdbnet(state), "ESRGAN", _rrdb_scale(state)
    if "body.0.weight" in state and "body.1.weight" in state and state["body.1.weight"].dim() == 1:
        module, scale = _srvgg(state)
        return module, "RealESRGAN compact", scale
    if any(k.startswith("layers.0.residual_group") for k in state) or "conv_first.weight" in state:
        raise ModelError(f"{name} is a SwinIR (or another transformer) upscaler, which needs spandrel to load.",
                         hint="Install spandrel (pip install spandrel) with a torchvision that matches your torch, "
                              "or use an ESRGAN or Real-ESRGAN model.")
    raise ModelError(f"{name} is not an upscaler model the studio can read.",
                     hint="Use an ESRGAN, Real-ESRGAN or (with spandrel installed) SwinIR model file.")


def _old_esrgan_to_new(state: dict[str, Any]) -> dict[str, Any]:
    """The original ESRGAN layout (model.0 ... model.10, RDB1 ...) as BasicSR names it."""
    new: dict[str, Any] = {}
    tail = sorted({int(m.group(1)) for k in state if (m := re.match(r"model\.(\d+)\.weight$", k)) and int(m.group(1)) > 1})
    names = [*(f"conv_up{i + 1}" for i in range(len(tail) - 2)), "conv_hr", "conv_last"]
    for key, value in state.items():
        if key.startswith("model.0."):
            new["conv_first." + key.split(".")[-1]] = value
        elif key.startswith("model.1.sub."):
            parts = key.split(".")
            block = parts[3]
            if parts[4].startswith("RDB"):
                # model.1.sub.B.RDBn.convm.0.weight -> body.B.rdbn.convm.weight
                new[f"body.{block}.rdb{parts[4][3:]}.{parts[5]}.{parts[-1]}"] = value
            else:  # the conv after the trunk: model.1.sub.N.weight
                new[f"conv_body.{parts[-1]}"] = value
        else:
            index = int(key.split(".")[1])
            new[f"{names[tail.index(index)]}.{key.split('.')[-1]}"] = value
    return new


def _rrdb_scale(state: dict[str, Any]) -> int:
    in_channels = state["conv_first.weight"].shape[1]
    unshuffled = {3: 1, 12: 2, 48: 4}.get(in_channels, 1)  # Real-ESRGAN x2/x1 unshuffle their input
    ups = sum(1 for k in state if re.fullmatch(r"conv_up\d+\.weight", k))
    return int(2 ** ups // unshuffled) if unshuffled > 1 else int(2 ** ups)


def _rrdbnet(state: dict[str, Any]) -> Any:
    import torch
    from torch import nn
    from torch.nn import functional as F

    num_feat = state["conv_first.weight"].shape[0]
    in_ch = state["conv_first.weight"].shape[1]
    grow = state["body.0.rdb1.conv1.weight"].shape[0]
    blocks = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("body."))
    ups = sum(1 for k in state if re.fullmatch(r"conv_up\d+\.weight", k))
    unshuffle = {3: 1, 12: 2, 48: 4}.get(in_ch, 1)

    class RDB(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            for i in range(5):
                out = grow if i < 4 else num_feat
                setattr(self, f"conv{i + 1}", nn.Conv2d(num_feat + i * grow, out, 3, 1, 1))

        def forward(self, x: Any) -> Any:
            features = [x]
            for i in range(4):
                features.append(F.leaky_relu(getattr(self, f"conv{i + 1}")(torch.cat(features, 1)), 0.2))
            return getattr(self, "conv5")(torch.cat(features, 1)) * 0.2 + x

    class RRDB(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rdb1, self.rdb2, self.rdb3 = RDB(), RDB(), RDB()

        def forward(self, x: Any) -> Any:
            return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x

    class RRDBNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv_first = nn.Conv2d(in_ch, num_feat, 3, 1, 1)
            self.body = nn.Sequential(*[RRDB() for _ in range(blocks)])
            self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            for i in range(ups):
                setattr(self, f"conv_up{i + 1}", nn.Conv2d(num_feat, num_feat, 3, 1, 1))
            self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_last = nn.Conv2d(num_feat, 3, 3, 1, 1)

        def forward(self, x: Any) -> Any:
            if unshuffle > 1:
                x = F.pixel_unshuffle(x, unshuffle)
            feat = self.conv_first(x)
            feat = feat + self.conv_body(self.body(feat))
            for i in range(ups):
                feat = F.leaky_relu(getattr(self, f"conv_up{i + 1}")(F.interpolate(feat, scale_factor=2,
                                                                                  mode="nearest")), 0.2)
            return self.conv_last(F.leaky_relu(self.conv_hr(feat), 0.2))

    module = RRDBNet()
    _load_strict(module, state)
    return module


def _srvgg(state: dict[str, Any]) -> tuple[Any, int]:
    from torch import nn
    from torch.nn import functional as F

    convs = sorted(int(k.split(".")[1]) for k in state if re.fullmatch(r"body\.\d+\.weight", k)
                   and state[k].dim() == 4)
    prelus = sorted(int(k.split(".")[1]) for k in state if re.fullmatch(r"body\.\d+\.weight", k)
                    and state[k].dim() == 1)
    last = state[f"body.{convs[-1]}.weight"]
    scale = int(math.isqrt(last.shape[0] // 3))
    num_feat = state["body.0.weight"].shape[0]

    class SRVGG(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers: list[Any] = []
            for index in range(convs[-1] + 1):
                if index in convs:
                    weight = state[f"body.{index}.weight"]
                    layers.append(nn.Conv2d(weight.shape[1], weight.shape[0], 3, 1, 1))
                elif index in prelus:
                    layers.append(nn.PReLU(num_parameters=state[f"body.{index}.weight"].shape[0]))
            self.body = nn.Sequential(*layers)

        def forward(self, x: Any) -> Any:
            out = F.pixel_shuffle(self.body(x), scale)
            return out + F.interpolate(x, scale_factor=scale, mode="nearest")

    module = SRVGG()
    del num_feat
    _load_strict(module, state)
    return module, scale


def _load_strict(module: Any, state: dict[str, Any]) -> None:
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelError(f"The upscaler's tensors do not fit its architecture ({str(exc)[:160]}).",
                         hint="The file may be damaged or of an architecture the studio does not know.") from exc
