"""Logging to a rotating file, through a filter that masks anything shaped like a secret."""
from __future__ import annotations

import logging
import logging.handlers
import re
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


def setup_logging(logs_dir: Path, level: int = logging.INFO) -> Path:
    """Send the studio's logs to ``studio.log`` (rotated at 2 MB, 5 kept) and stderr warnings."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    path = logs_dir / "studio.log"
    root = logging.getLogger()
    if any(getattr(h, "_studio", False) for h in root.handlers):
        return path
    file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5,
                                                        encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    file_handler.addFilter(SecretMaskFilter())
    file_handler._studio = True  # type: ignore[attr-defined]
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    console.addFilter(SecretMaskFilter())
    console._studio = True  # type: ignore[attr-defined]
    root.addHandler(file_handler)
    root.addHandler(console)
    root.setLevel(level)
    for noisy in ("PIL", "urllib3", "filelock", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
