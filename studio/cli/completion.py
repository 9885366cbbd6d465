"""``studio completion SHELL``: a tab-completion script for bash, zsh or tcsh (made by shtab from
the same argparse tree the commands use, so it never falls behind)."""
from __future__ import annotations

import argparse

SHELLS = ("bash", "zsh", "tcsh")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "completion", help="print a shell completion script (bash, zsh, tcsh)",
        description="Print a tab-completion script for the studio command.",
        epilog="bash: studio completion bash > ~/.local/share/bash-completion/completions/studio\n"
               "zsh:  studio completion zsh > \"${fpath[1]}/_studio\"",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    parser.add_argument("--json", action="store_true", help='print {"shell": ..., "script": ...}')
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import shtab

    from studio.cli.main import build_parser
    from studio.text import json_line

    script = shtab.complete(build_parser(), shell=args.shell)
    if args.json:
        print(json_line({"shell": args.shell, "script": script}))
    else:
        print(script)
    return 0
