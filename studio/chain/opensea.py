"""OpenSea's v2 API for Seaport orders: post a signed listing or token offer, read the listings and
offers of a collection, a token or a maker, on the networks OpenSea serves.

The requests follow OpenSea's documented schema (api.opensea.io/api/v2):

- ``POST /api/v2/orders/{chain}/seaport/listings`` and ``.../offers`` with
  ``{"parameters": OrderParameters (with "counter" and "totalOriginalConsiderationItems"),
  "signature": "0x…", "protocol_address": Seaport 1.6}``; the answer holds the order with its
  ``order_hash``.
- ``GET /api/v2/orders/{chain}/seaport/listings`` (or ``offers``) with ``asset_contract_address``,
  ``token_ids`` (repeated), ``maker``, ``limit`` (1-50), ``cursor``; the answer is
  ``{"orders": [...], "next": cursor | null, "previous": …}``, each order carrying
  ``protocol_data: {"parameters", "signature"}``.

The API key goes in the ``x-api-key`` header and nowhere else: never in a URL, a log line, a
message or ``repr``. Answers are read with a size cap and :mod:`studio.safejson`; every order read
back is checked (its parameters parse, its hash is the one OpenSea names, it is on the Seaport the
studio uses) before anyone may fill it. A collection offer needs OpenSea's collection slug and its own
endpoint; the studio keeps those in its own order book only.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Sequence

import requests

from studio import safejson
from studio.chain.seaport import CANONICAL_SEAPORT, ItemType, SignedOrder, summarize
from studio.errors import InputError, NetworkError, NotFound, StudioError
from studio.retry import RetryPolicy, retry

log = logging.getLogger(__name__)

#: OpenSea's API.
OPENSEA_API = "https://api.opensea.io"
#: Chain id -> OpenSea's name for the chain (the networks OpenSea serves that the studio knows).
CHAINS = {1: "ethereum", 11155111: "sepolia", 8453: "base", 84532: "base_sepolia", 137: "matic", 80002: "amoy",
          42161: "arbitrum", 421614: "arbitrum_sepolia", 10: "optimism", 11155420: "optimism_sepolia",
          7777777: "zora", 81457: "blast"}
PROTOCOL = "seaport"
#: The most orders one page holds (OpenSea's limit).
MAX_PAGE = 50
#: The largest answer read (a page of 50 orders is about 150 KB).
MAX_ANSWER = 4 * 1024 * 1024
TIMEOUT = (5.0, 30.0)
_RETRY_STATUSES = {429, 500, 502, 503, 504}


def opensea_chain(chain_id: int) -> str:
    """OpenSea's name for a chain; NotFound where OpenSea does not serve it (the devnet, a private chain)."""
    name = CHAINS.get(int(chain_id))
    if name is None:
        raise NotFound(f"OpenSea does not serve chain {chain_id}: orders there stay in the studio's own order book.",
                       hint="Post to OpenSea from a network it serves (Ethereum, Base, Sepolia …).")
    return name


@dataclass(frozen=True)
class PostedOrder:
    """An order OpenSea took: its hash as OpenSea names it, and the order as posted."""

    order_hash: str
    order: SignedOrder


@dataclass(frozen=True)
class OrderPage:
    """One page of orders read from OpenSea, and the cursor of the next page (None: the last)."""

    orders: tuple[SignedOrder, ...]
    next_cursor: str | None
    skipped: int = 0  # orders OpenSea sent that are not valid Seaport 1.6 orders for this chain


class _Busy(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"answered HTTP {status}")
        self.status = status


