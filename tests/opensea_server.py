"""A loopback stand-in for OpenSea's v2 order endpoints that checks every request against the API's
documented schema (imported by name; the tests folder has no packages).

Documented at docs.opensea.io (API reference, "Create Listing", "Create Offer", "Get All Listings",
"Get All Offers"):

- ``POST /api/v2/orders/{chain}/{protocol}/listings`` and ``/offers``: header ``x-api-key``, a JSON
  body with exactly ``parameters`` (Seaport OrderParameters: offerer, zone, offer[], consideration[],
  orderType, startTime, endTime, zoneHash, salt, conduitKey, totalOriginalConsiderationItems, counter;
  uint256 values as decimal strings, itemType and orderType as numbers), ``signature`` (0x hex) and
  ``protocol_address`` (Seaport 1.6). The answer: ``{"order": {"order_hash": …, "protocol_data": …, …}}``.
- ``GET`` the same paths with query ``asset_contract_address``, ``token_ids`` (repeated, needs the
  contract), ``maker``, ``limit`` (1-50), ``cursor``; the answer ``{"next", "previous", "orders"}``.
- A missing or wrong key: 401; a request out of schema: 400 ``{"errors": [...]}``.

The server also checks what OpenSea checks of the order itself: the signature is the offerer's over
Seaport 1.6's EIP-712 domain for that chain (recovered with eth-account, not the studio's code).
"""
from __future__ import annotations

import contextlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qs, urlparse

SEAPORT_1_6 = "0x0000000000000068f116a894984e2db1123eb395"
CHAINS = {"ethereum": 1, "sepolia": 11155111, "base": 8453, "matic": 137, "arbitrum": 42161, "optimism": 10}
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
BYTES32 = re.compile(r"0x[0-9a-fA-F]{64}")
UINT = re.compile(r"[0-9]{1,78}")
PARAMETER_KEYS = {"offerer", "zone", "offer", "consideration", "orderType", "startTime", "endTime", "zoneHash",
                  "salt", "conduitKey", "totalOriginalConsiderationItems", "counter"}
QUERY_KEYS = {"asset_contract_address", "token_ids", "maker", "taker", "limit", "cursor", "order_by",
              "order_direction", "listed_after", "listed_before"}


@dataclass
class OpenSeaLog:
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)  # method, path, headers, body
    orders: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"listings": [], "offers": []})
    busy: int = 0          # answer 429 to this many requests first
    extra_orders: list[dict[str, Any]] = field(default_factory=list)  # served as they are (hostile entries)
    rename_hash: bool = False  # answer a post with another order hash
    garbage: bytes | None = None  # answer every GET with these bytes (HTTP 200)


def _problems_of_item(item: Any, where: str, consideration: bool) -> list[str]:
    keys = {"itemType", "token", "identifierOrCriteria", "startAmount", "endAmount"} | (
        {"recipient"} if consideration else set())
    if not isinstance(item, dict) or set(item) != keys:
        return [f"{where}: keys must be {sorted(keys)}"]
    out = []
    if not isinstance(item["itemType"], int) or not 0 <= item["itemType"] <= 5:
        out.append(f"{where}.itemType: a number 0-5")
    for key in ("token",) + (("recipient",) if consideration else ()):
        if not isinstance(item[key], str) or not ADDRESS.fullmatch(item[key]):
            out.append(f"{where}.{key}: an address")
    for key in ("identifierOrCriteria", "startAmount", "endAmount"):
        if not isinstance(item[key], str) or not UINT.fullmatch(item[key]):
            out.append(f"{where}.{key}: a decimal string")
    return out


