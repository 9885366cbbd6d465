"""Storage as the settings choose it: the backend that keeps published content, and the
fetcher over the user's gateways.

Every backend (the local store, a Kubo node, a pinning service) implements
:class:`~studio.storage.store.ContentStore`: ``add_path`` / ``add_bytes`` return the CID the
studio computed itself (and, for Kubo, checked against the node's), ``has`` says whether the
backend keeps it. :func:`backend_from_config` picks one from the ``storage_backend`` setting
and says exactly which setting to fix when the choice cannot work.

The pinning service's access token is never a setting: it comes from the caller, the
``STUDIO_PINNING_TOKEN`` environment variable, or a token file (:func:`read_token_file`), and
is never logged or put in a message.
"""
from __future__ import annotations

import logging
import os
import stat
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from studio.errors import InputError

if TYPE_CHECKING:
    from studio.config import Config
    from studio.storage.fetch import VerifiedFetcher
    from studio.storage.store import ContentStore

log = logging.getLogger(__name__)

BACKENDS = ("local", "kubo", "pinning")
TOKEN_ENV = "STUDIO_PINNING_TOKEN"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def backend_from_config(config: "Config", *, name: str | None = None, pinning_token: str | None = None,
                        environ: Mapping[str, str] | None = None) -> "ContentStore":
    """The backend the settings choose (``name`` overrides ``storage_backend``).

    For a pinning service the token is ``pinning_token`` if given, else the
    ``STUDIO_PINNING_TOKEN`` environment variable. Raises InputError naming the setting (or
    variable) to set when the choice cannot work.
    """
    choice = (name or config["storage_backend"]).strip().lower()
    if choice == "local":
        from studio.storage.store import LocalStore

        return LocalStore.default(config.paths)
    if choice == "kubo":
        from studio.storage.kubo import KuboBackend

        url = _service_url(config["kubo_api_url"], "Kubo node address", "kubo_api_url",
                           example="http://127.0.0.1:5001", https_only=False)
        return KuboBackend(url)
    if choice == "pinning":
        from studio.storage.pinning import PinningService

        if not config["pinning_endpoint"].strip():
            raise InputError("Works are set to go to a pinning service, but no pinning service address is set.",
                             hint="Set “Pinning service address” (pinning_endpoint) in Settings → Storage, "
                                  "e.g. https://api.pinata.cloud/psa, or choose another place to keep works.")
        endpoint = _service_url(config["pinning_endpoint"], "Pinning service address", "pinning_endpoint",
                                example="https://api.pinata.cloud/psa", https_only=True)
        car_url = config["pinning_car_upload_url"].strip()
        if car_url:
            car_url = _service_url(car_url, "Pinning service upload address", "pinning_car_upload_url",
                                   example="https://example-pinning.org/car", https_only=True)
        token = pinning_token if pinning_token is not None else (environ if environ is not None
                                                                 else os.environ).get(TOKEN_ENV)
        if not token or not token.strip():
            raise InputError("The pinning service needs an access token, and none was given.",
                             hint=f"Set the environment variable {TOKEN_ENV}, or pass --token-file FILE "
                                  "(a file holding only the token). The token is never kept in the settings.")
        return PinningService(endpoint, token, car_upload_url=car_url or None)
    raise InputError(f"{choice!r} is not a storage backend.", hint=f"Choose one of: {', '.join(BACKENDS)}.")


def fetcher_from_config(config: "Config", *, gateways: list[str] | tuple[str, ...] | None = None,
                        max_bytes: int | None = None) -> "VerifiedFetcher":
    """A verified fetcher over the local store, the "Gateways" setting and the size limit;
    explicit ``gateways`` / ``max_bytes`` (command-line flags) win over the settings."""
    from studio.storage.fetch import VerifiedFetcher, parse_gateway_list

    chosen = tuple(gateways) if gateways is not None else parse_gateway_list(config["gateways"])
    limit = max_bytes if max_bytes is not None else int(config["fetch_max_bytes"])
    if limit <= 0:
        raise InputError(f"The size limit must be a positive number of bytes, not {limit}.")
    return VerifiedFetcher.default(chosen, paths=config.paths, max_bytes=limit)


def read_token_file(path: Path | str) -> str:
    """The access token held in ``path`` (surrounding whitespace dropped).

    A file others can read is used but logged as a warning (the token itself never is).
    """
    path = Path(path).expanduser()
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"The token file {path} does not exist.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"The token file {path} could not be read.",
                         hint="It should be a text file holding only the access token.") from exc
    token = text.strip()
    if not token or len(token.split()) != 1:
        raise InputError(f"The token file {path} should hold the access token alone, on one line.")
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("The token file %s can be read by other users; consider chmod 600.", path)
    return token


def _service_url(value: str, label: str, key: str, *, example: str, https_only: bool) -> str:
    """A service base address from a setting, checked, without a trailing slash."""
    text = value.strip().rstrip("/")
    parts = urllib.parse.urlsplit(text)
    hint = f"Set “{label}” ({key}) in Settings → Storage to an address like {example}."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"“{label}” is {value!r}, which is not a web address.", hint=hint)
    if https_only and parts.scheme != "https" and parts.hostname not in _LOOPBACK:
        raise InputError(f"“{label}” must use https:// ({value!r} would send the access token unencrypted).",
                         hint=hint)
    if parts.query or parts.fragment:
        raise InputError(f"“{label}” should be a plain address without ?query or #fragment ({value!r}).", hint=hint)
    return text
