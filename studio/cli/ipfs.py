"""``studio ipfs``: CIDs exactly as Kubo prints them, CAR export, the local store and gateway,
and verified fetching.

``cid`` and ``car`` default to Kubo's own default (CIDv0); ``--cid-version 1`` gives what
``ipfs add --cid-version=1`` prints (raw leaves, base32), the form the contracts commit to.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ipfs", help="content addressing: CIDs, CAR files, local store, gateway, fetch",
                                   description="Name content by CID as Kubo does, export CAR files, keep content "
                                               "in the local store, serve it on 127.0.0.1, fetch it verified.")
    commands = parser.add_subparsers(dest="ipfs_command", metavar="SUBCOMMAND", required=True)

    def layout_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("path", type=Path, help="a file or a folder")
        sub.add_argument("--cid-version", type=int, choices=(0, 1), default=0,
                         help="0: Kubo's default (Qm…); 1: raw leaves, base32 (bafy…/bafk…)")
        sub.add_argument("--hidden", action="store_true", help="include hidden files of a folder (Kubo's --hidden)")

    cid = commands.add_parser("cid", help="print the CID `ipfs add --only-hash` would print",
                              description="Print the CID of a file or folder, computed locally exactly as "
                                          "`ipfs add [-r] --only-hash` computes it.")
    layout_options(cid)
    cid.set_defaults(func=run_cid)

    car = commands.add_parser("car", help="export a file or folder as a CARv1 archive",
                              description="Write the exact blocks of a file or folder to a CARv1 file "
                                          "(for `ipfs dag import` or a pinning service); prints the root CID.")
    layout_options(car)
    car.add_argument("-o", "--output", type=Path, required=True, help="the .car file to write")
    car.set_defaults(func=run_car)

    add = commands.add_parser("add", help="publish a file or folder to the chosen storage and pin it",
                              description="Store a file or folder where the settings say works are kept "
                                          "(the local store, a Kubo node or a pinning service), pinned; prints "
                                          "its CID, computed locally and checked. A pinning service's access "
                                          "token comes from STUDIO_PINNING_TOKEN or --token-file.")
    layout_options(add)
    add.add_argument("--backend", choices=("local", "kubo", "pinning"),
                     help="where to keep it this time (default: the storage_backend setting)")
    add.add_argument("--token-file", type=Path, metavar="FILE",
                     help="a file holding only the pinning service's access token "
                          "(default: the STUDIO_PINNING_TOKEN environment variable)")
    add.set_defaults(func=run_add)

    get = commands.add_parser("get", help="fetch an ipfs://, https:// or data: URI, verified",
                              description="Fetch content: the local store first, then the gateways in order; "
                                          "IPFS content is checked against its CID.")
    get.add_argument("uri", help="ipfs://CID[/path], https://… or data:…")
    get.add_argument("-o", "--output", type=Path, help="write here (default: standard output)")
    get.add_argument("--gateway", action="append", dest="gateways", metavar="URL",
                     help="a gateway base URL to try, in order (repeatable; default: the gateways setting)")
    get.add_argument("--max-bytes", type=int, default=None,
                     help="refuse content larger than this (default: the fetch_max_bytes setting)")
    get.set_defaults(func=run_get)

    serve = commands.add_parser("serve", help="serve the local store on 127.0.0.1 (read-only gateway)",
                                description="Serve /ipfs/<cid>[/<path>] from the local store on 127.0.0.1 "
                                            "until Ctrl-C.")
    serve.add_argument("--port", type=int, default=None,
                       help="port on 127.0.0.1, 0 for any free port (default: the local_gateway_port setting)")
    serve.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    serve.set_defaults(func=run_serve)


def run_cid(args: argparse.Namespace) -> int:
    from studio.storage.unixfs import cid_of_path

    print(cid_of_path(args.path, cid_version=args.cid_version, include_hidden=args.hidden))
    return 0


def run_car(args: argparse.Namespace) -> int:
    from studio.storage.car import export_car

    print(export_car(args.path, args.output, cid_version=args.cid_version, include_hidden=args.hidden))
    return 0


def run_add(args: argparse.Namespace) -> int:
    from studio.config import load_config
    from studio.storage.backends import backend_from_config, read_token_file

    token = read_token_file(args.token_file) if args.token_file is not None else None
    backend = backend_from_config(load_config(), name=args.backend, pinning_token=token)
    print(backend.add_path(args.path, cid_version=args.cid_version, include_hidden=args.hidden))
    return 0


def run_get(args: argparse.Namespace) -> int:
    from studio.config import load_config
    from studio.fileio import atomic_write_bytes
    from studio.storage.backends import fetcher_from_config

    fetcher = fetcher_from_config(load_config(), gateways=args.gateways, max_bytes=args.max_bytes)
    fetched = fetcher.fetch(args.uri)
    if args.output is not None:
        atomic_write_bytes(args.output, fetched.data)
        print(json.dumps({"path": str(args.output), "bytes": len(fetched.data), "content_type": fetched.content_type,
                          "source": fetched.source, "verified": fetched.verified}))
    else:
        sys.stdout.buffer.write(fetched.data)
        sys.stdout.flush()
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from studio.config import load_config
    from studio.storage.gateway import Gateway
    from studio.storage.store import LocalStore

    config = load_config()
    port = args.port if args.port is not None else int(config["local_gateway_port"])
    with Gateway(LocalStore.default(config.paths), port=port) as gateway:
        print(f"Serving the local store at {gateway.url}/ipfs/<cid> (Ctrl-C stops).", flush=True)
        try:
            threading.Event().wait(args.seconds)
        except KeyboardInterrupt:
            print("Stopped.", file=sys.stderr)
    return 0
