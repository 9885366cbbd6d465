"""The Market's background work, the parts without state: a worker's question "sign this?" waiting for
the person's answer on the GUI thread (`PreviewRequest`), an action's outcome, and the small
conversions the card reader does off the GUI thread (thumbnails, a voucher's royalty)."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from studio.errors import StudioError

if TYPE_CHECKING:
    from studio.library.market import VoucherRow

THUMBNAIL = 96


@dataclass(frozen=True)
class ActionOutcome:
    """A finished action: its words for the status line, and the workflow's result."""

    action: str
    message: str
    result: Any


class PreviewRequest:
    """A worker's question "sign this?" waiting for the person's answer on the GUI thread."""

    def __init__(self, preview: Any, action: str) -> None:
        self.preview = preview
        self.action = action
        self.accepted = False
        self._event = threading.Event()

    @property
    def is_transaction(self) -> bool:
        """A TxPreview (gas, value); otherwise a typed-data signature (a lazy listing's voucher)."""
        return hasattr(self.preview, "gas_limit")

    @property
    def answered(self) -> bool:
        return self._event.is_set()

    def answer(self, accepted: bool) -> None:
        if not self._event.is_set():
            self.accepted = bool(accepted)
            self._event.set()

    def wait(self, cancel: Any, poll: float = 0.1) -> bool:
        while not self._event.wait(poll):
            if cancel is not None and cancel.cancelled:
                return False
        return self.accepted


def voucher_royalty(voucher: "VoucherRow") -> int | None:
    """The royalty a voucher sets for its token (None: the collection's default applies)."""
    from studio.workflows.lazy_listings import parse_voucher_json

    try:
        signed = parse_voucher_json(voucher.voucher_json)
    except StudioError:
        return None
    return signed.voucher.royalty_bps if signed.voucher.royalty_receiver else None


def thumbnail(data: bytes | None) -> QImage | None:
    """A small image for the tables (QImage is safe off the GUI thread, QPixmap is not)."""
    if not data:
        return None
    image = QImage.fromData(data)
    if image.isNull():
        return None
    return image.scaled(THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)
