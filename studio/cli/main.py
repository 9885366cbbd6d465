"""Entry point of the ``studio`` command (and ``python -m studio``).

Each command group lives in its own module with a ``register(subparsers)`` function that adds
its subcommands, each with ``func(args) -> int``. torch is imported only by commands that run
models. A StudioError is printed for people, never as a traceback; with ``--json`` it is one JSON
object on standard output instead (``{"error", "hint", "exit"}``). Exit statuses are defined once,
in studio/cli/exit_codes.py, and listed in ``studio --help``.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import NoReturn, Sequence

from studio import __version__
from studio.cli.exit_codes import EXIT_TABLE, Exit
from studio.errors import Cancelled, InputError, NotFound, StudioError

log = logging.getLogger(__name__)


class UsageError(Exception):
    """A command line argparse refused; raised instead of exiting, so that --json can answer in JSON."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser, self.message = parser, message


class StudioArgumentParser(argparse.ArgumentParser):
    """argparse, with usage errors raised (as UsageError) rather than printed and exited on."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message)


def build_parser() -> argparse.ArgumentParser:
    from studio.cli import devnet, generate, ipfs, models, network, verify, wallet
    from studio.cli import collection, completion, demo, mint
    from studio.cli import avatars, batch, market, upscale

    exits = "\n".join(f"  {int(code):>3}  {meaning}" for code, meaning in EXIT_TABLE)
    parser = StudioArgumentParser(
        prog="studio", description="Provenance Studio from the command line.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"Every command takes --json: its result as JSON on standard output, and an error as one "
               f"JSON object\n{{\"error\": ..., \"hint\": ..., \"exit\": N}}. Progress goes to standard error.\n\n"
               f"Exit status:\n{exits}\n\nShell completion: `studio completion bash|zsh|tcsh`.")
    parser.add_argument("--version", action="version", version=f"provenance-studio {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in (generate, upscale, models, ipfs, wallet, network, devnet, verify):
        group.register(subparsers)
    for group in (collection, mint, demo):
        group.register(subparsers)
    market.register(subparsers)
    batch.register(subparsers)
    avatars.register(subparsers)
    completion.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit status (a reader that went away mid-output ends it quietly)."""
    try:
        status = _run(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()  # a reader that went away (`| head`) is met here, not at the interpreter's exit
        return status
    except BrokenPipeError:
        return _reader_went_away()


def _run(argv: list[str]) -> int:
    parser = build_parser()
    wants_json = "--json" in argv
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        command = exc.parser.prog
        return _fail(wants_json, Exit.INPUT, f"{command}: {exc.message}", f"See `{command} --help`.",
                     usage=exc.parser.format_usage())
    except SystemExit as exc:  # --help or --version: argparse printed them
        return int(exc.code or 0)
    wants_json = bool(getattr(args, "json", False))
    if not getattr(args, "func", None):
        parser.print_help()
        return Exit.INPUT

    from studio.logs import setup_logging
    from studio.paths import studio_paths

    setup_logging(studio_paths().ensure().logs_dir)
    try:
        return int(args.func(args))
    except Cancelled as exc:
        return _fail(wants_json, Exit.CANCELLED, exc.message, None)
    except KeyboardInterrupt:
        return _fail(wants_json, Exit.CANCELLED, "Cancelled.", None)
    except StudioError as exc:
        log.info("Command %s failed: %s", args.command, exc)
        code = Exit.INPUT if isinstance(exc, (InputError, NotFound)) else Exit.FAILED
        return _fail(wants_json, code, exc.message, exc.hint)


def _fail(as_json: bool, code: Exit, message: str, hint: str | None, *, usage: str = "") -> int:
    """Report a failure: one JSON object on stdout with --json, else words on stderr."""
    from studio.text import json_line, printable

    if as_json:
        print(json_line({"error": message, "hint": hint, "exit": int(code)}), flush=True)
    else:
        if usage:
            print(usage, end="", file=sys.stderr)
        text = f"{message} {hint}" if hint else message
        prefix = "" if code == Exit.CANCELLED else "error: "
        print(f"{prefix}{printable(text, multiline=True)}", file=sys.stderr)  # may quote text from outside
    return int(code)


def _reader_went_away() -> int:
    """Stop quietly, as Unix tools do when the program reading their output (``head``) exits:
    point stdout at /dev/null so that the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout without a file descriptor (tests capture it)
        pass
    return Exit.BROKEN_PIPE
