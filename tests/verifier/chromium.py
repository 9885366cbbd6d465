"""Headless Chromium (Debian's package) driven over the DevTools protocol, for the verifier page's tests.

Started with a fresh profile and the flags that keep it off the network (no background requests,
component updates or sync), on a DevTools port it picks itself; commands go over one websocket,
to a page attached with a flat session. Only what the tests need: open a URL, choose a file in a
file input, evaluate JavaScript, fill a form, take a screenshot.

    PYTHONPATH=. .venv/bin/python tests/verifier/chromium.py --screenshot OUT.png [WORK.png]

takes a screenshot of the page, opened from its file, with WORK.png (default: the spec's "fresh"
vector) verified. docs/screenshots/verifier.png shows the "c2pa-signed" vector (a signed manifest and
a C2PA manifest the page validates).
"""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--remote-allow-origins=*")


def chromium_path() -> str | None:
    """Debian's chromium, if installed (.ci/run installs it)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


class CdpError(RuntimeError):
    """The browser answered a command with an error, or did not answer in time."""


class Chromium:
    """One headless Chromium and one page in it."""

    def __init__(self, executable: str, *, timeout: float = 30.0) -> None:
        from websockets.sync.client import connect

        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="studio-chromium-")
        self._process = subprocess.Popen([executable, *FLAGS, f"--user-data-dir={self._profile}",
                                          "--remote-debugging-port=0", "about:blank"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise CdpError("Chromium did not start (no DevTools port).")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self._connection = connect(f"ws://127.0.0.1:{port}{path}", max_size=64 << 20, open_timeout=timeout)
        self._socket = self._connection.__enter__()
        self._next = 0
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.page("Page.enable")
        self.page("Runtime.enable")

    # -- protocol ---------------------------------------------------------------------

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        self._socket.send(json.dumps(message))
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CdpError(f"{method}: no answer in {self.timeout} s")
            reply = json.loads(self._socket.recv(timeout=left))
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise CdpError(f"{method}: {reply['error'].get('message')}")
                return dict(reply.get("result", {}))

    def page(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.send(method, params, self._session)

    # -- what the tests do ----------------------------------------------------------------

    def evaluate(self, expression: str) -> Any:
        result = self.page("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise CdpError(f"{expression[:80]}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, *, timeout: float | None = None) -> Any:
        """Evaluate ``expression`` until it gives something truthy, and return that."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise CdpError(f"waited in vain for {expression[:80]}")
            time.sleep(0.05)

    def open(self, url: str) -> None:
        self.page("Page.navigate", {"url": url})
        self.wait_for("document.readyState === 'complete' && document.body && document.body.dataset.ready === 'yes'")

    def choose_file(self, selector: str, path: Path) -> None:
        """Put ``path`` in the file input ``selector``, as a person choosing it does (fires change)."""
        root = self.page("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = self.page("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        self.page("DOM.setFileInputFiles", {"files": [str(Path(path).resolve())], "nodeId": node})

    def screenshot(self, path: Path, *, width: int = 1000) -> None:
        height = int(self.evaluate("Math.ceil(document.documentElement.scrollHeight)") or 800)
        self.page("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1,
                                                         "mobile": False})
        data = self.page("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self) -> None:
        connection = getattr(self, "_connection", None)
        if connection is not None:
            try:
                connection.__exit__(None, None, None)
            except OSError:
                pass
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _screenshot(target: Path, work: Path | None = None) -> None:
    """The page, opened from its file, with ``work`` (default: the spec's "fresh" vector) verified."""
    root = Path(__file__).resolve().parents[2]
    executable = chromium_path()
    if executable is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    with Chromium(executable) as browser:
        browser.open((root / "verifier" / "index.html").as_uri())
        browser.choose_file("#file", work or root / "docs" / "spec-vectors" / "fresh.png")
        browser.wait_for("window.__verifierResult && window.__verifierResult.verdict")
        browser.screenshot(target)
    print(f"wrote {target}")


if __name__ == "__main__":
    import sys

    if len(sys.argv) not in (3, 4) or sys.argv[1] != "--screenshot":
        raise SystemExit(__doc__)
    _screenshot(Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) == 4 else None)
