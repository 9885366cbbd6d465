"""``studio ipfs``: CIDs exactly as Kubo prints them, CAR export, the local store and gateway,
verified fetching, and the pinning token kept encrypted in the wallet (``studio ipfs token``).

``cid`` and ``car`` default to Kubo's own default (CIDv0); ``--cid-version 1`` gives what
``ipfs add --cid-version=1`` prints (raw leaves, base32), the form the contracts commit to.
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.cli.progress import ProgressBar

if TYPE_CHECKING:
    from studio.workflows.publish import SecretKeeper


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
        sub.add_argument("--json", action="store_true", help='print {"cid": ..., "path": ...} (and what else it did)')

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
                                          "token comes from --token-file, STUDIO_PINNING_TOKEN or the wallet "
                                          "(`studio ipfs token set`).")
    layout_options(add)
    add.add_argument("--backend", choices=("local", "kubo", "pinning"),
                     help="where to keep it this time (default: the storage_backend setting)")
    add.add_argument("--token-file", type=Path, metavar="FILE",
                     help="a file holding only the pinning service's access token "
                          "(default: STUDIO_PINNING_TOKEN, else the token kept in the wallet)")
    add.add_argument("--password-file", type=Path, metavar="F",
                     help="the wallet password, to use the pinning token kept in the wallet "
                          "(or set STUDIO_WALLET_PASSWORD; at a terminal the studio asks)")
    add.set_defaults(func=run_add)

    token = commands.add_parser("token", help="keep the pinning service's access token encrypted in the wallet",
                                description="Keep the pinning service's access token in the wallet's encrypted "
                                            "section (never in the settings). `studio ipfs add` uses it when no "
                                            "--token-file or STUDIO_PINNING_TOKEN is given.")
    token_commands = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    token_set = token_commands.add_parser("set", help="keep a token (replacing any earlier one)",
                                          description="Encrypt the pinning token into the wallet. The token is "
                                                      "read from --token-file or asked for; never an argument.")
    token_set.add_argument("--token-file", type=Path, metavar="FILE",
                           help="a file holding only the token (default: ask for it, hidden)")
    token_set.add_argument("--password-file", type=Path, metavar="F", help="read the wallet password from this file")
    token_set.add_argument("--json", action="store_true", help='print {"kept": true}')
    token_set.set_defaults(func=run_token_set)
    token_remove = token_commands.add_parser("remove", help="forget the token kept in the wallet")
    token_remove.add_argument("--password-file", type=Path, metavar="F",
                              help="read the wallet password from this file")
    token_remove.add_argument("--json", action="store_true", help='print {"removed": true|false}')
    token_remove.set_defaults(func=run_token_remove)

    get = commands.add_parser("get", help="fetch an ipfs://, https:// or data: URI, verified",
                              description="Fetch content: the local store first, then the gateways in order; "
                                          "IPFS content is checked against its CID.")
    get.add_argument("uri", help="ipfs://CID[/path], https://… or data:…")
    get.add_argument("-o", "--output", type=Path, help="write here (default: standard output)")
    get.add_argument("--gateway", action="append", dest="gateways", metavar="URL",
                     help="a gateway base URL to try, in order (repeatable; default: the gateways setting)")
    get.add_argument("--max-bytes", type=int, default=None,
                     help="refuse content larger than this (default: the fetch_max_bytes setting)")
    get.add_argument("--json", action="store_true",
                     help="print what was fetched as JSON (bytes, content_type, source, verified), with the "
                          "content as data_base64 unless -o writes it to a file")
    get.set_defaults(func=run_get)

    serve = commands.add_parser("serve", help="serve the local store on 127.0.0.1 (read-only gateway)",
                                description="Serve /ipfs/<cid>[/<path>] from the local store on 127.0.0.1 "
                                            "until Ctrl-C.")
    serve.add_argument("--port", type=int, default=None,
                       help="port on 127.0.0.1, 0 for any free port (default: the local_gateway_port setting)")
    serve.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    serve.add_argument("--json", action="store_true", help='print one JSON line once serving: {"url": ...}')
    serve.set_defaults(func=run_serve)


def run_cid(args: argparse.Namespace) -> int:
    from studio.storage.unixfs import cid_of_path

    cid = cid_of_path(args.path, cid_version=args.cid_version, include_hidden=args.hidden)
    print(json.dumps({"cid": str(cid), "path": str(args.path)}) if args.json else cid)
    return 0


def run_car(args: argparse.Namespace) -> int:
    from studio.storage.car import export_car

    root = export_car(args.path, args.output, cid_version=args.cid_version, include_hidden=args.hidden)
    print(json.dumps({"cid": str(root), "path": str(args.path), "car": str(args.output)}) if args.json else root)
    return 0


def run_add(args: argparse.Namespace) -> int:
    from studio.config import load_config
    from studio.workflows.publish import publish_work

    config = load_config()
    wallet = _wallet_for_token(args, config)
    with ProgressBar() as bar:
        cid = publish_work(args.path, config, wallet=wallet, name=args.backend, cid_version=args.cid_version,
                           include_hidden=args.hidden, token_file=args.token_file, progress=bar)
    backend = args.backend or config["storage_backend"]
    print(json.dumps({"cid": str(cid), "path": str(args.path), "backend": backend}) if args.json else cid)
    return 0


def _wallet_for_token(args: argparse.Namespace, config: Any) -> SecretKeeper | None:
    """The unlocked wallet, when its pinning token may be needed: the pinning backend chosen, no
    token file or STUDIO_PINNING_TOKEN, a wallet here, and a password from --password-file,
    STUDIO_WALLET_PASSWORD or (at a terminal) a prompt. None otherwise: the workflow then says
    how to give a token."""
    import os

    from studio.chain.wallet import Wallet, password_from_environment
    from studio.workflows.publish import TOKEN_ENV

    if (args.backend or config["storage_backend"]).strip().lower() != "pinning" or args.token_file is not None \
            or os.environ.get(TOKEN_ENV, "").strip():
        return None
    wallet = Wallet.default()
    if not wallet.exists or (args.password_file is None and not password_from_environment()
                             and not sys.stdin.isatty()):
        return None
    from studio.cli.wallet import read_password

    wallet.unlock(read_password(args, what="Wallet password (for the pinning token)"))
    return wallet


def _existing_wallet():
    """This studio home's wallet; NotFound (before any question is asked) when there is none."""
    from studio.chain.wallet import Wallet
    from studio.errors import NotFound

    wallet = Wallet.default()
    if not wallet.exists:
        raise NotFound("There is no wallet to keep the token in.",
                       hint="Create one first (`studio wallet create`), or give the token with "
                            "STUDIO_PINNING_TOKEN or --token-file instead.")
    return wallet


