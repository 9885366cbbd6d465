"""Control maps from pictures: what a ControlNet unit reads.

Made without any model, offline (numpy and scipy): ``canny`` (edges: Gaussian blur, Sobel gradients,
thin edges, two thresholds joined by hysteresis, as OpenCV's Canny), ``lineart`` (ControlNet's
model-free "lineart_standard": dark lines against a blurred copy) and ``tile`` (the picture itself,
optionally resampled down and up). ``depth`` needs a depth-estimation model folder (Depth Anything or
DPT, in the transformers layout) under ``<models folder>/annotators/depth``; ``pose`` draws a pose
already given as a picture (``none``) — both say what is missing when their files are not there.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

from studio.errors import InputError, ModelError

log = logging.getLogger(__name__)

PREPROCESSORS = ("none", "canny", "lineart", "tile", "depth", "pose")
#: the model folder each model-based preprocessor reads, under a models folder
ANNOTATOR_FOLDERS = {"depth": "annotators/depth", "pose": "annotators/pose"}


def preprocess(image: Any, preprocessor: str, *, low_threshold: int = 100, high_threshold: int = 200,
               tile_downsample: float = 1.0, model_folders: Sequence[Path] = ()) -> Any:
    """The control map (RGB, the picture's size) that ``preprocessor`` makes of ``image``."""
    if preprocessor not in PREPROCESSORS:
        raise InputError(f"Unknown preprocessor “{preprocessor}”.", hint=f"Choose one of: {', '.join(PREPROCESSORS)}.")
    rgb = image.convert("RGB")
    if preprocessor == "none":
        return rgb
    if preprocessor == "canny":
        return canny(rgb, low_threshold, high_threshold)
    if preprocessor == "lineart":
        return lineart(rgb)
    if preprocessor == "tile":
        return tile(rgb, tile_downsample)
    if preprocessor == "depth":
        return depth(rgb, annotator_folder("depth", model_folders))
    return preprocess_pose_unavailable()


def check_preprocessor(preprocessor: str, model_folders: Sequence[Path]) -> None:
    """Raise before a job starts when ``preprocessor`` is unknown or its model files are missing."""
    if preprocessor not in PREPROCESSORS:
        raise InputError(f"Unknown preprocessor “{preprocessor}”.", hint=f"Choose one of: {', '.join(PREPROCESSORS)}.")
    if preprocessor == "depth":
        annotator_folder("depth", model_folders)
    if preprocessor == "pose":
        preprocess_pose_unavailable()


def preprocess_pose_unavailable() -> Any:
    raise ModelError("The pose preprocessor needs an OpenPose annotator, which is published only as pickle "
                     "files (body_pose_model.pth) that the studio does not open.",
                     hint="Give a pose map you already have (an OpenPose skeleton picture) with the preprocessor "
                          "“none”.")


def annotator_folder(kind: str, model_folders: Sequence[Path]) -> Path:
    for folder in model_folders:
        candidate = Path(folder) / ANNOTATOR_FOLDERS[kind]
        if (candidate / "config.json").is_file():
            return candidate
    where = " or ".join(str(Path(f) / ANNOTATOR_FOLDERS[kind]) for f in model_folders) or ANNOTATOR_FOLDERS[kind]
    raise ModelError(f"The {kind} preprocessor needs a {kind}-estimation model, and there is none in {where}.",
                     hint="Put a Depth Anything or DPT model folder (config.json and .safetensors weights, e.g. "
                          "depth-anything/Depth-Anything-V2-Small-hf) there, or give a depth map you already have "
                          "with the preprocessor “none”.")


def canny(image: Any, low: int = 100, high: int = 200) -> Any:
    """White edges on black: OpenCV's Canny (L1 gradient, 3x3 Sobel) after a small Gaussian blur."""
    import numpy as np
    from PIL import Image
    from scipy import ndimage

    if not 0 <= low <= high <= 255 * 4:
        raise InputError(f"The Canny thresholds {low} and {high} are out of order or range.",
                         hint="Use a low threshold below the high one, e.g. 100 and 200.")
    gray = np.asarray(image.convert("L"), dtype=np.float64)
    gray = ndimage.gaussian_filter(gray, sigma=1.0)
    gx = ndimage.sobel(gray, axis=1)
    gy = ndimage.sobel(gray, axis=0)
    magnitude = np.abs(gx) + np.abs(gy)
    angle = (np.rad2deg(np.arctan2(gy, gx)) + 180.0) % 180.0
    # thin: keep a pixel only where it is the largest along its gradient direction
    padded = np.pad(magnitude, 1)
    h, w = magnitude.shape
    centre = padded[1:h + 1, 1:w + 1]

    def shifted(dy: int, dx: int) -> Any:
        return padded[1 + dy:h + 1 + dy, 1 + dx:w + 1 + dx]

    keep = np.zeros_like(magnitude, dtype=bool)
    for (lo, hi), (dy, dx) in (((0, 22.5), (0, 1)), ((157.5, 180.1), (0, 1)), ((22.5, 67.5), (1, 1)),
                               ((67.5, 112.5), (1, 0)), ((112.5, 157.5), (1, -1))):
        band = (angle >= lo) & (angle < hi)
        keep |= band & (centre >= shifted(dy, dx)) & (centre >= shifted(-dy, -dx))
    thin = np.where(keep, magnitude, 0.0)
    strong = thin >= high
    weak = thin >= low
    labels, count = ndimage.label(weak, structure=np.ones((3, 3)))
    connected = np.zeros(count + 1, dtype=bool)
    connected[np.unique(labels[strong])] = True
    connected[0] = False
    edges = connected[labels]
    out = (edges * 255).astype(np.uint8)
    return Image.fromarray(np.stack([out] * 3, axis=-1), mode="RGB")


def lineart(image: Any) -> Any:
    """ControlNet's model-free "lineart_standard": white lines where the picture is darker than its blur."""
    import numpy as np
    from PIL import Image
    from scipy import ndimage

    x = np.asarray(image.convert("RGB"), dtype=np.float32)
    blurred = np.stack([ndimage.gaussian_filter(x[..., c], sigma=6.0) for c in range(3)], axis=-1)
    intensity = np.min(blurred - x, axis=2).clip(0, 255)
    bright = intensity[intensity > 8]
    intensity /= max(16.0, float(np.median(bright)) if bright.size else 16.0)
    intensity *= 127
    out = intensity.clip(0, 255).astype(np.uint8)
    return Image.fromarray(np.stack([out] * 3, axis=-1), mode="RGB")


def tile(image: Any, downsample: float = 1.0) -> Any:
    """The picture as the tile ControlNet reads it: itself, or resampled down by ``downsample`` and back."""
    from PIL import Image

    if downsample <= 1.0:
        return image.convert("RGB")
    width, height = image.size
    small = image.convert("RGB").resize((max(1, int(width / downsample)), max(1, int(height / downsample))),
                                        Image.Resampling.LANCZOS)
    return small.resize((width, height), Image.Resampling.LANCZOS)


def depth(image: Any, folder: Path) -> Any:
    """A depth map (near is bright) from the depth-estimation model in ``folder`` (transformers layout)."""
    import numpy as np
    import torch
    from PIL import Image
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    try:
        processor = AutoImageProcessor.from_pretrained(str(folder), local_files_only=True)
        model = AutoModelForDepthEstimation.from_pretrained(str(folder), local_files_only=True,
                                                            use_safetensors=True).eval()
    except (OSError, ValueError) as exc:
        raise ModelError(f"The depth model in {folder} could not be loaded: {exc}",
                         hint="Put a complete Depth Anything or DPT folder there (config.json, "
                              "preprocessor_config.json, .safetensors weights).") from exc
    with torch.no_grad():
        inputs = processor(images=image, return_tensors="pt")
        predicted = model(**inputs).predicted_depth
    predicted = torch.nn.functional.interpolate(predicted.unsqueeze(1), size=image.size[::-1], mode="bicubic",
                                                align_corners=False).squeeze()
    values = predicted.numpy()
    span = float(values.max() - values.min()) or 1.0
    out = ((values - values.min()) / span * 255).clip(0, 255).astype(np.uint8)
    return Image.fromarray(np.stack([out] * 3, axis=-1), mode="RGB")
