"""The Market's background work, the parts without state: a worker's question "sign this?" waiting for
the person's answer on the GUI thread (`PreviewRequest`), an action's outcome, what the actions of each
venue (escrow, Seaport) share (`VenueActions`), and the small conversions the card reader does off the
GUI thread (thumbnails, a voucher's royalty)."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from studio.errors import InputError, StudioError
from studio.ui.money import format_eth

if TYPE_CHECKING:
    from studio.library.market import VoucherRow
    from studio.ui.state.market import MarketState
    from studio.ui.widgets.market_tables import MarketItem
    from studio.ui.workers import Job

THUMBNAIL = 96
T = TypeVar("T")


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


class VenueActions:
    """What the Market's actions on one venue share: each checks what can be refused without a node,
    then runs one workflow call through :meth:`ActionRunner.act` with the venue's common arguments."""

    def __init__(self, state: "MarketState") -> None:
        self.state = state

    def _eth(self, wei: int | None, currency: str | None = None) -> str:
        return format_eth(wei, currency or self.state.network.currency)

    def _venue(self) -> dict[str, Any]:
        """The workflow arguments that name this venue and its store (read now: refused before a job starts)."""
        raise NotImplementedError

    def _common(self) -> dict[str, Any]:
        """The workflow arguments every call on this venue takes."""
        session = self.state.wallet_state.session
        return {**self._venue(), "network": session.network, "history": session.history,
                "timeout": self.state.tx_timeout}

    def _act(self, action: str, title: str, account: str, call: Callable[..., Any], describe: Callable[[Any], str],
             /, **arguments: Any) -> "Job":
        """`call(**arguments)` with the connection, the signer, the confirm and the venue's common arguments."""
        common = self._common()
        return self.state.actions.act(action, title, account, lambda kw: call(**arguments, **kw, **common), describe)

    def _buy(self, item: "MarketItem", account: str, call: Callable[..., Any], *, minted: bool = False,
             **arguments: Any) -> "Job":
        """Buy a listing at its price: the workflow `call` fills it (a voucher's purchase mints the token)."""
        action = "buy-voucher" if minted else "buy"
        return self._act(action, f"Buying {self.state.label(item)}", account, call,
                         lambda r: f"Bought token {r.token_id}{' (minted to you)' if minted else ''} for "
                                   f"{self._eth(r.price_wei)}.", **arguments)


def needed(value: T | None, message: str) -> T:
    """`value`, refused with `message` where it is missing (None)."""
    if value is None:
        raise InputError(message)
    return value


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
