"""Starting the GUI: the application object, theme, logging, catalog and main window.

Nothing here imports torch: the window is up first, then a worker detects the device, and the
GPU lane builds the engine when the first job runs. The local IPFS gateway starts with the
window (when works are kept in the local store) and stops when the application quits.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from studio import __version__

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow, QTabWidget

    from studio.config import Config
    from studio.storage.gateway import GatewayService


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="main.py", description="Open the Provenance Studio window.")
    parser.add_argument("--quit-after-show", action="store_true",
                        help="print the seconds from start to the window being shown, then exit (benchmarks)")
    parser.add_argument("--check-tabs", action="store_true",
                        help="open every tab in turn, print each one's name, then exit: 0 when all opened "
                             "(a smoke test of an installed or packaged studio)")
    return parser.parse_args(argv)


def visit_tabs(window: "QMainWindow", tabs: "QTabWidget", app: QApplication) -> None:
    """Show each tab once, one per event-loop turn so each paints; print it, then quit with 0, or 1
    if a tab raised while opening."""
    failures: list[str] = []

    def visit(index: int) -> None:
        if index >= tabs.count():
            print(f"tabs checked: {tabs.count() - len(failures)} of {tabs.count()} opened", flush=True)
            window.close()
            app.exit(1 if failures else 0)
            return
        name = tabs.tabText(index).replace("&", "")
        try:
            tabs.setCurrentIndex(index)
            page = tabs.currentWidget()
            page.repaint()
            print(f"tab opened: {name}", flush=True)
        except Exception as exc:  # reported, and the exit status says so
            failures.append(name)
            print(f"tab failed: {name}: {exc!r}", file=sys.stderr, flush=True)
        QTimer.singleShot(0, lambda: visit(index + 1))

    visit(0)


def start_local_gateway(app: QApplication, config: "Config") -> "GatewayService":
    """Serve the local store on 127.0.0.1 while the studio is open, so ``ipfs://`` links of its
    works open in a browser offline; stopped (port released) when ``app`` quits.

    Never stops the studio from opening: a busy port gives way to a free one, and a gateway that
    cannot listen is logged and reported by the service's ``status``.
    """
    from studio.storage.gateway import GatewayService

    service = GatewayService.from_config(config)
    service.start()
    app.aboutToQuit.connect(service.stop)
    return service


def main(argv: list[str] | None = None, *, started_at: float | None = None) -> int:
    """Open the main window and run the event loop; returns the exit status."""
    started_at = time.perf_counter() if started_at is None else started_at
    args = parse_args(sys.argv[1:] if argv is None else argv)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Provenance Studio")
    app.setApplicationVersion(__version__)
    from studio.ui.garbage import GuiThreadCollector

    collector = GuiThreadCollector(app)  # Qt objects in reference cycles die on the GUI thread
    app.aboutToQuit.connect(collector.stop)

    from studio.config import load_config
    from studio.generation.models import ModelCatalog
    from studio.logs import setup_logging
    from studio.ui.main_window import MainWindow
    from studio.ui.theme import apply_theme

    config = load_config()
    apply_theme(app, config["theme"])  # the first paint already in the chosen theme
    log_path = setup_logging(config.paths.logs_dir)
    catalog = ModelCatalog(config)
    from studio.ui.state.welcome import needs_welcome

    if needs_welcome(config) and not (args.quit_after_show or args.check_tabs):  # first run: wallet, works folder, a model
        from studio.ui.dialogs.welcome import run_welcome

        run_welcome(config, catalog)
    window = MainWindow(config, catalog, log_path=log_path)
    gateways: list["GatewayService"] = []

    def start_gateway() -> None:
        """The local gateway starts once the window is up (it is not needed to show it)."""
        if not gateways:
            gateways.append(start_local_gateway(app, config))
            window.set_gateway_status(gateways[0].status, gateways[0].url)

    if args.quit_after_show:
        def report() -> None:
            seconds = time.perf_counter() - started_at
            torch = "loaded" if "torch" in sys.modules else "not loaded"
            web3 = "loaded" if "web3" in sys.modules else "not loaded"
            print(f"window shown after {seconds:.2f} s (torch {torch})")
            print(f"process cpu {time.process_time():.2f} s at show (web3 {web3})", flush=True)
            start_gateway()  # what the studio does next, so that its start and stop are checked too
            window.close()
            app.quit()

        window.shown.connect(report)
    else:
        window.shown.connect(lambda: QTimer.singleShot(0, start_gateway))  # after the first paint
        if args.check_tabs:
            window.shown.connect(lambda: visit_tabs(window, window.tabs, app))
        else:
            window.shown.connect(window.detect_device)
    window.show()
    try:
        return app.exec()
    finally:
        for gateway in gateways:
            gateway.stop()