class OpenSeaClient:
    """OpenSea's v2 order endpoints with one API key."""

    def __init__(self, api_key: str, *, base_url: str = OPENSEA_API, session: requests.Session | None = None,
                 policy: RetryPolicy = RetryPolicy(attempts=3, first_delay=1.0, max_delay=8.0),
                 timeout: tuple[float, float] = TIMEOUT) -> None:
        key = (api_key or "").strip()
        if not key or any(c.isspace() or not c.isprintable() for c in key):
            raise InputError("The OpenSea API key is empty or holds spaces.",
                             hint="Paste the key from your OpenSea developer account.")
        self._key = key
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.policy = policy
        self.timeout = timeout

    def __repr__(self) -> str:  # the key never shows
        return f"OpenSeaClient({self.base_url!r}, api_key=<hidden>)"

    # -- posting --------------------------------------------------------------------------------

    def post_listing(self, order: SignedOrder) -> PostedOrder:
        """Post a signed listing (the offer side gives a token)."""
        if summarize(order.components).kind != "listing":
            raise InputError("This order is an offer, not a listing: post it with post_offer.")
        return self._post(order, "listings")

    def post_offer(self, order: SignedOrder) -> PostedOrder:
        """Post a signed offer for one token (WETH for a token). A collection offer is refused: OpenSea
        takes those by collection slug on another endpoint."""
        summary = summarize(order.components)
        if summary.kind == "listing":
            raise InputError("This order is a listing, not an offer: post it with post_listing.")
        if summary.token_id is None:
            raise InputError("OpenSea takes collection offers by the collection's OpenSea slug; the studio keeps "
                             "this one in its own order book.", hint="Offer for one token to post it to OpenSea.")
        return self._post(order, "offers")

    def _post(self, order: SignedOrder, side: str) -> PostedOrder:
        if order.seaport.lower() != CANONICAL_SEAPORT.lower():
            raise InputError(f"OpenSea takes orders for Seaport 1.6 at {CANONICAL_SEAPORT}, not {order.seaport}.")
        chain = opensea_chain(order.chain_id)
        body = {"parameters": order.components.to_json(), "signature": "0x" + order.signature.hex(),
                "protocol_address": CANONICAL_SEAPORT}
        answer = self._call("POST", f"/api/v2/orders/{chain}/{PROTOCOL}/{side}", json=body)
        posted = answer.get("order") if isinstance(answer, dict) else None
        posted_hash = (posted or {}).get("order_hash") if isinstance(posted, dict) else None
        posted_hash = posted_hash or (answer.get("order_hash") if isinstance(answer, dict) else None)
        ours = "0x" + order.order_hash.hex()
        if not isinstance(posted_hash, str) or posted_hash.lower() != ours:
            raise NetworkError(f"OpenSea took the order but names another hash ({str(posted_hash)[:70]}) than its "
                               f"own ({ours}).", hint="Do not rely on the posting; read the order back from OpenSea.")
        return PostedOrder(ours, order)

    # -- reading --------------------------------------------------------------------------------

    def listings(self, chain_id: int, *, collection: str | None = None, token_ids: Sequence[int] = (),
                 maker: str | None = None, limit: int = MAX_PAGE, cursor: str | None = None) -> OrderPage:
        """One page of the active listings (cheapest first where OpenSea sorts so)."""
        return self._orders(chain_id, "listings", collection, token_ids, maker, limit, cursor)

    def offers(self, chain_id: int, *, collection: str | None = None, token_ids: Sequence[int] = (),
               maker: str | None = None, limit: int = MAX_PAGE, cursor: str | None = None) -> OrderPage:
        """One page of the active offers."""
        return self._orders(chain_id, "offers", collection, token_ids, maker, limit, cursor)

    def _orders(self, chain_id: int, side: str, collection: str | None, token_ids: Sequence[int],
                maker: str | None, limit: int, cursor: str | None) -> OrderPage:
        chain = opensea_chain(chain_id)
        if not 1 <= limit <= MAX_PAGE:
            raise InputError(f"A page holds 1 to {MAX_PAGE} orders, not {limit}.")
        if token_ids and not collection:
            raise InputError("Token numbers need the collection they belong to.")
        params: list[tuple[str, str]] = []
        if collection:
            params.append(("asset_contract_address", collection))
        params += [("token_ids", str(int(t))) for t in token_ids]
        if maker:
            params.append(("maker", maker))
        params.append(("limit", str(limit)))
        if cursor:
            params.append(("cursor", cursor))
        answer = self._call("GET", f"/api/v2/orders/{chain}/{PROTOCOL}/{side}", params=params)
        raw = answer.get("orders") if isinstance(answer, dict) else None
        if not isinstance(raw, list):
            raise NetworkError("OpenSea's answer holds no list of orders.", hint="Try again later.")
        orders: list[SignedOrder] = []
        skipped = 0
        for entry in raw:
            order = _read_order(entry, chain_id, side)
            if order is None:
                skipped += 1
            else:
                orders.append(order)
        if skipped:
            log.warning("OpenSea sent %d order(s) on %s that are not valid Seaport 1.6 %s; left out", skipped, chain,
                        side)
        following = answer.get("next")
        return OrderPage(tuple(orders), following if isinstance(following, str) and following else None, skipped)

    # -- the HTTP call --------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = self.base_url + path
        headers = {"x-api-key": self._key, "accept": "application/json"}

        def once() -> Any:
            try:
                response = self.session.request(method, url, headers=headers, timeout=self.timeout, stream=True,
                                                **kwargs)
            except requests.exceptions.SSLError as exc:
                raise NetworkError("OpenSea's API could not be trusted: its TLS certificate did not verify.",
                                   hint="A proxy or a wrong clock can cause this.") from exc
            with response:
                if response.status_code in _RETRY_STATUSES:
                    raise _Busy(response.status_code)
                body = _read_capped(response)
                return _answer(response.status_code, body)

        def give_up(exc: Exception, tries: int) -> Exception:
            what = str(exc) if isinstance(exc, _Busy) else \
                "did not answer in time" if isinstance(exc, requests.Timeout) else "could not be reached"
            hint = "OpenSea limits how often a key may call: wait a minute and try again." \
                if isinstance(exc, _Busy) and exc.status == 429 else "Check the connection and try again later."
            return NetworkError(f"OpenSea's API {what} after {tries} tries.", hint=hint)

        return retry(once, policy=self.policy, give_up=give_up,
                     retryable=lambda exc: isinstance(exc, (_Busy, requests.ConnectionError, requests.Timeout)),
                     before_retry=lambda exc, n: log.info("OpenSea's API %s (try %d of %d)", exc.__class__.__name__
                                                          if not isinstance(exc, _Busy) else exc, n,
                                                          self.policy.attempts))


