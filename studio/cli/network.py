"""``studio network``: list the networks, add or remove a custom RPC, check a node's chain id."""
from __future__ import annotations

import argparse
import json
from typing import Any

from studio.text import printable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("network", help="networks: list, add a custom RPC, check a node",
                                   description="Networks the wallet can use. Built-in RPC URLs can be replaced "
                                               "in settings (rpc_urls: one key=URL per line).")
    commands = parser.add_subparsers(dest="network_command", metavar="SUBCOMMAND", required=True)

    lst = commands.add_parser("list", help="list built-in and custom networks")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=run_list)

    add = commands.add_parser("add", help="add a custom network (anvil, hardhat, a private RPC)")
    add.add_argument("key", help="short name, e.g. anvil")
    add.add_argument("--rpc", required=True, metavar="URL", help="the node's HTTP RPC URL")
    add.add_argument("--chain-id", type=int, help="expected chain id (default: ask the node)")
    add.add_argument("--name", help="name shown in lists")
    add.add_argument("--mainnet", action="store_true", help="real money: ask before value moves")
    add.add_argument("--currency", default="ETH")
    add.add_argument("--json", action="store_true", help="print the network added as JSON")
    add.set_defaults(func=run_add)

    remove = commands.add_parser("remove", help="remove a custom network")
    remove.add_argument("key")
    remove.add_argument("--json", action="store_true", help='print {"removed": KEY}')
    remove.set_defaults(func=run_remove)

    check = commands.add_parser("check", help="connect and compare the node's chain id with the network's")
    check.add_argument("key", nargs="?", help="network key (default: the network chosen in settings)")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=run_check)

    use = commands.add_parser("use", help="choose the network the wallet and the other commands use by default")
    use.add_argument("key")
    use.add_argument("--json", action="store_true", help="print the network now in use as JSON")
    use.set_defaults(func=run_use)


def _as_json(network: Any, selected: str | None = None) -> dict[str, Any]:
    return {"key": network.key, "name": network.name, "chain_id": network.chain_id, "rpc_url": network.rpc_url,
            "mainnet": network.is_mainnet, "custom": network.custom, "currency": network.currency,
            "selected": network.key == selected}


def run_list(args: argparse.Namespace) -> int:
    from studio.chain.networks import NetworkRegistry

    networks = NetworkRegistry.default().all()
    if args.json:
        selected_key = NetworkRegistry.default().selected().key
        print(json.dumps([_as_json(n, selected_key) for n in networks]))
        return 0
    selected = NetworkRegistry.default().selected().key
    for n in networks:
        mark = "*" if n.key == selected else " "
        print(printable(f"{mark} {n.key:<14} {n.chain_id:<10} {n.marker:<8} {n.name}  {n.rpc_url or '(in-process)'}"))
    return 0


def run_use(args: argparse.Namespace) -> int:
    from studio.chain.networks import NetworkRegistry
    from studio.config import load_config

    network = NetworkRegistry.default().get(args.key)  # an unknown key is refused before saving
    config = load_config()
    config.set("network", network.key)
    config.save()
    marker = f" ({network.marker})" if network.is_mainnet else ""
    print(json.dumps(_as_json(network, network.key)) if args.json
          else printable(f"Now using {network.name}{marker}, chain id {network.chain_id}."))
    return 0


def run_add(args: argparse.Namespace) -> int:
    from studio.chain.networks import NetworkRegistry

    chain_id = args.chain_id
    if chain_id is None:
        from studio.chain.transactions import Connection

        chain_id = Connection.from_url(args.rpc, timeout=10).chain_id
    network = NetworkRegistry.default().add_custom(args.key, args.name or args.key, args.rpc, chain_id,
                                                   is_mainnet=args.mainnet, currency=args.currency)
    print(json.dumps(_as_json(network)) if args.json
          else printable(f"Added {network.key}: {network.name}, chain id {network.chain_id}, {network.rpc_url}"))
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from studio.chain.networks import NetworkRegistry

    NetworkRegistry.default().remove_custom(args.key)
    print(json.dumps({"removed": args.key}) if args.json else printable(f"Removed {args.key}."))
    return 0


def run_check(args: argparse.Namespace) -> int:
    from studio.chain.networks import NetworkRegistry, check_chain_id, connect

    network = NetworkRegistry.default().selected(args.key)
    connection = connect(network, timeout=10)
    reported = connection.reported_chain_id()
    check_chain_id(reported, network, where=network.rpc_url)
    block = connection.block_number()
    if args.json:
        print(json.dumps({"key": network.key, "chain_id": reported, "block": block, "ok": True}))
    else:
        print(f"{network.name}: chain id {reported} as expected, at block {block}.")
    return 0