def schema_problems(body: Any, seaport: str = SEAPORT_1_6) -> list[str]:
    """What is wrong with a Create Listing / Create Offer body, by the documented schema."""
    if not isinstance(body, dict) or set(body) != {"parameters", "signature", "protocol_address"}:
        return ["the body holds exactly parameters, signature and protocol_address"]
    out = []
    if not isinstance(body["protocol_address"], str) or body["protocol_address"].lower() != seaport.lower():
        out.append("protocol_address: Seaport 1.6")
    if not isinstance(body["signature"], str) or not re.fullmatch(r"0x([0-9a-fA-F]{2})+", body["signature"]):
        out.append("signature: 0x hex")
    p = body["parameters"]
    if not isinstance(p, dict) or set(p) != PARAMETER_KEYS:
        return out + [f"parameters: keys must be {sorted(PARAMETER_KEYS)}"]
    for key in ("offerer", "zone"):
        if not isinstance(p[key], str) or not ADDRESS.fullmatch(p[key]):
            out.append(f"parameters.{key}: an address")
    for key in ("zoneHash", "conduitKey"):
        if not isinstance(p[key], str) or not BYTES32.fullmatch(p[key]):
            out.append(f"parameters.{key}: 32 bytes of hex")
    for key in ("startTime", "endTime", "salt", "counter"):
        if not isinstance(p[key], str) or not UINT.fullmatch(p[key]):
            out.append(f"parameters.{key}: a decimal string")
    if not isinstance(p["orderType"], int) or not 0 <= p["orderType"] <= 3:
        out.append("parameters.orderType: a number 0-3")
    if not isinstance(p["offer"], list) or not p["offer"] or not isinstance(p["consideration"], list) or \
            not p["consideration"]:
        return out + ["parameters.offer and parameters.consideration: non-empty lists"]
    for i, item in enumerate(p["offer"]):
        out += _problems_of_item(item, f"parameters.offer[{i}]", False)
    for i, item in enumerate(p["consideration"]):
        out += _problems_of_item(item, f"parameters.consideration[{i}]", True)
    if p["totalOriginalConsiderationItems"] != len(p["consideration"]):
        out.append("parameters.totalOriginalConsiderationItems: the number of consideration items")
    return out


def _typed_data(p: dict[str, Any], chain_id: int, seaport: str = SEAPORT_1_6) -> dict[str, Any]:
    item = [{"name": "itemType", "type": "uint8"}, {"name": "token", "type": "address"},
            {"name": "identifierOrCriteria", "type": "uint256"}, {"name": "startAmount", "type": "uint256"},
            {"name": "endAmount", "type": "uint256"}]
    components = [{"name": "offerer", "type": "address"}, {"name": "zone", "type": "address"},
                  {"name": "offer", "type": "OfferItem[]"}, {"name": "consideration", "type": "ConsiderationItem[]"},
                  {"name": "orderType", "type": "uint8"}, {"name": "startTime", "type": "uint256"},
                  {"name": "endTime", "type": "uint256"}, {"name": "zoneHash", "type": "bytes32"},
                  {"name": "salt", "type": "uint256"}, {"name": "conduitKey", "type": "bytes32"},
                  {"name": "counter", "type": "uint256"}]

    def ints(entry: dict[str, Any]) -> dict[str, Any]:
        return {k: (int(v) if k in ("identifierOrCriteria", "startAmount", "endAmount") else v)
                for k, v in entry.items()}

    message = {k: p[k] for k in ("offerer", "zone", "orderType", "zoneHash", "conduitKey")}
    message.update(offer=[ints(i) for i in p["offer"]], consideration=[ints(i) for i in p["consideration"]],
                   startTime=int(p["startTime"]), endTime=int(p["endTime"]), salt=int(p["salt"]),
                   counter=int(p["counter"]))
    return {"types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                       {"name": "chainId", "type": "uint256"},
                                       {"name": "verifyingContract", "type": "address"}],
                      "OrderComponents": components, "OfferItem": item,
                      "ConsiderationItem": [*item, {"name": "recipient", "type": "address"}]},
            "primaryType": "OrderComponents",
            "domain": {"name": "Seaport", "version": "1.6", "chainId": chain_id,
                       "verifyingContract": seaport},
            "message": message}


