"""The batch mint dialog: a finished avatar collection minted into one of your collections.

Choose the collection (or make a new one) → Check: every CID computed locally, the transactions
and their maximum cost, nothing stored or sent → Mint: storing and minting in batches with the
progress in the dialog, Stop at any time (the journal beside the manifest lets a second run finish
without minting a row twice) → the tokens minted and what they cost.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout,
                               QWidget)

from studio.library.db import Library
from studio.ui.dialogs.mint_common import (MintFlowDialog, muted_label, open_with_library, selectable_label,
                                           title_label)
from studio.ui.dialogs.unlock import error_label, show_error
from studio.ui.money import format_eth, short_address
from studio.ui.state.batch_mint import CHOOSE, DONE, FAILED, MINTING, PLANNED, PLANNING, BatchMintState
from studio.ui.state.mint import StoreFactory
from studio.ui.state.wallet import WalletState

if TYPE_CHECKING:
    from studio.workflows.batch import BatchPlan, BatchReport


class BatchMintDialog(MintFlowDialog):
    """Mint every avatar of a collection folder (its manifest) into one collection, in batches."""

    def __init__(self, wallet: WalletState, library: Library, manifest: Path, parent: QWidget | None = None, *,
                 store_factory: StoreFactory | None = None) -> None:
        super().__init__(wallet, library, parent, store_factory=store_factory)
        self.state = BatchMintState(wallet, library, manifest, store_factory=store_factory, parent=self)
        self.setWindowTitle("Mint the collection")
        self.setMinimumWidth(620)

        title = title_label("Mint the avatar collection")
        self.intro = muted_label(f"Every avatar in {Path(manifest).parent} becomes a token of the collection you "
                                 "choose, with its traits as attributes. The tokens go to your account.")
        self.collection_combo = QComboBox()
        self.collection_combo.setMinimumContentsLength(30)
        self.new_button = QPushButton("New collection…")
        row = QHBoxLayout()
        row.addWidget(self.collection_combo, 1)
        row.addWidget(self.new_button)
        form = QFormLayout()
        form.addRow("Collection", row)
        self.summary_labels: dict[str, QLabel] = {}
        for name in ("Network", "Tokens", "Transactions", "Estimated fee"):
            label = selectable_label()
            self.summary_labels[name] = label
            form.addRow(name, label)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setFixedHeight(8)
        self.progress_line = muted_label()
        self.error = error_label()
        self.result_label = selectable_label()
        self.result_label.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Compute every CID and estimate the fee: nothing is stored or sent")
        self.mint_button = QPushButton("Mint")
        self.mint_button.setProperty("accent", True)
        self.stop_button = QPushButton("Stop")
        buttons = QHBoxLayout()
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        for button in (self.cancel_button, self.check_button, self.mint_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.progress_line)
        layout.addWidget(self.result_label)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.bind()

    def bind(self) -> None:
        """Every connection between these widgets and the view-model, in one place (dropped with the
        dialog)."""
        state, b = self.state, self.bindings
        self.bind_collections()
        b.connect(self.collection_combo.activated,
                  lambda index: state.choose(self.collection_combo.itemData(index) or ""))
        b.connect(self.new_button.clicked, self.new_collection)
        b.connect(self.cancel_button.clicked, self.reject)
        b.connect(self.check_button.clicked, self.check)
        b.connect(self.mint_button.clicked, self.mint)
        b.connect(self.stop_button.clicked, state.cancel)
        b.connect(state.stage_changed, self._show_stage)
        b.connect(state.busy_changed, lambda _busy: self._show_stage(state.stage))
        b.connect(state.progress_text_changed, self.progress_line.setText)
        b.connect(state.progress_fraction_changed, self._show_fraction)
        b.connect(state.error_changed, lambda text: show_error(self.error, text))
        b.connect(state.planned, self._show_plan)
        b.connect(state.minted, self._show_report)
        self._show_stage(state.stage)

    # -- collections ----------------------------------------------------------------------------

    def _fill_collections(self, collections: list) -> None:
        self.collection_combo.clear()
        for collection in collections:
            self.collection_combo.addItem(f"{collection.name} ({collection.symbol})  ·  "
                                          f"{short_address(collection.address)}", collection.address)
        if not collections:
            self.collection_combo.addItem("No collection of yours on this network yet", "")
        self._select_collection(self.state.collection_address)

    def _select_collection(self, address: str) -> None:
        index = self.collection_combo.findData(address)
        self.collection_combo.setCurrentIndex(max(index, 0))
        self._show_stage(self.state.stage)

    # -- the flow -------------------------------------------------------------------------------

    def check(self) -> None:
        """Compute every CID and estimate the mints (the wallet unlocked first)."""
        if self.unlocked_or_ask(self.check):
            self.state.plan_mint()

    def mint(self) -> None:
        """Store and mint every row (the wallet unlocked first)."""
        if self.unlocked_or_ask(self.mint):
            self.state.mint()

    # -- showing the state ----------------------------------------------------------------------

    def _show_stage(self, stage: str) -> None:
        busy = self.state.busy
        has_collection = bool(self.state.collection_address)
        self.collection_combo.setEnabled(not busy and stage != DONE)
        self.new_button.setEnabled(not busy and stage != DONE)
        self.check_button.setVisible(stage in (CHOOSE, PLANNING))
        self.check_button.setEnabled(not busy and has_collection)
        self.mint_button.setVisible(stage in (PLANNED, MINTING, FAILED))
        self.mint_button.setEnabled(not busy and has_collection)
        self.mint_button.setText("Mint again to finish" if stage == FAILED else "Mint")
        self.stop_button.setVisible(stage in (MINTING,) and busy)
        self.progress_bar.setVisible(stage in (PLANNING, MINTING, DONE, FAILED) or busy)
        self.cancel_button.setText("Close" if stage == DONE else "Cancel")
        self.cancel_button.setEnabled(not busy)
        (self.cancel_button if stage == DONE else self.mint_button if stage == PLANNED else
         self.check_button).setDefault(True)

    def _show_fraction(self, fraction: float) -> None:
        if fraction < 0:
            self.progress_bar.setRange(0, 0)
        else:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(int(min(fraction, 1.0) * 1000))

    def _show_plan(self, plan: "BatchPlan") -> None:
        currency = self.wallet.network.currency
        labels = self.summary_labels
        labels["Network"].setText(f"{self.wallet.network.name} (chain id {self.wallet.network.chain_id})")
        labels["Tokens"].setText(f"{len(plan.works)}, minted to {short_address(self.wallet.current_account)}")
        batches = len(plan.batches)
        labels["Transactions"].setText(
            f"{plan.transactions}: {batches} mint{'s' if batches != 1 else ''} of up to "
            f"{max(count for _cid, count in plan.batches)} tokens"
            + (f", {plan.royalty_transactions} for per-token royalties" if plan.royalty_transactions else ""))
        labels["Estimated fee"].setText(f"at most {format_eth(plan.max_cost_wei, currency, exact=True)} "
                                        f"({plan.estimated_gas:,} gas)")
        self.progress_line.setText("Nothing was stored or sent. Mint stores each avatar and its metadata, then "
                                   "mints them.")

    def _show_report(self, report: "BatchReport") -> None:
        currency = self.wallet.network.currency
        ids = sorted(t.token_id for t in report.tokens)
        span = f"tokens {ids[0]}–{ids[-1]}" if len(ids) > 1 else f"token {ids[0]}" if ids else "no token"
        collection = self.state.collection
        self.result_label.setText(f"Minted {report.done} of {report.total} into {collection.name if collection else ''}: "
                            f"{span}, for {format_eth(report.cost_wei, currency, exact=True)}. The Gallery shows "
                            "them as minted." + "".join(f"\nWarning: {p}" for p in report.problems))
        self.result_label.setVisible(True)

    def done(self, result: int) -> None:
        if self.job_running():
            show_error(self.error, "Minting is under way: press Stop first (what is minted stays recorded).")
            return
        super().done(result)


def open_batch_mint_dialog(wallet: WalletState, manifest: Path, parent: QWidget | None = None, *,
                           library: Library | None = None) -> BatchMintDialog:
    """Open the batch mint dialog for a collection's manifest; a library opened here closes with it."""
    return open_with_library(lambda used: BatchMintDialog(wallet, used, manifest, parent), library)
