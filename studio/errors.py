"""One error hierarchy for the whole studio.

Every message is written for people: what happened and what to do about it. Library
exceptions are caught at a domain's boundary and re-raised as one of these, with the
original chained as ``__cause__``.
"""
from __future__ import annotations


class StudioError(Exception):
    """Base of every error the studio reports to a user as it is."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class InputError(StudioError):
    """Something the user gave (a value, a file, a manifest) is not usable as it is."""


class NotFound(StudioError):
    """A file, model, work or token the user named does not exist."""


class Cancelled(StudioError):
    """The user cancelled the operation; not a failure."""

    def __init__(self, message: str = "Cancelled.") -> None:
        super().__init__(message)


class WalletLocked(StudioError):
    """The operation needs the wallet unlocked."""


class NetworkError(StudioError):
    """A network peer (RPC node, gateway, pinning service) could not be reached or answered badly."""


class ChainError(StudioError):
    """A transaction or call was rejected by the chain."""


class StorageError(StudioError):
    """Reading or writing local or remote content failed (disk full, unreadable file, bad CID)."""


class ModelError(StudioError):
    """A model could not be found, loaded or run (missing files, unsupported architecture, out of memory)."""
