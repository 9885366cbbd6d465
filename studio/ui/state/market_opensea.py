"""OpenSea in the Market: whether the orders the acting account signs can also be posted there (a key kept
in the unlocked wallet, a network OpenSea serves, Seaport on it), the publisher the signing job posts
with after signing, and a collection's OpenSea listings read into the order book (each checked to be
signed by its offerer), which the Market marks as read from OpenSea.

The key is read from the wallet when needed and handed to the client only; it never reaches a
message, a log line or a widget. A refused post never undoes the signature: the order stays valid
in the studio's order book and the outcome says why OpenSea did not take it.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable

from studio.errors import InputError
from studio.ui.workers import FunctionJob, Job

if TYPE_CHECKING:
    from studio.chain.opensea import OpenSeaClient
    from studio.ui.state.market import MarketState
    from studio.workflows.opensea_orders import FetchResult, Publisher

#: The check box's tooltip when nothing stops posting.
OPENSEA_TIP = ("Posts the signed order to OpenSea's order book too, after you sign it (OpenSea's API, with the key "
               "kept in the wallet). If OpenSea refuses it, the order stays valid here.")


class OpenSeaActions:
    """OpenSea for the acting account's Seaport orders and for reading a collection's listings."""

    def __init__(self, state: "MarketState") -> None:
        self.state = state
        #: OpenSea's API (None: api.opensea.io); ``STUDIO_OPENSEA_URL`` points it elsewhere, as in the CLI.
        from studio.workflows.opensea_orders import URL_ENV

        self.base_url: str | None = os.environ.get(URL_ENV) or None
        #: Order hashes (0x, lower case) read from OpenSea in this session, per chain: the Market marks them.
        self.read_from_opensea: set[tuple[int, str]] = set()

    def unavailable(self) -> str:
        """Why orders cannot be posted to (or read from) OpenSea now; "" when they can."""
        from studio.workflows.opensea_orders import KEY_ENV, opensea_key, serves

        state = self.state
        network = state.network
        if not serves(network.chain_id):
            return (f"OpenSea does not serve {network.name}: orders there stay in the studio's own order book. "
                    "Choose a network OpenSea serves (Ethereum, Base, Sepolia …) to post to it.")
        if state.snapshot is not None and state.snapshot.venue is None:
            return f"{network.name} has no Seaport here: OpenSea takes Seaport orders only."
        wallet = state.wallet_state.wallet
        if not wallet.is_unlocked and not os.environ.get(KEY_ENV, "").strip():
            return "Unlock the wallet: the OpenSea API key is kept encrypted in it."
        if not opensea_key(wallet):
            return ("No OpenSea API key is kept: set one in Settings › Wallet & networks › OpenSea API key… "
                    "(it is kept encrypted in the wallet).")
        return ""

    def client(self) -> "OpenSeaClient":
        """A client for the network, with the wallet's key; refused with the reason `unavailable` gives."""
        from studio.workflows.opensea_orders import opensea_client, opensea_key

        reason = self.unavailable()
        if reason:
            raise InputError(reason)
        return opensea_client(opensea_key(self.state.wallet_state.wallet), self.state.network.chain_id,
                              base_url=self.base_url)

    def publisher(self) -> "Publisher":
        """What a signing job calls with each order it signed (checked now, before anything is signed)."""
        from studio.workflows.opensea_orders import publisher

        return publisher(self.client())

    @staticmethod
    def outcome(publish: "Publisher | None") -> str:
        """What the post did, in a sentence for the Market's notice ("" without a post)."""
        if publish is None:
            return ""
        lines = []
        if publish.posted:
            lines.append("Posted to OpenSea." if len(publish.posted) == 1 else
                         f"{len(publish.posted)} orders posted to OpenSea.")
        for _order_hash, why in publish.kept_home:
            lines.append(f"Not posted to OpenSea: {why} The order is signed and stays valid in the studio.")
        return " " + " ".join(lines) if lines else ""

    def read_listings(self, collection: str) -> Job:
        """Read a collection's OpenSea listings into the order book (only orders signed by their offerer),
        then read the market again; they show in Listings marked as from OpenSea."""
        from studio.workflows.opensea_orders import fetch_orders

        state = self.state
        address = collection.strip()
        if not (address.startswith("0x") and len(address) == 42):
            raise InputError("Give the collection's contract address (0x and 40 hex digits).")
        client = self.client()
        venue = state.venue()
        chain_id = state.network.chain_id
        orders = state.orders_store

        def work(progress: Callable[[Any], None], cancel: Any) -> "FetchResult":
            return fetch_orders(client, orders, chain_id, venue, side="listings", collection=address,
                                progress=progress)

        job = FunctionJob("Reading OpenSea's listings", work)
        job.to(state).succeeded.connect(lambda result: self._on_read(chain_id, result))
        return state.actions.start(job)

    def _on_read(self, chain_id: int, result: "FetchResult") -> None:
        for row in result.added:
            self.read_from_opensea.add((chain_id, row.order_hash.lower()))
        left_out = result.refused + result.skipped
        self.state.notice = (f"Read {len(result.added)} listing{'s' if len(result.added) != 1 else ''} from OpenSea"
                             + (f"; {left_out} left out (not signed by their offerer, or not valid here)."
                                if left_out else "."))
        self.state.refresh()

    def from_opensea(self, chain_id: int, order_hash: str) -> bool:
        return (chain_id, order_hash.lower()) in self.read_from_opensea
