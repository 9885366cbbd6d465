"""Keep the OpenSea API key in the wallet's encrypted section (Settings → Wallet & networks): typed
once, never shown again, never in settings or logs; the Market's "Also post to OpenSea" and its
OpenSea listings use it while the wallet is unlocked (``STUDIO_OPENSEA_KEY`` wins for scripts)."""
from __future__ import annotations

from studio.ui.dialogs.pinning_token import PinningTokenDialog
from studio.workflows.opensea_orders import OPENSEA_SECRET


class OpenSeaKeyDialog(PinningTokenDialog):
    """Set or remove the OpenSea API key; accepted once the wallet file was rewritten."""

    SECRET = OPENSEA_SECRET
    TITLE = "OpenSea API key"
    INTRO = ("The key is kept encrypted in your wallet, under the wallet's password, and is never shown again. "
             "The Market uses it while the wallet is unlocked, to post the orders you sign to OpenSea and to read "
             "a collection's OpenSea listings, on the networks OpenSea serves.")
    FIELD = "API key"
    WHAT = "key"
    PASTE = "Paste the API key from your OpenSea developer account."
    NOT_KEPT = "No OpenSea API key was saved in the wallet."
