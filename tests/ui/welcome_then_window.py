"""The artist's first run in one process, as ``studio.ui.app.main`` does it: the welcome with its
failure paths, then the main window, with every Qt warning fatal.

Run by ``test_welcome_then_window.py`` in a fresh process. The welcome is walked with real clicks:
Next › Import more accounts… › a different recovery phrase › a wrong password › Import › the right
password › Import › Back ×2 › Import a private key › a wrong password › Enter › Enter › Cancel ›
Next › Next › Download (the hub is a closed loopback port) › Start creating. Then the main window
opens and a garbage-collection pass runs on one of its worker threads, as one does whenever a
worker allocates enough (importing torch to detect the device, say): a Qt object left for the
garbage collector would be destroyed there, off its thread ("QObject::killTimer: Timers cannot be
stopped from another thread", then a crash).

Qt's own ``QT_FATAL_WARNINGS=1`` cannot be used as is: the offscreen platform warns that it "does
not support propagateSizeHints()" for every window with a minimum size. So a message handler makes
every other warning fatal (printed, then ``abort()``, as ``QT_FATAL_WARNINGS`` does).
Prints ``first run ended cleanly`` and exits 0 when nothing went wrong.
"""
from __future__ import annotations

import gc
import os
import sys
import threading
import time
from typing import Any, Callable, Iterator

from PySide6.QtCore import QMessageLogContext, Qt, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWizard

TEST_PHRASE = "test test test test test test test test test test test junk"
OTHER_PHRASE = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
PASSWORD = "wallet-password"
KEY = "0x" + bytes(range(1, 33)).hex()
#: The offscreen platform's notice for windows with a minimum size: not a defect of the studio.
PLATFORM_NOISE = ("does not support propagateSizeHints",)
STEP_TIMEOUT_S = 60.0

Step = Callable[[], bool]


def fatal_warnings(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    """QT_FATAL_WARNINGS, less the platform's notice: print the message, then abort on a warning."""
    print(f"Qt {kind.name}: {message} (thread {threading.current_thread().name})", file=sys.stderr, flush=True)
    if kind in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg) \
            and not any(noise in message for noise in PLATFORM_NOISE):
        os.abort()


class Driver:
    """Plays a generator of steps from the event loop: each yields a condition to wait for."""

    def __init__(self, steps: Iterator[Step]) -> None:
        self.steps = steps
        self.waiting: Step = lambda: True
        self.deadline = 0.0
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self.tick)

    def start(self) -> None:
        self.timer.start()

    def tick(self) -> None:
        if not self.waiting():
            if time.monotonic() > self.deadline:
                print(f"a step did not finish within {STEP_TIMEOUT_S:g} s", file=sys.stderr, flush=True)
                os._exit(3)
            return
        try:
            self.waiting = next(self.steps)
            self.deadline = time.monotonic() + STEP_TIMEOUT_S
        except StopIteration:
            self.timer.stop()


def click(button: Any) -> None:
    assert button.isEnabled(), f"{button.text()} is disabled"
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def welcome_steps(app: QApplication) -> Iterator[Step]:
    from studio.ui.dialogs.welcome import MODELS, WALLET, WelcomeDialog
    from studio.ui.dialogs.wallet_setup import CHOICE, IMPORT_KEY, PASSWORD as PASSWORD_PAGE

    yield lambda: isinstance(app.activeModalWidget(), WelcomeDialog)
    welcome = app.activeModalWidget()
    assert isinstance(welcome, WelcomeDialog)
    welcome.next()
    assert welcome.currentId() == WALLET
    click(welcome.wallet_page.import_button)  # "Import more accounts…"
    wizard = welcome.wallet_page.setup
    yield wizard.isVisible

    # a second recovery phrase, a wrong password, then the right one
    click(wizard.button(QWizard.WizardButton.NextButton))
    wizard.import_phrase_page.phrase.setPlainText(OTHER_PHRASE)
    click(wizard.button(QWizard.WizardButton.NextButton))
    if wizard.currentId() == PASSWORD_PAGE:
        page = wizard.password_page
        page.password.setText("not the password")
        click(wizard.button(QWizard.WizardButton.FinishButton))
        yield lambda: page.job is None and bool(page.error.text())
        page.password.setText(PASSWORD)
        click(wizard.button(QWizard.WizardButton.FinishButton))
        yield lambda: page.job is None and (bool(page.error.text()) or not wizard.isVisible())
    if not wizard.isVisible():  # the phrase was imported: open the wizard again for the key
        click(welcome.wallet_page.import_button)
        wizard = welcome.wallet_page.setup
        yield wizard.isVisible
    while wizard.currentId() != CHOICE:
        click(wizard.button(QWizard.WizardButton.BackButton))

    # a private key, a wrong password, Enter, Enter, Cancel
    wizard.choice.key_radio.setChecked(True)
    click(wizard.button(QWizard.WizardButton.NextButton))
    assert wizard.currentId() == IMPORT_KEY
    wizard.import_key_page.key.setText(KEY)
    click(wizard.button(QWizard.WizardButton.NextButton))
    page = wizard.password_page
    page.password.setText("not the password")
    QTest.keyClick(page.password, Qt.Key.Key_Return)
    yield lambda: page.job is None and bool(page.error.text())
    QTest.keyClick(QApplication.focusWidget() or page.password, Qt.Key.Key_Return)
    yield lambda: page.job is None
    click(wizard.button(QWizard.WizardButton.CancelButton))
    yield lambda: not wizard.isVisible()

    # the works folder as it is, then a download that fails
    welcome.next()
    welcome.next()
    assert welcome.currentId() == MODELS
    models = welcome.models_page
    yield lambda: welcome.state.scanned
    click(models.download_button)
    yield lambda: not welcome.state.downloading and models.error.isVisible()
    click(welcome.button(QWizard.WizardButton.FinishButton))  # "Start creating"


def main() -> int:
    qInstallMessageHandler(fatal_warnings)
    import studio.chain.keystore as keystore

    keystore.DEFAULT_KDF_N = 2**10  # a cheap scrypt: the same code, seconds faster
    app = QApplication(sys.argv[:1])
    from studio.ui.garbage import GuiThreadCollector

    collector = GuiThreadCollector(app)  # as studio.ui.app.main does; the worker below collects anyway
    app.aboutToQuit.connect(collector.stop)
    from studio.chain.wallet import Wallet
    from studio.config import load_config
    from studio.generation.models import ModelCatalog
    from studio.ui.dialogs.welcome import run_welcome
    from studio.ui.main_window import MainWindow
    from studio.ui.workers import FunctionJob

    config = load_config()
    Wallet.default().create(PASSWORD, phrase=TEST_PHRASE)
    catalog = ModelCatalog(config)
    driver = Driver(welcome_steps(app))
    QTimer.singleShot(0, driver.start)
    run_welcome(config, catalog, endpoint="http://127.0.0.1:9")
    del driver

    window = MainWindow(config, catalog)

    def collect_on_a_worker() -> None:
        job = FunctionJob("Collecting garbage on a worker", lambda _progress, _cancel: gc.collect())
        job.ended.connect(window.close)
        window.background.start(job)

    window.shown.connect(collect_on_a_worker)
    window.show()
    app.exec()
    print("first run ended cleanly", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