def order_hash_and_signer(p: dict[str, Any], signature: str, chain_id: int,
                          seaport: str = SEAPORT_1_6) -> tuple[str, str]:
    """The order's EIP-712 struct hash and the address that signed it, by eth-account."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data
    from eth_utils import to_checksum_address

    signable = encode_typed_data(full_message=_typed_data(p, chain_id, to_checksum_address(seaport)))
    signer = Account.recover_message(signable, signature=bytes.fromhex(signature[2:]))
    return "0x" + bytes(signable.body).hex(), signer


@contextlib.contextmanager
def opensea(api_key: str, *, chains: dict[str, int] | None = None,
            seaport: str = SEAPORT_1_6) -> Iterator[tuple[str, OpenSeaLog]]:
    """Serve the stand-in on 127.0.0.1; yields (base URL, log). ``chains`` and ``seaport`` let it serve
    another chain (the devnet, for GUI tests) with that chain's Seaport, as OpenSea serves its own."""
    log = OpenSeaLog()
    served = dict(CHAINS if chains is None else chains)
    seaport = seaport.lower()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, data: Any) -> None:
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _route(self) -> tuple[int, str] | None:
            match = re.fullmatch(r"/api/v2/orders/([a-z_]+)/([a-z]+)/(listings|offers)", urlparse(self.path).path)
            if match is None or match.group(1) not in served or match.group(2) != "seaport":
                self._send(404, {"errors": ["Not found"]})
                return None
            return served[match.group(1)], match.group(3)

        def _admitted(self, body: Any) -> bool:
            with lock:
                log.requests.append((self.command, self.path, dict(self.headers), body))
                if log.busy > 0:
                    log.busy -= 1
                    self._send(429, {"detail": "Request was throttled."})
                    return False
            if self.headers.get("x-api-key") != api_key:
                self._send(401, {"detail": "Invalid API key"})
                return False
            return True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            if not self._admitted(body):
                return
            route = self._route()
            if route is None:
                return
            chain_id, side = route
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                return self._send(400, {"errors": ["Content-Type must be application/json"]})
            problems = schema_problems(body, seaport)
            if problems:
                return self._send(400, {"errors": problems})
            p = body["parameters"]
            try:
                digest, signer = order_hash_and_signer(p, body["signature"], chain_id, seaport)
            except Exception as exc:  # noqa: BLE001 (a bad signature is the client's fault: 400)
                return self._send(400, {"errors": [f"signature: {exc}"]})
            if signer.lower() != p["offerer"].lower():
                return self._send(400, {"errors": ["signature: not the offerer's"]})
            offers_token = p["offer"][0]["itemType"] in (2, 3)
            if (side == "listings") != offers_token:
                return self._send(400, {"errors": [f"this order does not belong under {side}"]})
            order = {"order_hash": digest, "protocol_data": {"parameters": p, "signature": body["signature"]},
                     "protocol_address": seaport, "chain": chain_id, "side": "ask" if side == "listings" else
                     "bid", "order_type": "basic", "cancelled": False, "finalized": False, "marked_invalid": False,
                     "maker": {"address": p["offerer"]}}
            with lock:
                log.orders[side].append(order)
            answer = dict(order, order_hash="0x" + "ab" * 32) if log.rename_hash else order
            self._send(200, {"order": {k: v for k, v in answer.items() if k != "chain"}})

        def do_GET(self) -> None:
            if not self._admitted(None):
                return
            if log.garbage is not None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(log.garbage)))
                self.end_headers()
                self.wfile.write(log.garbage)
                return
            route = self._route()
            if route is None:
                return
            chain_id, side = route
            query = parse_qs(urlparse(self.path).query, keep_blank_values=True)
            unknown = set(query) - QUERY_KEYS
            if unknown:
                return self._send(400, {"errors": [f"unknown parameters: {sorted(unknown)}"]})
            if "token_ids" in query and "asset_contract_address" not in query:
                return self._send(400, {"errors": ["token_ids needs asset_contract_address"]})
            limit = int(query.get("limit", ["20"])[0])
            if not 1 <= limit <= 50:
                return self._send(400, {"errors": ["limit: 1 to 50"]})
            start = int(query.get("cursor", ["0"])[0])
            contract = query.get("asset_contract_address", [""])[0].lower()
            tokens = set(query.get("token_ids", []))
            maker = query.get("maker", [""])[0].lower()

            def wanted(order: dict[str, Any]) -> bool:
                p = order["protocol_data"]["parameters"]
                nft = p["offer"][0] if side == "listings" else p["consideration"][0]
                return order.get("chain") == chain_id and (not contract or nft["token"].lower() == contract) and \
                    (not tokens or nft["identifierOrCriteria"] in tokens) and \
                    (not maker or p["offerer"].lower() == maker)

            with lock:
                chosen = [{k: v for k, v in o.items() if k != "chain"} for o in log.orders[side] if wanted(o)]
                chosen = log.extra_orders + chosen
            page = chosen[start:start + limit]
            following = str(start + limit) if start + limit < len(chosen) else None
            self._send(200, {"next": following, "previous": None, "orders": page})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()
