"""Logging goes to a rotating file and never contains a key or a recovery phrase."""
from __future__ import annotations

import logging

from studio.logs import mask_secrets, setup_logging
from studio.paths import studio_paths

KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
PHRASE = "test test test test test test test test test test test junk"


def test_keys_and_phrases_are_masked() -> None:
    assert KEY not in mask_secrets(f"key={KEY}")
    assert KEY[2:] not in mask_secrets(f"key={KEY[2:]}")
    assert PHRASE not in mask_secrets(f"phrase: {PHRASE}")
    assert mask_secrets("seed 42, 20 steps") == "seed 42, 20 steps"
    # an address (40 hex digits) is public and stays readable
    address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert mask_secrets(address) == address


def test_log_file_receives_messages_without_secrets() -> None:
    paths = studio_paths().ensure()
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        log_file = setup_logging(paths.logs_dir)
        logging.getLogger("studio.test").warning("imported %s with %s", KEY, PHRASE)
        for handler in root.handlers:
            handler.flush()
        text = log_file.read_text()
        assert "imported" in text
        assert KEY not in text and KEY[2:] not in text and PHRASE not in text
    finally:
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
