"""Receive: one of the wallet's addresses as text and as a QR code, to give to whoever pays.

The QR code holds the plain checksummed address (what MetaMask and Rabby show and scan), drawn
from the ``qrcode`` package's module matrix into a QImage: no image library, no file.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout,
                               QWidget)

from studio.ui.money import short_address
from studio.ui.state.wallet import WalletState

QR_PIXELS = 240


def qr_matrix(text: str) -> list[list[bool]]:
    """The QR code of ``text`` as rows of dark (True) and light modules, with a 4-module quiet zone."""
    import qrcode

    code = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    return [[bool(module) for module in row] for row in code.get_matrix()]


def qr_image(text: str, pixels: int = QR_PIXELS) -> QImage:
    """The QR code of ``text`` drawn black on white, each module a whole number of pixels."""
    matrix = qr_matrix(text)
    scale = max(1, pixels // len(matrix))
    side = scale * len(matrix)
    image = QImage(side, side, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("black"))
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                painter.drawRect(x * scale, y * scale, scale, scale)
    painter.end()
    return image


class ReceiveDialog(QDialog):
    """The chosen account's address, a QR code of it, and Copy."""

    def __init__(self, state: WalletState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setWindowTitle("Receive")
        self.setMinimumWidth(460)
        self.account_combo = QComboBox()
        for account in state.accounts.rows():
            self.account_combo.addItem(f"{account.name}  ·  {short_address(account.address)}", account.address)
        self.account_combo.setCurrentIndex(max(0, self.account_combo.findData(state.current_account)))
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setMinimumSize(QR_PIXELS + 16, QR_PIXELS + 16)
        self.address = QLabel()
        self.address.setTextFormat(Qt.TextFormat.PlainText)
        self.address.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.address.setStyleSheet("font-family: monospace; font-size: 13px;")
        network = state.network
        self.note = QLabel(f"Send only {network.currency} and tokens on {network.name} (chain id {network.chain_id}) "
                           "to this address. Funds sent on another network arrive there, not here.")
        self.note.setWordWrap(True)
        self.note.setProperty("muted", True)
        self.copy_button = QPushButton("Copy address")
        self.copy_button.setProperty("accent", True)
        self.copy_button.clicked.connect(self.copy_address)
        self.copied = QLabel()
        self.copied.setProperty("muted", True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.copy_button)
        row.addWidget(self.copied, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.account_combo)
        layout.addWidget(self.qr)
        layout.addWidget(self.address)
        layout.addWidget(self.note)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.account_combo.currentIndexChanged.connect(self._show)
        self._show()

    def _show(self, *_: object) -> None:
        address = self.account_combo.currentData() or ""
        self.address.setText(address)
        self.qr.setPixmap(QPixmap.fromImage(qr_image(address)) if address else QPixmap())
        self.copied.setText("")

    def copy_address(self) -> None:
        QGuiApplication.clipboard().setText(self.address.text())
        self.copied.setText("Copied.")
