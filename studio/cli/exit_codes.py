"""The exit statuses of every `studio` command, defined once (and listed in `studio --help`)."""
from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """What a command's exit status means; scripts may rely on these."""

    OK = 0             #: done
    FAILED = 1         #: not done, or only partly (a node, store or disk failed; the message says what was done)
    INPUT = 2          #: bad input: an argument, a file, a wallet password, a name that does not exist
    NO_PROVENANCE = 3  #: verify: no provenance, or provenance nothing proves (unproven)
    TAMPERED = 4       #: verify: the file or its token does not match its provenance
    CANCELLED = 130    #: stopped by the user (Ctrl-C, or "no" at a prompt)
    BROKEN_PIPE = 141  #: the program reading the output went away (`| head`), as for other Unix tools


#: (status, meaning) for `studio --help` and docs/cli.md.
EXIT_TABLE: tuple[tuple[int, str], ...] = (
    (Exit.OK, "done"),
    (Exit.FAILED, "not done, or only partly: a node, a store or the disk failed (the message says what was done)"),
    (Exit.INPUT, "bad input: an argument, a file, a password, or a name that does not exist"),
    (Exit.NO_PROVENANCE, "verify: no provenance, or provenance that nothing proves"),
    (Exit.TAMPERED, "verify: the file or its token does not match its provenance"),
    (Exit.CANCELLED, "cancelled (Ctrl-C, or no at a prompt)"),
    (Exit.BROKEN_PIPE, "the program reading the output stopped early (| head)"),
)
