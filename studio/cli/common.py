"""What the commands that sign on a network share: options, the unlocked account, the preview prompt.

`studio collection` and `studio mint` (and later market commands) take ``--network`` (default:
the ``network`` setting), ``--account``, ``--password-file`` (else STUDIO_WALLET_PASSWORD, else a
prompt), ``--yes`` and ``--json``. The wallet is unlocked only while the command runs.
"""
from __future__ import annotations

import argparse
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.errors import InputError
from studio.text import printable


def add_network_options(sub: argparse.ArgumentParser, *, signs: bool = True) -> None:
    """--network and --json, and for commands that sign: --account, --password-file, --yes."""
    sub.add_argument("--network", help="network key (default: the `network` setting, the devnet at first)")
    sub.add_argument("--json", action="store_true", help="print the result as JSON")
    if signs:
        sub.add_argument("--account", help="address or name of the wallet account (default: the first)")
        sub.add_argument("--password-file", type=Path, metavar="F", help="read the wallet password from this file")
        sub.add_argument("--yes", action="store_true", help="sign without showing the preview and asking")


def add_signing_options(sub: argparse.ArgumentParser) -> None:
    """--sign (with --account and --password-file): sign each new work's provenance with the wallet."""
    sub.add_argument("--sign", action="store_true",
                     help="sign each image's provenance with a wallet account; the password comes from "
                          "--password-file, STUDIO_WALLET_PASSWORD or a prompt")
    sub.add_argument("--account", help="address or name of the wallet account that signs (default: the first)")
    sub.add_argument("--password-file", type=Path, metavar="F", help="read the wallet password from this file")


def provenance_signer(args: argparse.Namespace) -> tuple[Any, Any]:
    """The unlocked wallet and the account's signer when --sign was given, else (None, None)."""
    if not getattr(args, "sign", False):
        if getattr(args, "account", None):
            raise InputError("--account chooses who signs, but --sign was not given.",
                             hint="Add --sign to sign the works' provenance with that account.")
        return None, None
    from studio.chain.wallet import Wallet
    from studio.cli.wallet import read_password

    wallet = Wallet.default()
    if not wallet.exists:
        raise InputError("There is no wallet to sign with.",
                         hint="Create or import one (`studio wallet create` / `studio wallet import`), "
                              "or leave out --sign.")
    account = wallet.account(getattr(args, "account", None))  # unknown names are refused before scrypt runs
    wallet.unlock(read_password(args))
    return wallet, wallet.signer(account.address)


def add_backend_options(sub: argparse.ArgumentParser) -> None:
    """--cluster [ADDRESS] and --no-cluster: where the images are made (default: the Settings)."""
    where = sub.add_mutually_exclusive_group()
    where.add_argument("--cluster", nargs="?", const="", metavar="ADDRESS",
                       help="make the images on a Ray cluster: auto, local, HOST:6379 or ray://HOST:10001 "
                            "(default: the address in Settings); they are signed and saved here. "
                            "Write it after the prompt, or as --cluster=ADDRESS")
    where.add_argument("--no-cluster", action="store_true",
                       help="make the images on this computer even when Settings choose a cluster")


def backend_of(args: argparse.Namespace, config: Any, engine: Any, catalog: Any = None) -> Any:
    """The generation backend the command runs on: this computer's ``engine``, or a Ray cluster
    (--cluster, else the generation_backend setting). Close it when done."""
    from studio.generation.backends import cluster_address, open_backend

    requested = getattr(args, "cluster", None)
    if requested and requested not in ("auto", "local") and ":" not in requested:
        raise InputError(f"“{requested}” is not a cluster address.",
                         hint="Write --cluster after the prompt (or --cluster=ADDRESS); an address is auto, local, "
                              "HOST:6379 or ray://HOST:10001.")
    address = cluster_address(config, requested, this_computer=bool(getattr(args, "no_cluster", False)))
    return open_backend(config, engine, address, catalog=catalog)


def print_run_report(report: Any) -> None:
    """A cluster run's report on stderr: images per node, and each failure."""
    for line in report.lines():
        print(printable(line), file=sys.stderr)