def _read_capped(response: requests.Response) -> bytes:
    out = bytearray()
    try:
        for chunk in response.iter_content(64 * 1024):
            out += chunk
            if len(out) > MAX_ANSWER:
                raise NetworkError(f"OpenSea's API sent more than {MAX_ANSWER:,} bytes.", hint="Try a smaller page.")
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise NetworkError("OpenSea's API broke off while answering.", hint="Try again later.") from exc
    return bytes(out)


def _answer(status: int, body: bytes) -> Any:
    """The JSON of a 2xx answer; an error for people otherwise (OpenSea's own reasons included)."""
    try:
        data = safejson.loads(body, what="OpenSea's answer", max_bytes=MAX_ANSWER) if body.strip() else {}
    except InputError as exc:
        if 200 <= status < 300:
            raise NetworkError(exc.message, hint="Try again later.") from exc
        data = {}
    if 200 <= status < 300:
        return data
    reasons = data.get("errors") if isinstance(data, dict) else None
    reason = "; ".join(str(r)[:300] for r in reasons[:3]) if isinstance(reasons, list) and reasons else \
        str(data.get("detail", ""))[:300] if isinstance(data, dict) else ""
    if status in (401, 403):
        raise InputError("OpenSea refused the API key" + (f": {reason}" if reason else "."),
                         hint="Check the key in Settings (it is kept in the wallet) or ask OpenSea for a new one.")
    if status == 404:
        raise NotFound("OpenSea's API has no such endpoint or order" + (f": {reason}" if reason else "."))
    if status == 400:
        raise InputError("OpenSea refused the order" + (f": {reason}" if reason else "."),
                         hint="OpenSea may ask for its own fee in the order, or a longer expiry.")
    raise NetworkError(f"OpenSea's API answered HTTP {status}" + (f": {reason}" if reason else "."),
                       hint="Try again later.")


def _read_order(entry: Any, chain_id: int, side: str) -> SignedOrder | None:
    """An order of a page as the studio can fill it; None when it is not a valid Seaport 1.6 order of
    this side, or its hash is not the one OpenSea names."""
    if not isinstance(entry, dict):
        return None
    data = entry.get("protocol_data")
    address = str(entry.get("protocol_address") or "")
    if not isinstance(data, dict) or address.lower() != CANONICAL_SEAPORT.lower():
        return None
    try:
        order = SignedOrder.from_json(data, chain_id=chain_id, seaport=CANONICAL_SEAPORT)
        kind = summarize(order.components).kind
    except StudioError:
        return None
    named = entry.get("order_hash")
    if isinstance(named, str) and named.lower() != "0x" + order.order_hash.hex():
        return None
    if kind != ("listing" if side == "listings" else "offer") and not (side == "offers" and
                                                                      kind == "collection offer"):
        return None
    if side == "listings" and order.components.offer[0].item_type not in (ItemType.ERC721, ItemType.ERC1155):
        return None
    return order
