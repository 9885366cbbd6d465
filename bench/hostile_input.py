"""Hostile inputs against the parsers and fetchers (issue 16): each case runs in its own process and is
reported with its exit code, wall time and peak memory, so a tree before the fixes and one after can be
compared on the same machine.

    python bench/hostile_input.py [--tree PATH] [--timeout 30] [--memory-cap-gib 4] [--only NAME] [--json]

``--tree`` is the source tree whose ``studio`` package is tested (default: this one). A case still
running at ``--timeout`` is killed and reported as such; each process is capped at ``--memory-cap-gib``
of address space, so a case that would take 8 GiB fails with MemoryError instead of taking the machine.
Exit codes are the studio command's (0 ok, 1 failed, 2 bad input) or, for Python snippets, 0 when the
snippet ended as the fixed studio should (a StudioError), 3 when it raised anything else.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

SNIPPET_HEAD = """
import sys, traceback
try:
    import eth_account  # web3's libraries raise the recursion limit, as in the studio
    from studio.errors import StudioError
{body}
except StudioError as exc:
    print("StudioError:", type(exc).__name__, str(exc)[:160]); sys.exit(0)
except SystemExit:
    raise
except BaseException as exc:
    print("CRASH:", type(exc).__name__, str(exc)[:160]); sys.exit(3)