def add_storage_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--backend", choices=("local", "kubo", "pinning"),
                     help="where the files go (default: the storage_backend setting)")
    sub.add_argument("--token-file", type=Path, metavar="FILE",
                     help="the pinning service's access token (default: STUDIO_PINNING_TOKEN)")


def network_of(args: argparse.Namespace) -> Any:
    """The network the command uses: --network, else the `network` setting."""
    from studio.chain.networks import NetworkRegistry
    from studio.config import load_config

    key = getattr(args, "network", None) or load_config()["network"]
    return NetworkRegistry.default().get(key)


def store_of(args: argparse.Namespace) -> Any:
    from studio.config import load_config
    from studio.storage.backends import backend_from_config, read_token_file

    token = read_token_file(args.token_file) if getattr(args, "token_file", None) is not None else None
    return backend_from_config(load_config(), name=getattr(args, "backend", None), pinning_token=token)


@dataclass
class ChainSession:
    """An unlocked account on one network for the length of one command."""

    network: Any
    connection: Any
    wallet: Any
    signer: Any  # a NetworkSigner: refuses to sign for another chain
    history: Any

    def close(self) -> None:
        self.wallet.lock()

    def __enter__(self) -> "ChainSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_session(args: argparse.Namespace) -> ChainSession:
    """Connect to the network and unlock the chosen account (password from file, env or prompt)."""
    from studio.chain.history import TxHistory
    from studio.chain.networks import connect
    from studio.chain.sender import NetworkSigner
    from studio.chain.wallet import Wallet
    from studio.cli.wallet import read_password

    network = network_of(args)
    wallet = Wallet.default()
    if not wallet.exists:
        raise InputError("There is no wallet yet, so nothing can be signed.",
                         hint="Create one with `studio wallet create` or `studio wallet import`.")
    account = wallet.account(getattr(args, "account", None))
    connection = connect(network)
    wallet.unlock(read_password(args))
    history = TxHistory.default()
    return ChainSession(network, connection, wallet, NetworkSigner(wallet.signer(account.address), network, history),
                        history)


def show_preview(preview: Any) -> None:
    """The transaction's preview on stderr (stdout stays for results and --json)."""
    from studio.cli.wallet import format_eth

    print(f"-- {printable(preview.action)} --", file=sys.stderr)
    for label, text in preview.lines():  # names in a preview come from contracts and files
        if label in ("Value", "Max fee"):
            text = f"{text}  ({format_eth(preview.value_wei if label == 'Value' else preview.max_fee_wei)})"
        print(printable(f"{label:>10}: {text}"), file=sys.stderr)


def confirm_preview(args: argparse.Namespace, preview: Any, question: str = "Sign and send?") -> bool:
    """Show the preview and ask, unless --yes. Without a terminal, a mainnet needs --yes."""
    if getattr(args, "yes", False):
        return True
    show_preview(preview)
    if not sys.stdin.isatty():
        if preview.is_mainnet:
            raise InputError(f"{preview.action} on {preview.network} (a mainnet: real fees) was not confirmed.",
                             hint="Review the preview and add --yes.")
        return True
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


class Interrupt:
    """Ctrl-C once: stop after the current step (the cancel token it yields); twice: quit at once."""

    def __init__(self) -> None:
        from studio.cancel import CancelToken

        self.cancel = CancelToken()
        self._previous: Any = None

    def __enter__(self) -> Any:
        import threading

        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_interrupt)
        return self.cancel

    def _on_interrupt(self, _signum: int, _frame: Any) -> None:
        if self.cancel.cancelled:
            raise KeyboardInterrupt
        print("Stopping after the current step (Ctrl-C again to quit at once)...", file=sys.stderr)
        self.cancel.cancel()

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def write_stdout_bytes(data: bytes) -> None:
    """Write bytes to standard output whole: a single large write to a pipe can come back short
    (interrupted when the reader goes away), and the rest would be dropped without a word."""
    out = sys.stdout.buffer
    view = memoryview(data)
    while view:
        written = out.write(view[:1 << 16])
        view = view[written or 0:]
    out.flush()
