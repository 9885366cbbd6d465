"""What the mint dialog and the batch mint dialog share: the labels of their pages, the wallet's
unlock before a step that signs, “New collection…”, the guard that keeps a running mint's dialog
open, and opening either with the window's library (or one of its own, closed with it).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QWidget

from studio.library.db import Library
from studio.ui.binding import Bindings
from studio.ui.dialogs.unlock import UnlockDialog
from studio.ui.state.wallet import WalletState
from studio.ui.widgets.page_parts import muted_label, section_label, selectable_label, title_label  # for the pages
from studio.ui.workers import JobState

if TYPE_CHECKING:
    from studio.library.db import Collection
    from studio.ui.dialogs.collection import CollectionDialog
    from studio.ui.state.mint import StoreFactory
    from studio.ui.workers import Job

UNLOCK_TO_MINT = "The wallet is locked. Enter its password to mint from your account."

D = TypeVar("D", bound=QDialog)


class MintFlowDialog(QDialog):
    """The base of the mint dialogs: ``state`` (set by the subclass) has ``job`` and
    ``add_collection``; the dialog binds to it through ``bindings`` (dropped with the dialog); the
    unlock and collection dialogs it opens are kept for scripts and tests."""

    #: The collection dialog was opened from “New collection…” (also kept in ``collection_dialog``).
    collection_dialog_shown = Signal(object)
    #: The unlock dialog was opened because the wallet was locked (also kept in ``unlock_dialog``).
    unlock_shown = Signal(object)

    state: Any

    def __init__(self, wallet: WalletState, library: Library, parent: QWidget | None = None, *,
                 store_factory: "StoreFactory | None" = None) -> None:
        super().__init__(parent)
        self.wallet = wallet
        self.library = library
        self.store_factory = store_factory
        self.bindings = Bindings(self)
        self.collection_dialog: QDialog | None = None
        self.unlock_dialog: UnlockDialog | None = None

    def bind_collections(self) -> None:
        """The list of collections and the one chosen follow the view-model's (part of ``bind``)."""
        self._fill_collections(self.state.collections)
        self.bindings.connect(self.state.collections_changed, self._fill_collections)
        self.bindings.connect(self.state.collection_address_changed, self._select_collection)

    def _fill_collections(self, collections: list["Collection"]) -> None:
        raise NotImplementedError  # each dialog lists them in its own widget

    def _select_collection(self, address: str) -> None:
        raise NotImplementedError

    def unlocked_or_ask(self, then: Callable[[], Any]) -> bool:
        """True when the wallet is unlocked; else open the unlock dialog, which runs ``then`` once unlocked."""
        if self.wallet.wallet.is_unlocked:
            return True
        dialog = UnlockDialog(self.wallet, self, reason=UNLOCK_TO_MINT)
        self.unlock_dialog = dialog
        dialog.accepted.connect(then)
        dialog.open()
        self.unlock_shown.emit(dialog)
        return False

    def new_collection(self) -> None:
        """Open the collection dialog; a collection created or imported there is chosen."""
        from studio.ui.dialogs.collection import CollectionDialog

        dialog = CollectionDialog(self.wallet, self.library, self, store_factory=self.store_factory)
        self.collection_dialog = dialog
        dialog.accepted.connect(lambda: self._add_created_collection(dialog))
        dialog.open()
        self.collection_dialog_shown.emit(dialog)

    def _add_created_collection(self, dialog: "CollectionDialog") -> None:
        created: "Collection | None" = dialog.collection
        if created is not None:
            self.state.add_collection(created)

    def job_running(self) -> bool:
        """A mint or a check is queued or running (the dialog then stays open)."""
        job: "Job | None" = self.state.job
        return job is not None and job.state in (JobState.PENDING, JobState.RUNNING)


def open_with_library(make: Callable[[Library], D], library: Library | None) -> D:
    """Open the dialog ``make`` builds over ``library`` (or the default library, closed with the dialog)."""
    own = library is None
    used = library or Library.default()
    dialog = make(used)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if own:
        dialog.finished.connect(lambda _result: used.close())
    dialog.open()
    return dialog