print("no error"); sys.exit(0)
"""


@dataclass
class Case:
    name: str
    what: str
    prepare: Callable[[Path, dict], list[str]]  # (folder, servers) -> argv after the interpreter


def snippet(body: str) -> list[str]:
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return ["-c", SNIPPET_HEAD.format(body=indented)]


def studio(*args: str) -> list[str]:
    return ["-m", "studio", *args]


# ------------------------------------------------------------------ inputs

def escaped_quotes(size: int) -> str:
    return '["' + '\\"' * (size // 2)


def keystore(folder: Path, **params: object) -> Path:
    from studio.chain.keystore import encrypt_keystore

    document = encrypt_keystore(b"\x11" * 32, "keystore-pw", kdf_n=2**4)
    kdf = document["crypto"]
    if "c" in params:
        kdf["kdf"] = "pbkdf2"
        kdf["kdfparams"] = {"c": 1000, "dklen": 32, "prf": "hmac-sha256", "salt": kdf["kdfparams"]["salt"]}
    kdf["kdfparams"].update(params)
    path = folder / "UTC--hostile.json"
    path.write_text(json.dumps(document))
    (folder / "pw").write_text("a wallet password\n")
    (folder / "kpw").write_text("keystore-pw\n")
    return path


def import_keystore(folder: Path, path: Path) -> list[str]:
    return studio("wallet", "import", "--keystore", str(path), "--keystore-password-file", str(folder / "kpw"),
                  "--password-file", str(folder / "pw"))


def manifest_with_image(folder: Path, image_name: str, data: bytes) -> Path:
    (folder / image_name).write_bytes(data)
    path = folder / "drop.csv"
    path.write_text(f"file,name\n{image_name},One\n")
    return path


def batch(path: Path | str) -> list[str]:
    return studio("batch-mint", str(path), "--collection", "0x" + "12" * 20, "--dry-run")


def png_with_parameters(folder: Path, text: str) -> Path:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", text)
    path = folder / "a1111.png"
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    return path


def case_list() -> list[Case]:
    from hostile_images import BOMBS

    cases = [
        Case("json-quotes-32k", "safejson: 32 KB of escaped quotes", lambda f, s: snippet(
            f"from studio import safejson\nsafejson.loads({escaped_quotes(32 * 1024)!r})")),
        Case("json-quotes-128k", "safejson: 128 KB of escaped quotes", lambda f, s: snippet(
            "from studio import safejson\nsafejson.loads(open(sys.argv[1]).read())") + [_write(f, "q.json", escaped_quotes(128 * 1024))]),
        Case("json-quotes-1m", "safejson: 1 MB of escaped quotes", lambda f, s: snippet(
            "from studio import safejson\nsafejson.loads(open(sys.argv[1]).read())") + [_write(f, "q.json", escaped_quotes(1 << 20))]),
        Case("manifest-quotes-128k", "batch-mint of a 128 KB escaped-quote JSON manifest",
             lambda f, s: batch(_write(f, "drop.json", escaped_quotes(128 * 1024)))),
        Case("wallet-json-deep", "wallet list with wallet.json nested 200k deep", lambda f, s: _deep_wallet(f)),
        Case("rpc-deep", "a node answering 200k-deep JSON", lambda f, s: snippet(
            "from studio.chain.transactions import Connection\n"
            f"Connection.from_url({s['rpc_deep']!r}).balance('0x' + '11' * 20)")),
        Case("rpc-quotes-8m", "a node answering 8 MiB of escaped quotes", lambda f, s: snippet(
            "from studio.chain.transactions import Connection\n"
            f"Connection.from_url({s['rpc_quotes']!r}).balance('0x' + '11' * 20)")),
        Case("keystore-n-2^22", "keystore import, scrypt n=2^22", lambda f, s: import_keystore(f, keystore(f, n=2**22))),
        Case("keystore-r-4096", "keystore import, scrypt r=4096", lambda f, s: import_keystore(f, keystore(f, n=2**11, r=4096))),
        Case("keystore-p-1000", "keystore import, scrypt p=1000", lambda f, s: import_keystore(f, keystore(f, n=2**14, p=1000))),
        Case("keystore-dklen-2^31", "keystore import, dklen=2^31", lambda f, s: import_keystore(f, keystore(f, dklen=2**31))),
        Case("keystore-c-2^30", "keystore import, pbkdf2 c=2^30", lambda f, s: import_keystore(f, keystore(f, c=2**30))),
        Case("keystore-c-2^31", "keystore import, pbkdf2 c=2^31", lambda f, s: import_keystore(f, keystore(f, c=2**31))),
        Case("keystore-100mb", "keystore import of a 100 MB file", lambda f, s: import_keystore(f, _big_keystore(f))),
        Case("csv-field-200k", "batch-mint, a CSV field of 200 KiB", lambda f, s: batch(_write(
            f, "drop.csv", "file,name,description\na.png,A,\"" + "x" * (200 * 1024) + "\"\n"))),
        Case("manifest-dev-zero", "batch-mint, drop.json -> /dev/zero", lambda f, s: batch(_link(f, "drop.json", "/dev/zero"))),
        Case("manifest-fifo", "batch-mint, drop.csv is a FIFO", lambda f, s: batch(_fifo(f, "drop.csv"))),
        *[Case(f"bomb-{kind}", f"batch-mint validation, a {kind.upper()} bomb",
               lambda f, s, kind=kind: batch(manifest_with_image(f, f"bomb.{kind}", BOMBS[kind]())))
          for kind in ("bmp", "gif", "jpg", "webp")],
        Case("wrong-passwords-20", "20 wrong wallet passwords in a row (one process)", lambda f, s: snippet(
            "import time\nfrom pathlib import Path\nfrom studio.chain.wallet import Wallet\n"
            "w = Wallet(Path(sys.argv[1]), kdf_n=2**4)\nw.create('the right password')\nkinds = []\n"
            "for i in range(20):\n    try:\n        w.unlock('wrong')\n    except StudioError as exc:\n"
            "        kinds.append(type(exc).__name__)\n"
            "print(', '.join(f'{kinds.count(k)} {k}' for k in sorted(set(kinds)))); sys.exit(0)")
            + [str(f / "w" / "wallet.json")]),
        Case("fetch-drip", "collector metadata fetch from a server dripping a byte a second", lambda f, s: snippet(
            "from studio.storage.fetch import VerifiedFetcher\nfrom studio.workflows import collector as wc\n"
            f"fetcher = wc._capped(VerifiedFetcher(gateways=({s['drip']!r},)))\n"
            "wc._fetch(fetcher, 'ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e', 2**20, 'x')")),
        Case("fetch-loopback", "fetch https://127.0.0.1:PORT/x named by metadata", lambda f, s: _fetch_private(
            f"https://127.0.0.1:{s['listener_port']}/x")),
        Case("fetch-0x7f000001", "fetch https://0x7f000001:PORT/x", lambda f, s: _fetch_private(
            f"https://0x7f000001:{s['listener_port']}/x")),
        Case("fetch-redirect", "fetch of a link redirecting to 127.0.0.1", lambda f, s: _fetch_private(
            f"{s['redirector']}/go", trust=s["redirector"], cert=s["cert"])),
        Case("a1111-1m", "library import of a PNG with a 1 MB A1111 parameters line", lambda f, s: snippet(
            "from pathlib import Path\nfrom studio.workflows.library import read_work_file\n"
            "print('imported; recipe source:', read_work_file(Path(sys.argv[1])).source); sys.exit(0)")
            + [str(png_with_parameters(f, "a" * 1_000_000))]),
    ]
    return cases


def _write(folder: Path, name: str, text: str) -> str:
    (folder / name).write_text(text)
    return str(folder / name)


def _link(folder: Path, name: str, target: str) -> Path:
    (folder / name).symlink_to(target)
    return folder / name


def _fifo(folder: Path, name: str) -> Path:
    os.mkfifo(folder / name)
    return folder / name


def _big_keystore(folder: Path) -> Path:
    path = folder / "UTC--big.json"
    with path.open("wb") as out:
        out.write(b'{"version": 3, "crypto": {"pad": "')
        out.write(b"a" * (100 * 1024 * 1024))
        out.write(b'"}}')
    keystore(folder)  # the password files
    return path


def _deep_wallet(folder: Path) -> list[str]:
    home = folder / "home"
    wallet = home / "data" / "wallet" / "wallet.json"
    wallet.parent.mkdir(parents=True)
    wallet.write_text('{"format": "provenance-studio-wallet", "accounts": ' + "[" * 200_000 + "]" * 200_000 + "}")
    return studio("wallet", "list")


def _fetch_private(url: str, trust: str | None = None, cert: str | None = None) -> list[str]:
    body = ("import requests\nfrom studio.storage.fetch import VerifiedFetcher\n"
            "session = requests.Session()\n" + (f"session.verify = {cert!r}\n" if cert else "") +
            "kwargs = {}\n"
            "import inspect\n"
            f"if 'trusted_hosts' in inspect.signature(VerifiedFetcher).parameters and {trust!r}:\n"
            f"    kwargs['trusted_hosts'] = ({trust!r},)\n"
            "VerifiedFetcher(gateways=(), session=session, attempts=1, **kwargs).fetch(" + repr(url) + ")")
    return snippet(body)


# ------------------------------------------------------------------ servers the cases talk to

@contextmanager
def servers(folder: Path) -> Iterator[dict]:
    with ExitStack() as stack:
        found: dict = {}
        found["rpc_deep"] = stack.enter_context(_rpc(("[" * 200_000 + "]" * 200_000).encode()))
        found["rpc_quotes"] = stack.enter_context(_rpc(("\"" + "\\\"" * (4 * 1024 * 1024)).encode()))
        found["drip"] = stack.enter_context(_drip())
        port, accepted = stack.enter_context(_listener())
        found["listener_port"], found["accepted"] = port, accepted
        cert = _cert(folder)
        found["cert"] = str(cert[0])
        found["redirector"] = stack.enter_context(_redirector(cert, f"https://127.0.0.1:{port}/x"))
        yield found


@contextmanager
def _http(handler: type) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _rpc(result: bytes) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            body = (b'{"jsonrpc":"2.0","id":%d,"result":"0x7a69"}' % request["id"]) if request["method"] == \
                "eth_chainId" else b'{"jsonrpc":"2.0","id":%d,"result":' % request["id"] + result + b"}"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                pass

    with _http(Handler) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"


@contextmanager
def _drip() -> Iterator[str]:
    from hostile_servers import drip

    with drip(interval=1.0, limit=600) as (url, _log):
        yield url


@contextmanager
def _listener() -> Iterator[tuple[int, list]]:
    accepted: list = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)

    def accept() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            accepted.append(time.time())
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield sock.getsockname()[1], accepted
    finally:
        sock.close()


def _cert(folder: Path) -> tuple[Path, Path]:
    sys.path.insert(0, str(REPO / "tests" / "storage"))
    from loopback import self_signed_cert

    return self_signed_cert(folder)


@contextmanager
def _redirector(cert: tuple[Path, Path], target: str) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with _http(Handler) as server:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert[0]), str(cert[1]))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        yield f"https://127.0.0.1:{server.server_address[1]}"


# ------------------------------------------------------------------ running

def run_case(case: Case, tree: Path, folder: Path, found: dict, timeout: float, cap_gib: float) -> dict:
    argv = case.prepare(folder, found)
    home = folder / "home"
    env = {**os.environ, "PYTHONPATH": str(tree), "STUDIO_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    env.pop("STUDIO_WALLET_PASSWORD", None)
    cap = int(cap_gib * 1024**3)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    accepted_before = len(found["accepted"])
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, *argv], cwd=folder, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, preexec_fn=limit)
    output: list[bytes] = []
    reader = threading.Thread(target=lambda: output.append(process.stdout.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    killed = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > timeout:
            process.kill()
            killed = True
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.02)
    seconds = time.monotonic() - started
    reader.join(5)
    text = b"".join(output).decode("utf-8", "replace").strip()
    last = next((line for line in reversed(text.splitlines()) if line.strip()), "")
    code = os.waitstatus_to_exitcode(status)
    return {"case": case.name, "what": case.what, "exit": "killed" if killed else code,
            "seconds": round(seconds, 2), "peak_mib": round(usage.ru_maxrss / 1024),
            "private_connections": len(found["accepted"]) - accepted_before,
            "outcome": (f"still running after {timeout:.0f} s" if killed else last)[:150]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=REPO, help="source tree whose studio package is tested")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a case is killed")
    parser.add_argument("--memory-cap-gib", type=float, default=4.0, help="address-space cap per case")
    parser.add_argument("--only", action="append", help="run only the cases with these names")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="hostile-") as base:
        with servers(Path(base)) as found:
            for case in case_list():
                if args.only and case.name not in args.only:
                    continue
                folder = Path(base) / case.name
                folder.mkdir()
                results.append(run_case(case, args.tree.resolve(), folder, found, args.timeout,
                                        args.memory_cap_gib))
                if not args.json:
                    r = results[-1]
                    print(f"{r['case']:<22} exit {str(r['exit']):<6} {r['seconds']:>7.2f} s {r['peak_mib']:>6} MiB"
                          f"{'  private connections: ' + str(r['private_connections']) if r['private_connections'] else ''}"
                          f"  {r['outcome']}", flush=True)
    if args.json:
        print(json.dumps({"tree": str(args.tree), "timeout": args.timeout, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
