"""Logging to a rotating file, through a filter that masks anything shaped like a secret."""
from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from pathlib import Path

# 64 hex digits (a private key, with or without 0x) and runs of 12+ lowercase words (a mnemonic).
_KEY = re.compile(r"\b(0x)?[0-9a-fA-F]{64}\b")
_MNEMONIC = re.compile(r"\b(?:[a-z]{3,8} ){11,23}[a-z]{3,8}\b")


def mask_secrets(text: str) -> str:
    text = _KEY.sub("[secret masked]", text)
    return _MNEMONIC.sub("[phrase masked]", text)


class SecretMaskFilter(logging.Filter):
    """Rewrites each record's message so a key or phrase never reaches a log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners and GUIs swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def setup_logging(logs_dir: Path, level: int = logging.INFO) -> Path:
    """Send the studio's logs to ``studio.log`` (rotated at 2 MB, 5 kept) and warnings to stderr.

    Calling it again with another folder (another studio home) moves the log there.
    """
    logs_dir.mkdir(parents=True, exist_ok=True)
    path = logs_dir / "studio.log"
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_studio", None) is not None:
            if handler._studio == str(path):  # type: ignore[attr-defined]
                return path
            root.removeHandler(handler)
            handler.close()
    file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5,
                                                        encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    console = _CurrentStderrHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    for handler in (file_handler, console):
        handler.addFilter(SecretMaskFilter())
        handler._studio = str(path)  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("PIL", "urllib3", "filelock", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
