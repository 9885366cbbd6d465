"""``studio devnet``: the embedded chain: serve it as JSON-RPC, show it, deploy the studio's contracts, fund an
account from its test accounts, reset."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("devnet", help="the built-in local chain: serve, info, deploy, reset",
                                   description="The embedded devnet (eth-tester + py-evm), saved in the data "
                                               "folder. Its accounts come from the public test phrase "
                                               "`test test … junk`: never send real funds to them.")
    commands = parser.add_subparsers(dest="devnet_command", metavar="SUBCOMMAND", required=True)

    serve = commands.add_parser(
        "serve", help="serve JSON-RPC on 127.0.0.1 until Ctrl-C or SIGTERM (for MetaMask, cast, ethers, scripts)",
        description="Serve the devnet as standard Ethereum JSON-RPC on the loopback interface. Web pages cannot "
                    "use it unless their origin is allowed; node-admin methods are off unless --admin; the node's "
                    "test accounts sign (eth_sendTransaction) only for local programs. See docs/devnet.md.")
    serve.add_argument("--port", type=int, default=8545, help="port (0 picks a free one; default 8545)")
    serve.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                       help="let requests from this browser origin in (repeatable), e.g. "
                            "chrome-extension://nkbihfbeogaeaoehlefnkodbefgpgknn for MetaMask; added to the "
                            "devnet_allowed_origins setting")
    serve.add_argument("--allow-host", action="append", default=[], metavar="HOST",
                       help="answer this Host name too, besides localhost, 127.0.0.1 and [::1] (repeatable)")
    serve.add_argument("--admin", action="store_true",
                       help="enable node-admin methods: evm_mine, evm_snapshot, evm_revert, evm_increaseTime, "
                            "evm_setNextBlockTimestamp, evm_setAutomine, testing_timeTravel")
    serve.add_argument("--no-unlocked", action="store_true",
                       help="refuse eth_sendTransaction and eth_sign* with the node's accounts even for local "
                            "programs")
    serve.add_argument("--json", action="store_true",
                       help='print one JSON line once serving: {"url", "chain_id", "allowed_origins", "admin"}')
    serve.set_defaults(func=run_serve)

    info = commands.add_parser("info", help="chain id, block, accounts and studio contracts")
    info.add_argument("--json", action="store_true")
    info.set_defaults(func=run_info)

    deploy = commands.add_parser("deploy", help="deploy the studio's contracts if they are not there yet")
    deploy.add_argument("--json", action="store_true", help="print {contract name: address} as JSON")
    deploy.set_defaults(func=run_deploy)

    fund = commands.add_parser("fund", help="the devnet's test accounts pay 10 ETH to an account of yours")
    fund.add_argument("--account", help="the wallet account (name or address), or any address, that receives "
                                        "the ETH (default: the wallet's first account)")
    fund.add_argument("--json", action="store_true", help='print {"address", "wei", "payer", "tx_hash"}')
    fund.set_defaults(func=run_fund)

    reset = commands.add_parser("reset", help="forget the saved chain (start again from genesis)")
    reset.add_argument("--yes", action="store_true", help="required: every devnet transaction is lost")
    reset.add_argument("--json", action="store_true", help='print {"reset": true}')
    reset.set_defaults(func=run_reset)


def run_serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from studio.chain.devnet import Devnet
    from studio.chain.devnet_server import DevnetServer
    from studio.config import load_config

    configured = load_config()["devnet_allowed_origins"].replace(",", " ").split()
    origins = [*configured, *args.allow_origin]
    devnet = Devnet.shared()
    try:
        server = DevnetServer(devnet, port=args.port, allowed_origins=origins, allowed_hosts=args.allow_host,
                              admin=args.admin, unlocked_accounts=not args.no_unlocked)
        url = server.start()
    except BaseException:
        devnet.close()
        raise
    if args.json:
        print(json.dumps({"url": url, "chain_id": devnet.chain_id, "allowed_origins": sorted(server.allowed_origins),
                          "admin": bool(args.admin)}), flush=True)
    else:
        print(f"Serving the studio devnet at {url} (chain id {devnet.chain_id}); Ctrl-C to stop.", flush=True)
    print(f"Allowed origins: {', '.join(sorted(server.allowed_origins)) or 'none (web pages are refused)'}; "
          f"admin methods {'on' if args.admin else 'off'}.", file=sys.stderr, flush=True)
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
    info: dict[str, Any] = {"chain_id": devnet.chain_id, "block": connection.block_number(),
                            "state_dir": str(devnet.state_dir), "accounts": devnet.accounts,
                            "contracts": dict(devnet._meta.get("contracts") or {})}
    if args.json:
        print(json.dumps(info))
    else:
        print(f"Studio devnet: chain id {info['chain_id']}, block {info['block']}, saved in {info['state_dir']}")
        for address in info["accounts"]:
            print(f"  {address}  {connection.balance(address) / 10**18:,.4f} ETH")
        for name, address in info["contracts"].items():
            print(f"  {name}: {address}")
    return 0


def run_deploy(args: argparse.Namespace) -> int:
    from studio.chain.devnet import Devnet

    contracts = Devnet.shared().studio_contracts()
    if args.json:
        print(json.dumps(contracts))
    else:
        for name, address in contracts.items():
            print(f"{name}: {address}")
    return 0


def run_fund(args: argparse.Namespace) -> int:
    import re

    from studio.chain.devnet import FUNDING_WEI, Devnet, fund_from_test_accounts
    from studio.chain.wallet import Wallet

    account = (args.account or "").strip()
    address = account if re.fullmatch(r"0x[0-9a-fA-F]{40}", account) else \
        Wallet.default().account(account or None).address
    payer, receipt = fund_from_test_accounts(Devnet.shared().connection(), address, FUNDING_WEI)
    if args.json:
        print(json.dumps({"address": address, "wei": str(FUNDING_WEI), "payer": payer, "tx_hash": receipt.tx_hash}))
    else:
        print(f"{address} received {FUNDING_WEI / 10**18:g} ETH on the devnet from the test account {payer} "
              f"(transaction {receipt.tx_hash}).")
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
    print(json.dumps({"reset": True}) if args.json else "The devnet will start from genesis next time.")
    return 0
