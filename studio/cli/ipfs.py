"""``studio ipfs``: CIDs exactly as Kubo prints them, CAR export, the local store and its gateway."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ipfs", help="content addressing: CIDs, CAR files, local store and gateway",
                                   description="Compute IPFS CIDs as `ipfs add --only-hash` does, export CAR "
                                               "files, add to the local store or a Kubo node, fetch with "
                                               "verification, and serve the local gateway.")
    commands = parser.add_subparsers(dest="ipfs_command", metavar="SUBCOMMAND", required=True)

    def common(sub: argparse.ArgumentParser, default_version: int) -> None:
        sub.add_argument("path", type=Path, metavar="FILE|DIR")
        sub.add_argument("--cid-version", type=int, choices=(0, 1), default=default_version,
                         help=f"0: Qm… with dag-pb leaves; 1: base32 with raw leaves (default {default_version})")
        sub.add_argument("--hidden", action="store_true", help="include hidden files of folders (Kubo's --hidden)")

    cid = commands.add_parser("cid", help="print the CID `ipfs add --only-hash [-r]` prints")
    common(cid, 0)
    cid.add_argument("--json", action="store_true", help="print {\"cid\", \"path\", \"version\"}")
    cid.set_defaults(func=run_cid)

    car = commands.add_parser("car", help="export a file or folder as a CARv1 archive")
    common(car, 1)
    car.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.car")
    car.set_defaults(func=run_car)

    add = commands.add_parser("add", help="add to the local store (default) or a Kubo node, and pin")
    common(add, 1)
    add.add_argument("--kubo", metavar="API_URL", help="add through this Kubo RPC API, e.g. http://127.0.0.1:5001")
    add.set_defaults(func=run_add)

    get = commands.add_parser("get", help="fetch an ipfs://, https:// or data: URI, verified against its CID")
    get.add_argument("uri")
    get.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    get.add_argument("--gateway", action="append", default=None, metavar="URL",
                     help="gateway to try, in order (repeatable; default ipfs.io then dweb.link)")
    get.add_argument("--max-bytes", type=int, default=64 * 1024 * 1024, help="size limit (default 64 MiB)")
    get.set_defaults(func=run_get)

    serve = commands.add_parser("serve", help="serve the local store read-only on 127.0.0.1 until Ctrl-C")
    serve.add_argument("--port", type=int, default=8080, help="port (0 picks a free one; default 8080)")
    serve.set_defaults(func=run_serve)


def _progress_printer():
    if not sys.stderr.isatty():
        return None

    def show(fraction: float, line: str) -> None:
        print(f"\r{line}: {fraction:5.1%}", end="", file=sys.stderr, flush=True)

    return show


def run_cid(args: argparse.Namespace) -> int:
    from studio.storage.unixfs import add_path

    added = add_path(args.path, cid_version=args.cid_version, include_hidden=args.hidden,
                     progress=_progress_printer())
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr)
    if args.json:
        print(json.dumps({"cid": str(added.cid), "path": str(args.path), "version": args.cid_version,
                          "size": added.size, "dag_size": added.tsize}))
    else:
        print(added.cid)
    return 0


def run_car(args: argparse.Namespace) -> int:
    from studio.storage.car import export_car

    root = export_car(args.path, args.output, cid_version=args.cid_version, include_hidden=args.hidden)
    print(root)
    return 0


def run_add(args: argparse.Namespace) -> int:
    if args.kubo:
        from studio.storage.kubo import KuboBackend

        cid = KuboBackend(args.kubo).add_path(args.path, cid_version=args.cid_version, include_hidden=args.hidden)
    else:
        from studio.storage.store import LocalStore

        cid = LocalStore.default().add_path(args.path, cid_version=args.cid_version, include_hidden=args.hidden,
                                            progress=_progress_printer())
    print(cid)
    return 0


def run_get(args: argparse.Namespace) -> int:
    from studio.fileio import atomic_write_bytes
    from studio.paths import studio_paths
    from studio.storage.fetch import DEFAULT_GATEWAYS, Fetcher
    from studio.storage.store import LocalStore

    fetcher = Fetcher(store=LocalStore.default(), gateways=args.gateway or DEFAULT_GATEWAYS,
                      cache_dir=studio_paths().cache_dir / "ipfs-fetch", max_bytes=args.max_bytes)
    fetched = fetcher.fetch(args.uri)
    if args.output:
        atomic_write_bytes(args.output, fetched.data)
        print(f"{len(fetched.data):,} bytes from {fetched.source}"
              + (f", verified against {fetched.cid}" if fetched.cid else ""), file=sys.stderr)
    else:
        sys.stdout.buffer.write(fetched.data)
        sys.stdout.buffer.flush()
    return 0


def run_serve(args: argparse.Namespace) -> int:
    import threading

    from studio.storage.gateway import Gateway
    from studio.storage.store import LocalStore

    gateway = Gateway(LocalStore.default(), port=args.port)
    url = gateway.start()
    print(f"Serving the local IPFS store at {url}/ipfs/<cid> (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    finally:
        gateway.stop()
    return 0  # pragma: no cover - only Ctrl-C ends the wait
