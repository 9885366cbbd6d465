"""What holds for every `studio` command: --json everywhere (errors too), one way to choose the
account, exit statuses defined once and listed in --help, shell completion, and docs/cli.md
naming every command."""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from studio.cli.exit_codes import EXIT_TABLE, Exit
from studio.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def _commands(parser: argparse.ArgumentParser, prefix: str = "studio") -> dict[str, argparse.ArgumentParser]:
    """Every runnable command (a parser with a func and no required subcommand), by its full name."""
    found: dict[str, argparse.ArgumentParser] = {}
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if parser.get_default("func") is not None:
        found[prefix] = parser
    for group in groups:
        for name, sub in group.choices.items():
            found.update(_commands(sub, f"{prefix} {name}"))
    return found


COMMANDS = _commands(build_parser())


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def test_every_command_takes_json() -> None:
    missing = [name for name, parser in COMMANDS.items() if "--json" not in _options(parser)]
    assert not missing, f"without --json: {missing}"
    assert len(COMMANDS) >= 45


def test_the_account_is_chosen_with_account_everywhere() -> None:
    for name, parser in COMMANDS.items():
        options = _options(parser)
        assert "--from" not in options, name
        sign = next((a for a in parser._actions if "--sign" in a.option_strings), None)
        if sign is not None:  # --sign is a switch; --account names who signs
            assert sign.nargs == 0 and "--account" in options, name


def test_a_usage_error_under_json_is_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--size", "64x64", "--json"]) == Exit.INPUT  # the prompt is missing
    out, err = capsys.readouterr()
    error = json.loads(out)
    assert error["exit"] == 2 and "prompt" in error["error"] and "studio generate --help" in error["hint"]
    assert err == ""


def test_a_studio_error_under_json_is_one_json_object_and_words_without(
        studio_home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.png"
    assert main(["ipfs", "cid", str(missing), "--json"]) == Exit.INPUT
    out, err = capsys.readouterr()
    error = json.loads(out)
    assert set(error) == {"error", "hint", "exit"} and error["exit"] == 2
    assert "does not exist" in error["error"] and error["hint"] and err == ""
    assert main(["ipfs", "cid", str(missing)]) == Exit.INPUT
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: ") and "does not exist" in err


def test_help_lists_every_exit_status_defined_once(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    text = capsys.readouterr().out
    for code, meaning in EXIT_TABLE:
        assert re.search(rf"^\s+{int(code)}\s+{re.escape(meaning)}$", text, re.M), code
    assert {int(code) for code, _ in EXIT_TABLE} == {int(member) for member in Exit}
    defined = [path for path in (ROOT / "studio" / "cli").glob("*.py")
               if re.search(r"^EXIT_\w+\s*(,\s*EXIT_\w+\s*)*=", path.read_text(), re.M)]
    assert not defined, f"exit statuses defined outside exit_codes.py: {defined}"


def test_completion_script_knows_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    assert "batch-mint" in script and "verify" in script and "complete" in script
    assert main(["completion", "zsh", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["shell"] == "zsh"


def test_docs_cli_table_names_every_command() -> None:
    table = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(studio[^`]*)` \|", table, re.M))
    assert rows == set(COMMANDS), {"missing": sorted(set(COMMANDS) - rows), "extra": sorted(rows - set(COMMANDS))}
