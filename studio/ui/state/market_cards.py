"""The Market's cards: each row's name, thumbnail, artist, royalty and provenance verdict, read once per
token by one background job that streams each card as it is ready, and shown in every table.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable

from studio.errors import Cancelled
from studio.ui.state.market_jobs import thumbnail, voucher_royalty
from studio.ui.widgets.market_tables import LAZY, Card
from studio.ui.workers import FunctionJob, Job, error_message

if TYPE_CHECKING:
    from studio.ui.state.market import MarketState
    from studio.ui.state.market_snapshot import MarketSnapshot

Key = tuple[str, str, str]


class MarketCards:
    """The cards read so far (by row key) and the job reading the missing ones, for one MarketState."""

    def __init__(self, state: "MarketState") -> None:
        self.state = state
        self.cards: dict[Key, Card] = {}
        self._job: Job | None = None
        self._fetcher: Any = None

    def clear(self) -> None:
        """Forget every card (another network)."""
        self.cards.clear()

    def with_card(self, row: Any) -> Any:
        """`row` with its card, where it was read."""
        card = self.cards.get(row.key)
        return replace(row, card=card) if card is not None else row

    def load(self, snapshot: "MarketSnapshot") -> None:
        """Fetch metadata, thumbnails and verdicts of the cards not read yet, one job streaming them."""
        missing = {key: spec for key, spec in _wanted(snapshot).items() if key not in self.cards}
        if not missing or self._job is not None:
            return
        state = self.state
        session, library, generation = state.wallet_state.session, state.library, state.generation
        fetcher = self._card_fetcher()

        def work(progress: Callable[[Any], None], cancel: Any) -> int:
            from studio.workflows.market import token_details

            connection = session.connection()
            for key, spec in missing.items():
                if cancel.cancelled:
                    raise Cancelled()
                details = token_details(connection, fetcher=fetcher, library=library, **spec)
                progress((key, Card(details, thumbnail(details.image))))
            return len(missing)

        job = FunctionJob("Reading token details", work)
        self._job = job
        job.to(state).progressed.connect(lambda update: self._on_card(generation, *update))
        job.to(state).failed.connect(lambda exc: self._on_failed(generation, exc))
        job.to(state).ended.connect(lambda: self._ended(job))
        state.background.start(job)

    def _card_fetcher(self) -> Any:
        if self._fetcher is None:
            from studio.config import load_config
            from studio.storage.backends import fetcher_from_config

            self._fetcher = fetcher_from_config(load_config())
        return self._fetcher

    def _on_card(self, generation: int, key: Key, card: Card) -> None:
        if generation != self.state.generation:
            return
        self.cards[key] = card
        for model in self.state.models:
            model.set_card(key, card)

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        state = self.state
        if generation == state.generation:
            state.status_line = f"{state.status_line} · token details not read: {error_message(exc)}"

    def _ended(self, job: Job) -> None:
        if self._job is job:
            self._job = None
            state = self.state
            if state.snapshot is not None and any(
                    row.key not in self.cards for row in state.listings.all_rows + state.held.rows()):
                self.load(state.snapshot)  # rows that arrived while the job ran


def _wanted(snapshot: "MarketSnapshot") -> dict[Key, dict[str, Any]]:
    """What to read for each row of a snapshot: a token (collection, id) or a lazy listing's metadata."""
    wanted: dict[Key, dict[str, Any]] = {}
    for item in snapshot.items:
        if item.kind == LAZY and item.voucher is not None:
            signed_bps = voucher_royalty(item.voucher)
            wanted[item.key] = {"collection": item.collection, "metadata_cid": item.voucher.metadata_cid,
                                "royalty_bps": signed_bps}
        elif item.token_id is not None:
            wanted[item.key] = {"collection": item.collection, "token_id": item.token_id}
    for held in snapshot.held:
        wanted.setdefault(held.key, {"collection": held.collection, "token_id": held.token_id})
    for line in (*snapshot.offers_made, *snapshot.offers_incoming):
        token = line.token_id if line.token_id is not None else line.offer.token_id
        if token is not None:
            wanted.setdefault(line.key, {"collection": line.offer.collection, "token_id": token})
    for order in snapshot.orders:
        if order.order.token_id is not None and order.order.collection:
            wanted.setdefault(order.key, {"collection": order.order.collection, "token_id": order.order.token_id})
    return wanted
