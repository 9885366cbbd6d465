"""The main window: the tabs, the menus, and a status bar with the wallet, the network and the device.

Only the Create tab is built before the window shows. Every other tab's view-model and widgets are
made the first time the tab is shown or something needs them (``LazyPage``); the wallet's
view-model (``ensure_wallet``: wallet file, network registry, history; no node) right after the
first paint, for the status bar and the Create tab's signatures. web3 loads in a worker the first
time a node is asked."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMessageBox, QTabWidget, QWidget

from studio import __version__
from studio.config import Config
from studio.ui.state.create import CreateState
from studio.ui.tabs.create import CreateTab
from studio.ui.widgets.lazy_page import LazyPage
from studio.ui.workers import BackgroundPool, FunctionJob, GpuLane, error_message

if TYPE_CHECKING:
    from studio.ui.dialogs.settings import SettingsDialog
    from studio.ui.state.wallet import WalletState
    from studio.ui.tabs.wallet import WalletTab

log = logging.getLogger(__name__)

ENGINE_SETTINGS = {"device", "precision", "memory_saving"}
#: Settings that decide where collections are made (the Avatars tab says where).
BACKEND_SETTINGS = {"generation_backend", "ray_address"}
MODEL_SETTINGS = {"models_folder", "scan_hf_cache", "allow_pickle_checkpoints"}
NETWORK_SETTINGS = {"network", "rpc_urls"}


def engine_factory(config: Config, catalog: Any) -> Callable[[], Any]:
    """Builds the engine with the current settings; called on the GPU lane's thread on first use."""
    def make() -> Any:
        from studio.workflows.requests import studio_engine

        return studio_engine(config, catalog)

    return make


