"""Making an offer on a token: the amount (held in escrow by the marketplace until withdrawn or
accepted), with the token's current listing shown for reference. The Market tab shows the preview."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, \
    QWidget

from studio.errors import StudioError
from studio.ui.dialogs.sell import plain_label
from studio.ui.dialogs.unlock import error_label, show_error
from studio.ui.money import format_eth, short_address
from studio.ui.state.market import MarketState
from studio.ui.workers import Job


class OfferDialog(QDialog):
    """Offer ETH for one token, as the wallet's current account."""

    def __init__(self, state: MarketState, collection: str, token_id: int, parent: QWidget | None = None, *,
                 name: str | None = None, listed_price_wei: int | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.collection = collection
        self.token_id = token_id
        self.job: Job | None = None
        currency = state.network.currency
        self.setWindowTitle("Make an offer")
        self.setMinimumWidth(460)
        title = plain_label(name or f"Token {token_id}")
        title.setObjectName("heroTitle")
        where = plain_label(f"Token #{token_id} of {short_address(collection)}", muted=True)
        where.setToolTip(collection)
        self.listing_line = plain_label(f"Listed at {format_eth(listed_price_wei, currency)}: buying it outright "
                                        "costs that." if listed_price_wei is not None else "Not listed for sale.")
        buyer = plain_label(f"Offering as {state.account_name(state.wallet_state.current_account)}", muted=True)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("0.05")
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount, 1)
        amount_row.addWidget(QLabel(currency))
        escrow = plain_label("The amount leaves your account now and waits in the marketplace's escrow. The owner "
                             "can accept it at any time; withdraw it (Offers) to get it back. A second offer on the "
                             "same token adds to the first.", muted=True)
        form = QFormLayout()
        form.addRow("Listing", self.listing_line)
        form.addRow("Your offer", amount_row)
        self.error = error_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.submit_button = self.buttons.addButton("Offer…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.submit_button.setProperty("accent", True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(where)
        layout.addWidget(buyer)
        layout.addLayout(form)
        layout.addWidget(escrow)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def submit(self) -> None:
        """Start the offer (the tab shows its preview); mistakes are shown here and the dialog stays."""
        show_error(self.error, "")
        try:
            self.job = self.state.make_offer(self.collection, self.token_id, self.amount.text())
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        self.accept()
