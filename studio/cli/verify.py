"""``studio verify``: check where images came from and that they have not changed.

Exit status (the most serious finding over all files): 4 when a file is tampered, carries an
invalid signature, or (with ``--reproduce``) does not reproduce; 2 for usage errors and
unreadable files; 3 when a file carries no provenance, or none that proves who made it
(``unproven``); 0 when everything present verifies. With ``--json``, one JSON object per file
(JSON Lines) with a ``verdict`` field.

Everything printed that came from a file (names, prompts, model names, metadata) goes through
``studio.text.printable``: control characters and bidi overrides are shown as escapes, and a
field never starts a line of its own.

A minted work (the library knows a token for it, or ``--token NETWORK:COLLECTION:ID`` names one)
is checked on chain too: a token whose committed metadata does not match the file is "tampered";
a node out of reach is a note (``--offline`` skips the library's tokens).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from studio.cli.exit_codes import Exit
from studio.errors import StudioError

_EXIT_BY_VERDICT = {"verified": Exit.OK, "unproven": Exit.NO_PROVENANCE, "no-provenance": Exit.NO_PROVENANCE,
                    "tampered": Exit.TAMPERED, "invalid-signature": Exit.TAMPERED, "unreadable": Exit.INPUT}
#: several files: the exit status is the worst verdict, in this order
_SEVERITY = (Exit.OK, Exit.NO_PROVENANCE, Exit.INPUT, Exit.TAMPERED)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify", help="check an image's provenance",
        description="Check each image's provenance: the creator's signature, that the pixels match the "
                    "signed pixel hash, and the C2PA manifest. Recipes from A1111, ComfyUI and InvokeAI "
                    "are recognised and shown.",
        epilog="Exit status: 0 all verified, 3 a file carries no provenance or none that proves who made it, "
               "4 a file is tampered, has an invalid signature or does not reproduce, 2 usage error or "
               "unreadable file (the most serious wins).")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="PNG, JPEG or WebP images")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file")
    parser.add_argument("--reproduce", action="store_true",
                        help="also regenerate each studio work from its recipe with the local model and compare")
    parser.add_argument("--input", action="append", default=[], metavar="ROLE=FILE",
                        help="with --reproduce: a picture the work was made from, by its role in the manifest "
                             "(init, mask, ip_adapter, control0 ...); repeatable")
    parser.add_argument("--weights", action="append", default=[], type=Path, metavar="DIR",
                        help="with --reproduce: a folder holding the LoRAs, VAE, embeddings, upscaler or ControlNet "
                             "files the recipe names (default: the models folders); repeatable")
    parser.add_argument("--token", action="append", default=[], metavar="NETWORK:COLLECTION:ID",
                        help="also check that this token was minted from the file (repeatable)")
    parser.add_argument("--offline", action="store_true",
                        help="do not check the tokens the library knows for the file on chain")
    parser.set_defaults(func=run)


def _worse(a: int, b: int) -> int:
    return a if _SEVERITY.index(a) >= _SEVERITY.index(b) else b


def run(args: argparse.Namespace) -> int:
    from studio.text import json_line
    from studio.workflows.verify import TokenRef, verify_file

    tokens = [TokenRef.parse(text) for text in args.token]  # a malformed one is a usage error (exit 2)
    inputs = _inputs(args.input)
    code: int = Exit.OK
    engine: Any = None
    for path in args.files:
        verdict = verify_file(path, chain=not args.offline, tokens=tokens)
        code = _worse(code, _EXIT_BY_VERDICT[verdict.verdict])
        result: dict[str, Any] = verdict.to_json()
        if args.reproduce and verdict.manifest is not None:
            try:
                if engine is None:
                    engine = _engine()
                from studio.workflows.verify import reproduce_work

                reproduction = reproduce_work(path, engine, inputs=inputs,
                                              weights=[p.expanduser() for p in args.weights] or None)
                result["reproduce"] = reproduction.to_json()
                if not reproduction.match:
                    code = _worse(code, Exit.TAMPERED)
            except StudioError as exc:
                result["reproduce"] = {"error": str(exc)}
                code = _worse(code, Exit.INPUT)
        if args.json:
            print(json_line(result), flush=True)
        else:
            print(_describe(verdict, result.get("reproduce")), flush=True)
    return code


def _inputs(items: list[str]) -> dict[str, Path]:
    from studio.errors import InputError

    found = {}
    for item in items:
        role, sep, file = item.partition("=")
        if not sep or not role.strip() or not file.strip():
            raise InputError(f"“{item}” is not ROLE=FILE.", hint="Write e.g. --input init=source.png --input control0=pose.png.")
        found[role.strip()] = Path(file.strip()).expanduser()
    return found


def _engine() -> Any:
    from studio.config import load_config
    from studio.generation.engine import Engine
    from studio.generation.models import ModelCatalog

    config = load_config()
    return Engine(ModelCatalog(config), device=config["device"], precision=config["precision"],
                  memory_saving=config["memory_saving"], hash_cache=config.paths.hash_cache_file)


def _describe(verdict: Any, reproduce: dict[str, Any] | None) -> str:
    """The verdict for people; each entry of ``lines`` is one line, whatever the file holds."""
    from studio.text import printable
    from studio.workflows.recipes import MULTILINE_ROWS, recipe_rows

    lines = [f"{verdict.path}: {verdict.verdict}"]
    if verdict.manifest is not None:
        m = verdict.manifest
        claimed = m.creator or "nobody"
        if verdict.signature_valid:
            lines.append(f"  signed by {verdict.signer} (signature valid)")
        elif verdict.signature_valid is False:
            recovered = f", it recovers to {verdict.signer}" if verdict.signer else ""
            lines.append(f"  signature INVALID: the manifest claims {claimed} as creator{recovered}")
        elif verdict.signature is None and m.creator is not None:
            lines.append(f"  NOT signed: the manifest claims {m.creator} as creator (not proven)")
        elif verdict.signature is None:
            lines.append("  not signed")
        else:
            lines.append(f"  signature not checked: the manifest claims {claimed} as creator (not proven)")
        lines.append(f"  pixels {'match' if verdict.pixel_hash_ok else 'DO NOT match'} the manifest's pixel hash")
    recipe = verdict.recipe
    if recipe is not None:  # the Verify dialog's rows, the prompt on a line of its own
        rows = recipe_rows(recipe, verdict.manifest)
        lines.append(f"  recipe{'' if recipe.source == 'studio' else ' from ' + recipe.source}: "
                     + ", ".join(f"{label.lower()} {value}" for key, label, value in rows
                                 if value and key not in MULTILINE_ROWS))
        lines.append(f"  prompt: {recipe.prompt[:200]}")
    if verdict.verdict != "unreadable":
        c2pa = verdict.c2pa + (f" (signed by {verdict.c2pa_signer})" if verdict.c2pa_signer else "")
        lines.append(f"  source: {verdict.source}; C2PA: {c2pa}")
    for check in verdict.chain:
        lines.append(f"  token {check.token_id} of {check.collection} on {check.network}: {check.state}"
                     + (f", owned by {check.owner}" if check.owner else ""))
        if check.state in ("ok", "mismatch"):
            lines.append(f"    commitment {_mark(check.commitment_ok)}, image {_mark(check.image_ok)}, "
                         f"provenance {_mark(check.provenance_ok)}")
    if reproduce is not None:
        lines.append(f"  reproduce: {reproduce.get('reason') or reproduce.get('error')}")
    lines += [f"  problem: {problem}" for problem in verdict.problems]
    lines += [f"  note: {note}" for note in verdict.notes]
    return "\n".join(printable(line) for line in lines)


def _mark(value: bool | None) -> str:
    return "matches" if value else ("DOES NOT match" if value is False else "not applicable")