class MainWindow(QMainWindow):
    """Tabs over one shared GPU lane and background pool; owns their shutdown on close."""

    #: Emitted once, from the event loop, after the window was first shown.
    shown = Signal()
    #: The device label once detection finished (or the reason it failed).
    device_detected = Signal(str)

    def __init__(self, config: Config, catalog: Any, *, log_path: Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.catalog = catalog
        self.log_path = log_path or config.paths.logs_dir / "studio.log"
        self.lane = GpuLane(engine_factory(config, catalog), self)
        self.background = BackgroundPool(self)
        self._shown_once = False

        self.setWindowTitle("Provenance Studio")
        self.resize(1360, 860)
        from studio.ui import theme

        theme.theme_window(self, config["theme"])  # before any child: each widget is styled once
        self.create_state = CreateState(config, catalog, self.lane, self.background, self)
        self.create_tab = CreateTab(self.create_state)
        from studio.library.db import Library

        self.library = Library.default()  # one for the window: Create records saves, the Gallery shows them
        self.create_state.library = self.library
        self.create_state.settings_applied.connect(self._on_settings_applied)
        self.wallet_state: "WalletState | None" = None
        self.wallet_tab: "WalletTab | None" = None
        self.market_state: Any = None
        self.market_tab: Any = None
        self.collector_state: Any = None
        self.collector_tab: Any = None
        self._gallery: tuple[Any, Any] | None = None  # (state, tab) once built
        self.last_list_dialog: Any = None  # the List dialog “List now” opened last
        self._avatars: tuple[Any, Any] | None = None
        self.avatars_page = LazyPage(self._build_avatars)
        self.gallery_page = LazyPage(self._build_gallery)
        self.market_page = LazyPage(self._build_market)
        self.collector_page = LazyPage(self._build_collector)
        self.wallet_page = LazyPage(self._build_wallet_tab)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.create_tab, "Create")
        for page, title in ((self.avatars_page, "Avatars"), (self.gallery_page, "Gallery"),
                            (self.market_page, "Market"), (self.collector_page, "Collections"),
                            (self.wallet_page, "Wallet")):
            self.tabs.addTab(page, title)
        self.create_state.result_added.connect(self._refresh_gallery)
        self.create_state.mint_requested.connect(self.open_mint_dialog)
        self.create_state.unlock_requested.connect(self.open_unlock_dialog)
        self.create_state.show_signing(has_wallet=config.paths.wallet_file.exists(), unlocked=False)
        self.setCentralWidget(self.tabs)

        from studio.ui.widgets.account_switcher import AccountSwitcher

        #: The acting account, the same in every tab: in the header (beside the tabs) and the status bar.
        self.account_switcher = AccountSwitcher()
        self.tabs.setCornerWidget(self.account_switcher, Qt.Corner.TopRightCorner)
        self.status_account_switcher = AccountSwitcher(compact=True)
        self.status_account_switcher.setVisible(False)
        self.device_label = QLabel("Device: detecting…")
        self.chain_label = QLabel()
        self.chain_label.setVisible(False)
        self.statusBar().addPermanentWidget(self.status_account_switcher)
        self.statusBar().addPermanentWidget(self.chain_label)
        self.gateway_label = QLabel()
        self.gateway_label.setVisible(False)
        self.statusBar().addPermanentWidget(self.gateway_label)
        self.statusBar().addPermanentWidget(self.device_label)
        self.statusBar().setSizeGripEnabled(False)
        self._build_menus()
        self.shown.connect(lambda: QTimer.singleShot(0, self.ensure_wallet))  # after the first paint
        from studio.ui.widgets.file_drop import FileDropFilter

        self.file_drop = FileDropFilter(self)  # an image dropped anywhere on the window is verified
        self.file_drop.watch(self)
        self.file_drop.files_dropped.connect(lambda paths: [self.open_verify_dialog(p) for p in paths])
        self.file_drop.files_refused.connect(self._say_not_images)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        picker = self.create_tab.model_picker
        self.add_model_file_action = file_menu.addAction("Add model file…", picker.choose_model_file)
        self.add_model_folder_action = file_menu.addAction("Add model folder…", picker.choose_model_folder)
        file_menu.addSeparator()
        self.open_works_action = file_menu.addAction("Open works folder", self.open_works_folder)
        self.verify_action = file_menu.addAction("Verify file…", lambda: self.open_verify_dialog(None))
        self.settings_action = file_menu.addAction("Settings…", self.open_settings)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))  # ⌘, on macOS; Linux has no standard key
        file_menu.addSeparator()
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        self.guide_action = help_menu.addAction("User guide", self.open_guide)
        self.guide_action.setShortcut(QKeySequence("F1"))
        self.shortcuts_action = help_menu.addAction("Keyboard shortcuts", self.open_shortcuts)
        help_menu.addSeparator()
        help_menu.addAction("Open log file", self.open_log_file)
        help_menu.addAction("About Provenance Studio", self.show_about)
        self._build_shortcuts()

    def _build_shortcuts(self) -> None:
        """Ctrl+Enter generates anywhere in the Create tab; Ctrl+1…n turn to the tabs in order."""
        self.generate_shortcuts = []
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self.create_tab)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.generate_from_shortcut)
            self.generate_shortcuts.append(shortcut)
        self.tab_shortcuts = []
        for index in range(min(self.tabs.count(), 9)):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{index + 1}"), self)
            shortcut.activated.connect(lambda index=index: self.tabs.setCurrentIndex(index))
            self.tab_shortcuts.append(shortcut)

    def generate_from_shortcut(self) -> None:
        """Ctrl+Enter in the Create tab: what the Generate button does, when it can be pressed."""
        if self.create_tab.generate_button.isEnabled():
            self.create_tab.generate_button.click()

    def shortcut_list(self) -> list[tuple[str, str]]:
        """(keys, action) for Help → Keyboard shortcuts, in the platform's notation."""
        def keys(action: QAction) -> str:
            return action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)

        rows = [(QKeySequence("Ctrl+Return").toString(QKeySequence.SequenceFormat.NativeText),
                 "Generate (Create tab)")]
        rows += [(shortcut.key().toString(QKeySequence.SequenceFormat.NativeText),
                  f"Show the {self.tabs.tabText(index)} tab") for index, shortcut in enumerate(self.tab_shortcuts)]
        rows += [(keys(self.settings_action), "Settings"), (keys(self.guide_action), "User guide"),
                 (QKeySequence(QKeySequence.StandardKey.Quit).toString(QKeySequence.SequenceFormat.NativeText),
                  "Quit")]
        return [(k, action) for k, action in rows if k]

    # -- status bar ---------------------------------------------------------------------

    def set_device_label(self, text: str) -> None:
        self.device_label.setText(text)

    def set_chain_status(self, text: str) -> None:
        """Where the wallet and network status goes once the chain tabs exist; empty hides it."""
        self.chain_label.setText(text)
        self.chain_label.setVisible(bool(text))

    def set_gateway_status(self, status: str, url: str | None) -> None:
        """Where the local IPFS gateway serves (ipfs:// links open there), or why it does not."""
        self.gateway_label.setText("IPFS " + url.removeprefix("http://") if url else "IPFS gateway off")
        self.gateway_label.setToolTip(status)
        self.gateway_label.setVisible(True)

    # -- tabs built on first use --------------------------------------------------------

    def _build_avatars(self) -> QWidget:
        from studio.ui.state.avatars import AvatarsState
        from studio.ui.tabs.avatars import AvatarsTab

        state = AvatarsState(self.config, self.catalog, self.lane, self.background, self)
        state.library = self.library  # avatars are recorded where the Gallery reads
        state.mint_collection_requested.connect(self.open_batch_mint_dialog)
        for results in (state.results, state.sheet_results, state.collection_results):
            results.rowsInserted.connect(self._refresh_gallery)
        tab = AvatarsTab(state)
        self._avatars = (state, tab)
        return tab

    @property
    def avatars_state(self) -> Any:
        self.avatars_page.ensure()
        assert self._avatars is not None
        return self._avatars[0]

    @property
    def avatars_tab(self) -> Any:
        self.avatars_page.ensure()
        assert self._avatars is not None
        return self._avatars[1]

    def _build_gallery(self) -> QWidget:
        from studio.ui.state.gallery import GalleryState
        from studio.ui.tabs.gallery import GalleryTab

        state = GalleryState(self.config, self.library, self.background, self)
        tab = GalleryTab(state)
        state.use_settings_requested.connect(self.use_settings)
        state.mint_requested.connect(self.open_mint_dialog)
        self._gallery = (state, tab)
        return tab

    @property
    def gallery_state(self) -> Any:
        self.gallery_page.ensure()
        assert self._gallery is not None
        return self._gallery[0]

    @property
    def gallery_tab(self) -> Any:
        self.gallery_page.ensure()
        assert self._gallery is not None
        return self._gallery[1]

    def _refresh_gallery(self, *_args: Any) -> None:
        """A new work was saved: the Gallery, once built, reads it (a later first build reads all)."""
        if self._gallery is not None:
            self._gallery[0].refresh()

    def _build_market(self) -> QWidget:
        from studio.ui.tabs.market import MarketTab

        self.market_tab = MarketTab(self._ensure_market_state())
        return self.market_tab

    def _ensure_market_state(self) -> Any:
        if self.market_state is None:
            from studio.ui.state.market import MarketState

            self.market_state = MarketState(self.ensure_wallet(), self.library, self.background, self)
        return self.market_state

    def _build_collector(self) -> QWidget:
        from studio.ui.state.collector import CollectorState
        from studio.ui.tabs.collector import CollectorTab

        self.collector_state = CollectorState(self.ensure_wallet(), self.library, self.background,
                                              self._ensure_market_state(), self)
        self.collector_tab = CollectorTab(self.collector_state)
        return self.collector_tab

    def _build_wallet_tab(self) -> QWidget:
        from studio.ui.tabs.wallet import WalletTab

        self.wallet_tab = WalletTab(self.ensure_wallet())
        return self.wallet_tab

    # -- library and gallery ------------------------------------------------------------

    def _say_not_images(self, paths: list[Path]) -> None:
        from studio.ui.widgets.file_drop import refused_text

        self.statusBar().showMessage(refused_text(paths), 10_000)

    def open_verify_dialog(self, path: Path | None) -> Any:
        """Check a file's provenance (signature, pixels, C2PA, its token on chain)."""
        from studio.ui.dialogs.verify import open_verify_dialog

        return open_verify_dialog(self, path, self.background, self.create_state)

    def use_settings(self, path: Path) -> None:
        """Fill the Create tab from the recipe a work's file carries (the Gallery's "Use settings"), the
        way PNG Info's "Send to Create" does, and show it."""
        self.tabs.setCurrentWidget(self.create_tab)
        self.statusBar().showMessage(f"Reading the settings of {Path(path).name}…", 8000)
        self.create_state.use_settings_of(path)

    def _on_settings_applied(self, skipped: list) -> None:
        self.statusBar().showMessage(" ".join(["The Create tab now holds these settings.", *skipped]), 8000)

    def open_mint_dialog(self, work_ids: list[int]) -> Any:
        """Mint the chosen works of the library (from the Create tab's results or the Gallery); “List
        now” at its end opens the list flow for the minted tokens."""
        from studio.ui.dialogs.mint import open_mint_dialog

        dialog = open_mint_dialog(self.ensure_wallet(), work_ids, self, library=self.library)
        dialog.list_requested.connect(self.list_tokens)
        return dialog

    def list_tokens(self, tokens: list) -> Any:
        """The list flow for freshly minted tokens ((owner, chain id, collection, token id) each): the
        Market's List dialog for the first; each one closed opens the next."""
        from studio.ui.dialogs.sell import SellDialog
        from studio.ui.widgets.market_tables import HeldToken

        pending = list(tokens)
        if not pending:
            return None
        owner, chain_id, collection, token_id = pending.pop(0)
        dialog = SellDialog(self._ensure_market_state(), HeldToken(owner, chain_id, collection, token_id, False, None),
                            self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if pending:
            dialog.finished.connect(lambda _result: self.list_tokens(pending))
        self.last_list_dialog = dialog
        dialog.open()
        return dialog

    def open_batch_mint_dialog(self, manifest: Path) -> Any:
        """Mint a finished avatar collection (the Avatars tab's “Mint collection…”)."""
        from studio.ui.dialogs.batch_mint import open_batch_mint_dialog

        return open_batch_mint_dialog(self.ensure_wallet(), manifest, self, library=self.library)

    # -- wallet -------------------------------------------------------------------------

    def ensure_wallet(self) -> "WalletState":
        """Build the wallet session and its view-model (once; reads files, contacts no node)."""
        if self.wallet_state is None:
            from studio.chain.session import WalletSession
            from studio.ui.state.wallet import WalletState

            state = WalletState(WalletSession.default(), self.background, self)
            state.library = self.library  # the address book lives in the window's library
            state.set_idle_lock_minutes(self.config["wallet_idle_lock_minutes"])
            state.chain_status_changed.connect(self.set_chain_status)
            self.wallet_state = state
            for switcher in (self.account_switcher, self.status_account_switcher):
                switcher.bind(state)
            state.has_wallet_changed.connect(self.status_account_switcher.setVisible)
            self.status_account_switcher.setVisible(state.has_wallet)
            from studio.ui.state.mint import signer_provider_for

            self.create_state.set_signer_provider(signer_provider_for(state))
            for changed in (state.has_wallet_changed, state.unlocked_changed, state.current_account_changed,
                            state.accounts.modelReset):
                changed.connect(self._show_signing)
            self._show_signing()
            self.set_chain_status(state.chain_status)
        return self.wallet_state

    def _show_signing(self, *_args: Any) -> None:
        """The Create tab says, before Generate, whether new works will be signed and by whom."""
        state = self.wallet_state
        if state is None:
            return
        index = state.accounts.index_of(state.current_account) if state.current_account else -1
        row = state.accounts.row(index) if index >= 0 else None
        from studio.ui.money import short_address

        who = f"{row.name} ({short_address(row.address)})" if row else "the selected account"
        self.create_state.show_signing(has_wallet=state.has_wallet, unlocked=state.unlocked, account=who)

    def open_unlock_dialog(self) -> Any:
        """Ask the wallet password (the Create tab's "Unlock…"), so new works are signed."""
        from studio.ui.dialogs.unlock import UnlockDialog

        dialog = UnlockDialog(self.ensure_wallet(), self, reason="Enter the wallet password, so that the works "
                                                                  "you make are signed by your account.")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def detect_device(self) -> None:
        """Resolve the device setting on a worker (it imports torch) and show it in the status bar."""
        device, precision = self.config["device"], self.config["precision"]

        def detect(_progress: Any, _cancel: Any) -> str:
            from studio.generation.devices import choose_device

            return choose_device(device, precision).label

        job = FunctionJob("Detecting the device", detect)
        job.to(self).succeeded.connect(self._on_device)
        job.to(self).failed.connect(self._on_device_failed)
        self.set_device_label("Device: detecting…")
        self.background.start(job)

    def _on_device(self, label: str) -> None:
        self.set_device_label(f"Device: {label}")
        self.device_detected.emit(label)

    def _on_device_failed(self, exc: BaseException) -> None:
        message = error_message(exc)
        self.set_device_label("Device: not available")
        self.device_label.setToolTip(message)
        self.create_state.error = message
        self.device_detected.emit(message)

    # -- menu actions -------------------------------------------------------------------

    def open_works_folder(self) -> None:
        folder = self.config.paths.works_dir
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def open_log_file(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.log_path)))

    def settings_dialog(self) -> "SettingsDialog":
        from studio.ui.dialogs.settings import SettingsDialog

        return SettingsDialog(self.config, self, actions={
            "pinning_endpoint": ("Access token…", self.open_pinning_token_dialog),
            "marketplace_addresses": ("OpenSea API key…", self.open_opensea_key_dialog)})

    def open_pinning_token_dialog(self) -> Any:
        """The pinning service's token, kept encrypted in the wallet (never a setting)."""
        from studio.ui.dialogs.pinning_token import PinningTokenDialog

        dialog = PinningTokenDialog(self.ensure_wallet().wallet, self.background,
                                    QApplication.activeWindow() or self)
        dialog.open()
        return dialog

    def open_opensea_key_dialog(self) -> Any:
        """The OpenSea API key, kept encrypted in the wallet (never a setting)."""
        from studio.ui.dialogs.opensea_key import OpenSeaKeyDialog

        dialog = OpenSeaKeyDialog(self.ensure_wallet().wallet, self.background, QApplication.activeWindow() or self)
        if self.market_tab is not None:  # the Market's OpenSea buttons follow the key
            dialog.accepted.connect(self.market_tab.update_opensea)
        dialog.open()
        return dialog

    def open_settings(self) -> None:
        dialog = self.settings_dialog()
        if dialog.exec():
            self.apply_settings(dialog.changed_keys)

    def apply_theme(self) -> None:
        """Colour the window with the theme setting (a no-op when it is already in use)."""
        from studio.ui import theme

        if self.config["theme"] != theme.current_theme() or not self.styleSheet():
            theme.theme_window(self, self.config["theme"])
            if self._gallery is not None:
                self._gallery[1].grid.cell_delegate.clear_cache()  # cells drawn in the old colours

    def apply_settings(self, changed: set[str]) -> None:
        """Take saved settings into use: a new engine for device changes, a rescan for model folders,
        the theme's colours."""
        if "theme" in changed:
            self.apply_theme()
        if changed & ENGINE_SETTINGS:
            self.lane.reset_engine(engine_factory(self.config, self.catalog))
            self.detect_device()
        if changed & MODEL_SETTINGS:
            refresh = getattr(self.catalog, "refresh", None)
            if refresh is not None:
                refresh()
            self.create_state.model_choice.reload_models()
        if changed & BACKEND_SETTINGS and self._avatars is not None:
            self._avatars[0].refresh_backend()
        if self.wallet_state is not None:
            if "wallet_idle_lock_minutes" in changed:
                self.wallet_state.set_idle_lock_minutes(self.config["wallet_idle_lock_minutes"])
            if changed & NETWORK_SETTINGS:
                self.wallet_state.reload_networks(self.config["network"])

    def show_about(self) -> None:
        """Versions of the studio, Python and its main libraries (never imports torch to ask)."""
        from studio.ui.dialogs.help import about_html

        QMessageBox.about(self, f"About Provenance Studio {__version__}", about_html())

    def open_guide(self) -> Any:
        """Help → User guide (F1): docs/guide.md in a read-only window."""
        from studio.ui.dialogs.help import GuideDialog

        dialog = GuideDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def open_shortcuts(self) -> Any:
        from studio.ui.dialogs.help import ShortcutsDialog

        dialog = ShortcutsDialog(self.shortcut_list(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # -- lifecycle ----------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            QTimer.singleShot(0, self.shown.emit)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the running job at its next step and wait for the workers before the window goes."""
        if self.collector_state is not None:
            self.collector_state.cancel()
        if self.market_state is not None:
            self.market_state.stop()
        if self.wallet_state is not None:
            self.wallet_state.stop()
            self.wallet_state.wallet.lock()
        self.lane.shutdown()
        if self._gallery is not None:
            self._gallery[0].shutdown()
        self.background.shutdown()
        super().closeEvent(event)
