"""Logging to a rotating file, through a filter that masks anything shaped like a secret
(keys, recovery phrases, access tokens) and any token the studio was told to keep secret."""
from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from pathlib import Path

# 64 hex digits (a private key, with or without 0x) and runs of 12+ lowercase words (a mnemonic).
_KEY = re.compile(r"\b(0x)?[0-9a-fA-F]{64}\b")
_MNEMONIC = re.compile(r"\b(?:[a-z]{3,8} ){11,23}[a-z]{3,8}\b")
# Access tokens: what follows "Bearer", the value of a token=/password: pair, a JWT, and any run
# of 32+ token characters mixing upper case, lower case and digits (API keys look like that;
# CIDv0s and checksummed addresses do too, and stay readable).
_BEARER = re.compile(r"(?i)\b(bearer\s+)(?!\[)[^\s\"',;]+")
_PAIR = re.compile(r"(?i)\b((?:access_?)?token|api_?key|secret|password)"
                   r"(\"?\s*[:=]\s*\"?)(?!\[)[^\s\"',;&]{6,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_LONG_TOKEN = re.compile(r"(?<![A-Za-z0-9_+=-])[A-Za-z0-9_+=-]{32,}")
_PUBLIC = re.compile(r"Qm[1-9A-HJ-NP-Za-km-z]{44}|0x[0-9a-fA-F]{40}")  # CIDv0s and addresses
_MASK = "[secret masked]"
_known: set[str] = set()


def remember_secret(value: str) -> None:
    """Mask this exact text in every later log line (a token whose shape the patterns could miss).

    Holders of a secret the studio did not make itself (a pinning service's token) call this.
    """
    if value and len(value) >= 6:
        _known.add(value)


def _long_token(match: re.Match[str]) -> str:
    text = match.group(0)
    if _PUBLIC.fullmatch(text) or not (any(c.isupper() for c in text) and any(c.islower() for c in text)
                                         and any(c.isdigit() for c in text)):
        return text
    return _MASK


def mask_secrets(text: str) -> str:
    """``text`` with keys, recovery phrases and access tokens replaced by a mask."""
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, _MASK)
    text = _KEY.sub(_MASK, text)
    text = _MNEMONIC.sub("[phrase masked]", text)
    text = _BEARER.sub(lambda m: m.group(1) + _MASK, text)
    text = _PAIR.sub(lambda m: m.group(1) + m.group(2) + _MASK, text)
    text = _JWT.sub(_MASK, text)
    return _LONG_TOKEN.sub(_long_token, text)


class SecretMaskFilter(logging.Filter):
    """Rewrites each record's message (and its traceback) so a key, phrase or token never
    reaches a log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
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
        setattr(handler, "_studio", str(path))  # marks the studio's own handlers for a later reconfigure
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("PIL", "urllib3", "filelock", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
