"""Entry point of the ``studio`` command (and ``python -m studio``).

Each command group lives in its own module with a ``register(subparsers)`` function that adds
its subcommands, each with ``func(args) -> int``. torch is imported only by commands that run
models. A StudioError is printed for people (exit 2 for bad input, 1 otherwise), never as a
traceback.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Sequence

from studio import __version__
from studio.errors import Cancelled, InputError, NotFound, StudioError

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_CANCELLED = 0, 1, 2, 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a Unix tool whose reader went away


def build_parser() -> argparse.ArgumentParser:
    from studio.cli import devnet, generate, ipfs, models, network, verify, wallet
    from studio.cli import collection, demo, mint
    from studio.cli import avatars, batch, market

    parser = argparse.ArgumentParser(prog="studio", description="Provenance Studio from the command line.")
    parser.add_argument("--version", action="version", version=f"provenance-studio {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in (generate, models, ipfs, wallet, network, devnet, verify):
        group.register(subparsers)
    for group in (collection, mint, demo):
        group.register(subparsers)
    market.register(subparsers)
    batch.register(subparsers)
    avatars.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit status (a reader that went away mid-output ends it quietly)."""
    try:
        status = _run(argv)
        sys.stdout.flush()  # a reader that went away (`| head`) is met here, not at the interpreter's exit
        return status
    except BrokenPipeError:
        return _reader_went_away()


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage and the problem
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_INPUT

    from studio.logs import setup_logging
    from studio.paths import studio_paths

    setup_logging(studio_paths().ensure().logs_dir)
    try:
        return int(args.func(args))
    except Cancelled as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_CANCELLED
    except KeyboardInterrupt:
        print("Cancelled.", file=sys.stderr)
        return EXIT_CANCELLED
    except StudioError as exc:
        from studio.text import printable

        log.info("Command %s failed: %s", args.command, exc)
        print(f"error: {printable(exc, multiline=True)}", file=sys.stderr)  # may quote text from outside
        return EXIT_INPUT if isinstance(exc, (InputError, NotFound)) else EXIT_FAILED


def _reader_went_away() -> int:
    """Stop quietly, as Unix tools do when the program reading their output (``head``) exits:
    point stdout at /dev/null so that the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout without a file descriptor (tests capture it)
        pass
    return EXIT_BROKEN_PIPE
