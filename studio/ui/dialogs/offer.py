"""Making an offer on a token: a Seaport order offering WETH until the chosen expiry (or, ticked, for any
token of the collection), with the token's current listing shown for reference; where the network has
no Seaport, ETH held by the escrow marketplace. The Market tab shows the previews."""
from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QVBoxLayout, QWidget)

from studio.errors import StudioError
from studio.ui.dialogs.sell import opensea_box, plain_label
from studio.ui.dialogs.unlock import error_label, show_error
from studio.ui.money import format_eth, short_address
from studio.ui.state.market import MarketState
from studio.ui.widgets.expiry import ExpiryChooser
from studio.ui.workers import Job

SEAPORT_TEXT = ("An offer is a Seaport order you sign: no gas, and your WETH stays in your wallet until the owner "
                "accepts. ETH is wrapped into WETH for what you lack, and Seaport is approved to move your WETH "
                "(each a transaction you preview); the creator's royalty is paid out of the offer.")
ESCROW_TEXT = ("The amount leaves your account now and waits in the marketplace's escrow. The owner can accept it "
               "until it expires; withdraw it (Offers) to get it back. A second offer on the same token adds to the "
               "first.")


class OfferDialog(QDialog):
    """Offer for one token (or its whole collection), as the wallet's current account."""

    def __init__(self, state: MarketState, collection: str, token_id: int, parent: QWidget | None = None, *,
                 name: str | None = None, listed_price_wei: int | None = None, collection_name: str = "") -> None:
        super().__init__(parent)
        self.state = state
        self.collection = collection
        self.token_id = token_id
        self.job: Job | None = None
        self.escrow = not state.has_seaport
        currency = "ETH (held in escrow)" if self.escrow else "WETH"
        self.setWindowTitle("Make an offer")
        self.setMinimumWidth(480)
        title = plain_label(name or f"Token {token_id}")
        title.setObjectName("heroTitle")
        where = plain_label(f"Token #{token_id} of {collection_name or short_address(collection)}", muted=True)
        where.setToolTip(collection)
        self.listing_line = plain_label(f"Listed at {format_eth(listed_price_wei, state.network.currency)}: buying it "
                                        "outright costs that." if listed_price_wei is not None else
                                        "Not listed for sale.")
        buyer = plain_label(f"Offering as {state.account_name(state.wallet_state.current_account)}", muted=True)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("0.05")
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount, 1)
        amount_row.addWidget(QLabel(currency))
        self.expiry = ExpiryChooser()
        self.any_token = QCheckBox(f"Any token of {collection_name or 'this collection'} (a collection offer)")
        self.any_token.setVisible(not self.escrow)
        held = state.weth_held()
        self.weth_line = plain_label(f"You hold {format_eth(held or 0, 'WETH')}." if held is not None else "",
                                     muted=True)
        explain = plain_label(ESCROW_TEXT if self.escrow else SEAPORT_TEXT, muted=True)
        form = QFormLayout()
        form.addRow("Listing", self.listing_line)
        form.addRow("Your offer", amount_row)
        form.addRow("Valid for", self.expiry)
        form.addRow("", self.any_token)
        self.opensea = opensea_box(state, shown=not self.escrow)
        self.opensea_usable, self.opensea_reason = self.opensea.isEnabled(), self.opensea.toolTip()
        self.any_token.toggled.connect(self._collection_offer_toggled)
        form.addRow("", self.opensea)
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
        layout.addWidget(self.weth_line)
        layout.addWidget(explain)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def _collection_offer_toggled(self, collection_offer: bool) -> None:
        """OpenSea takes collection offers by its own slug: such an offer stays in the studio's book."""
        if self.escrow:
            return
        if collection_offer:
            self.opensea.setChecked(False)
            self.opensea.setEnabled(False)
            self.opensea.setToolTip("OpenSea takes collection offers by its own collection slug: a collection "
                                    "offer stays in the studio's own order book.")
        else:
            self.opensea.setEnabled(self.opensea_usable)
            self.opensea.setToolTip(self.opensea_reason)

    def submit(self) -> None:
        """Start the offer (the tab shows its previews); mistakes are shown here and the dialog stays."""
        show_error(self.error, "")
        try:
            token = None if self.any_token.isChecked() else self.token_id
            self.job = self.state.trades.make_offer(self.collection, token, self.amount.text(),
                                             duration=self.expiry.duration, until=self.expiry.until,
                                             escrow=self.escrow,
                                             opensea=self.opensea.isEnabled() and self.opensea.isChecked())
        except StudioError as exc:
            show_error(self.error, str(exc))
            return
        self.accept()