def run_token_set(args: argparse.Namespace) -> int:
    import getpass

    from studio.cli.wallet import read_password
    from studio.errors import InputError
    from studio.storage.backends import read_token_file
    from studio.workflows.publish import PINNING_SECRET

    wallet = _existing_wallet()
    if args.token_file is not None:
        token = read_token_file(args.token_file)
    elif sys.stdin.isatty():
        token = getpass.getpass("Pinning service access token (hidden): ").strip()
    else:
        raise InputError("No token to keep: there is no terminal to ask for it.",
                         hint="Give it in a file: studio ipfs token set --token-file FILE.")
    if not token:
        raise InputError("The token is empty; nothing was changed.")
    wallet.set_service_secret(PINNING_SECRET, token, read_password(args))
    print(json.dumps({"kept": True}) if args.json else
          "The pinning service's token is kept encrypted in the wallet. "
          "`studio ipfs add` uses it when the wallet password is given.")
    return 0


def run_token_remove(args: argparse.Namespace) -> int:
    from studio.cli.wallet import read_password
    from studio.workflows.publish import PINNING_SECRET

    wallet = _existing_wallet()
    removed = wallet.remove_service_secret(PINNING_SECRET, read_password(args))
    if args.json:
        print(json.dumps({"removed": removed}))
    elif removed:
        print("The pinning service's token is no longer kept in the wallet.")
    else:
        print("The wallet kept no pinning service token; nothing was changed.")
    return 0


def run_get(args: argparse.Namespace) -> int:
    from studio.cli.common import write_stdout_bytes
    from studio.config import load_config
    from studio.fileio import atomic_write_bytes
    from studio.storage.backends import fetcher_from_config

    fetcher = fetcher_from_config(load_config(), gateways=args.gateways, max_bytes=args.max_bytes)
    fetched = fetcher.fetch(args.uri)
    described: dict[str, Any] = {"uri": args.uri, "bytes": len(fetched.data), "content_type": fetched.content_type,
                                 "source": fetched.source, "verified": fetched.verified}
    if args.output is not None:
        atomic_write_bytes(args.output, fetched.data)
        print(json.dumps({"path": str(args.output), **described}))
    elif args.json:
        print(json.dumps({**described, "data_base64": base64.b64encode(fetched.data).decode()}))
    else:
        write_stdout_bytes(fetched.data)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from studio.config import load_config
    from studio.storage.gateway import Gateway
    from studio.storage.store import LocalStore

    config = load_config()
    port = args.port if args.port is not None else int(config["local_gateway_port"])
    with Gateway(LocalStore.default(config.paths), port=port) as gateway:
        if args.json:
            print(json.dumps({"url": gateway.url}), flush=True)
        else:
            print(f"Serving the local store at {gateway.url}/ipfs/<cid> (Ctrl-C stops).", flush=True)
        try:
            threading.Event().wait(args.seconds)
        except KeyboardInterrupt:
            print("Stopped.", file=sys.stderr)
    return 0
