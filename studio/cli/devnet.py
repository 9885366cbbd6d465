"""``studio devnet``: the embedded chain: serve it as JSON-RPC, show it, deploy the studio's contracts, reset."""
from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("devnet", help="the built-in local chain: serve, info, deploy, reset",
                                   description="The embedded devnet (eth-tester + py-evm), saved in the data "
                                               "folder. Its accounts come from the public test phrase "
                                               "`test test … junk`: never send real funds to them.")
    commands = parser.add_subparsers(dest="devnet_command", metavar="SUBCOMMAND", required=True)

    serve = commands.add_parser("serve", help="serve JSON-RPC on 127.0.0.1 until Ctrl-C (for MetaMask, tools)")
    serve.add_argument("--port", type=int, default=8545, help="port (0 picks a free one; default 8545)")
    serve.set_defaults(func=run_serve)

    info = commands.add_parser("info", help="chain id, block, accounts and studio contracts")
    info.add_argument("--json", action="store_true")
    info.set_defaults(func=run_info)

    deploy = commands.add_parser("deploy", help="deploy the studio's contracts if they are not there yet")
    deploy.set_defaults(func=run_deploy)

    reset = commands.add_parser("reset", help="forget the saved chain (start again from genesis)")
    reset.add_argument("--yes", action="store_true", help="required: every devnet transaction is lost")
    reset.set_defaults(func=run_reset)


def run_serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from studio.chain.devnet import Devnet
    from studio.chain.devnet_server import DevnetServer

    devnet = Devnet.shared()
    server = DevnetServer(devnet, port=args.port)
    url = server.start()
    print(f"Serving the studio devnet at {url} (chain id {devnet.chain_id}); Ctrl-C to stop.", flush=True)
    print("Test accounts from the public phrase `test test test test test test test test test test test junk`; "
          "never send real funds to them.", file=sys.stderr, flush=True)
    stop = threading.Event()
    try:  # SIGTERM (a service manager, `kill`) stops cleanly and saves, as Ctrl-C does
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    except ValueError:  # not the main thread (tests)
        pass
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        devnet.close()
    print("Devnet saved and stopped.", file=sys.stderr)
    return 0


def run_info(args: argparse.Namespace) -> int:
    from studio.chain.devnet import Devnet

    devnet = Devnet.shared()
    connection = devnet.connection()
    block = connection.block_number()
    contracts: dict[str, str] = dict(devnet._meta.get("contracts") or {})
    info = {"chain_id": devnet.chain_id, "block": block, "state_dir": str(devnet.state_dir),
            "accounts": devnet.accounts, "contracts": contracts}
    if args.json:
        print(json.dumps(info))
    else:
        print(f"Studio devnet: chain id {devnet.chain_id}, block {block}, saved in {devnet.state_dir}")
        for address in devnet.accounts:
            print(f"  {address}  {connection.balance(address) / 10**18:,.4f} ETH")
        for name, address in contracts.items():
            print(f"  {name}: {address}")
    return 0


def run_deploy(args: argparse.Namespace) -> int:
    from studio.chain.devnet import Devnet

    for name, address in Devnet.shared().studio_contracts().items():
        print(f"{name}: {address}")
    return 0


def run_reset(args: argparse.Namespace) -> int:
    from studio.chain.devnet import Devnet
    from studio.errors import InputError

    if not args.yes:
        raise InputError("Resetting loses every devnet transaction and contract.", hint="Add --yes to do it.")
    devnet = Devnet.shared()
    devnet.reset()
    import atexit

    atexit.unregister(devnet.close)  # do not save the old chain again on exit
    print("The devnet will start from genesis next time.")
    return 0
