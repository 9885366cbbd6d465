"""The Create tab's image inputs (``CreateState.inputs``): the mode (text to image, image to image,
inpainting), the init image and its strength, the painted mask and how it is blended.

:meth:`ImageInputs.images` opens and checks them for a request, without torch.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from studio.errors import InputError, NotFound
from studio.ui.binding import observed
from studio.ui.images import qimage_to_pil_mask
from studio.ui.state.jobs import IMAGE_TO_IMAGE, INPAINT, TEXT_TO_IMAGE


class ImageInputs(QObject):
    """What a generation starts from besides the prompt: nothing, an init image, or one and a mask."""

    mode_changed, mode = observed(TEXT_TO_IMAGE, str)
    init_image_path_changed, init_image_path = observed("", str)
    strength_changed, strength = observed(0.75, float)
    #: Inpainting: the mask's feathered edge; the "whole" picture painted, or only the "masked" area at
    #: full resolution with ``inpaint_padding`` around it (in pixels).
    mask_blur_changed, mask_blur = observed(4, int)
    inpaint_area_changed, inpaint_area = observed("whole", str)
    inpaint_padding_changed, inpaint_padding = observed(32, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._mask: QImage | None = None

    @property
    def mask(self) -> QImage | None:
        return self._mask

    def set_mask(self, mask: QImage | None) -> None:
        """The inpainting mask painted on the init image (white = repaint), or None."""
        self._mask = None if mask is None or mask.isNull() else QImage(mask)

    def start_from(self, path: Path) -> None:
        """Image to image from ``path`` (inpainting stays on if it is)."""
        self.init_image_path = str(path)
        if self.mode == TEXT_TO_IMAGE:
            self.mode = IMAGE_TO_IMAGE

    def images(self) -> tuple[Any, Any]:
        """The init image and the mask as RGB and grayscale PIL images (None where the mode takes
        none), the mask at the init image's size; a missing image or an empty mask is refused."""
        if self.mode not in (IMAGE_TO_IMAGE, INPAINT):
            return None, None
        if not self.init_image_path:
            raise InputError("Image to image needs an init image.",
                             hint="Choose an image file, or use a result as the init image.")
        init_image = self._open_init_image(Path(self.init_image_path))
        if self.mode != INPAINT:
            return init_image, None
        if self._mask is None or self._mask_is_empty():
            raise InputError("Inpainting needs a mask.", hint="Paint over the part of the init image to repaint.")
        mask_image = qimage_to_pil_mask(self._mask)
        if mask_image.size != init_image.size:
            from PIL import Image

            mask_image = mask_image.resize(init_image.size, Image.Resampling.NEAREST)
        return init_image, mask_image

    def request_fields(self) -> dict[str, Any]:
        """The request's strength and inpainting fields."""
        return {"strength": float(self.strength), "mask_blur": int(self.mask_blur),
                "inpaint_area": self.inpaint_area, "inpaint_padding": int(self.inpaint_padding)}

    def _mask_is_empty(self) -> bool:
        if self._mask is None:
            return True
        gray = self._mask.convertToFormat(QImage.Format.Format_Grayscale8)
        return not any(bytes(gray.constBits()))

    @staticmethod
    def _open_init_image(path: Path) -> Any:
        from studio.safeimage import open_image

        if not path.is_file():
            raise NotFound(f"The init image {path} does not exist.", hint="Choose another image.")
        with open_image(path, what=path.name) as image:
            image.load()
            return image.convert("RGB")
