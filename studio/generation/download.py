"""Downloading a diffusers model from the Hugging Face hub: resumable, verified, cancellable.

The first run offers a recommended model to people who have none. ``download_model`` lists the
repository's files with their sizes and hashes (``HfApi.model_info(files_metadata=True)``, one
``/api/models/{id}/revision/{rev}?blobs=true`` call), chooses the files a diffusers pipeline needs
(safetensors weights only, never pickles), and fetches each through huggingface_hub (a HEAD on
``/{id}/resolve/{commit}/{file}`` for its address and ETag), then streams it with HTTP range
requests into a hidden ``.<name>.partial`` folder next to ``dest``. (huggingface_hub 2's own
``hf_hub_download`` deletes its partial file when it stops and reports progress in 10 MB steps;
here ``.part`` files are kept, so a cancelled or interrupted download resumes where it stopped,
in this run or the next, and cancel answers within 256 KB.) Every file
is checked against the hub's metadata (SHA-256 for LFS files, which is also their ETag; the git
blob hash for small ones) before the folder is renamed to ``dest``, so the model scanner never
sees half a model.

``endpoint`` (or ``HF_ENDPOINT``) points at another hub; the tests serve a tiny model from a
loopback server. No Qt here: the Welcome dialog runs this in a worker.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from studio.cancel import Cancellable
from studio.errors import Cancelled, InputError, ModelError, NetworkError, StorageError
from studio.fileio import atomic_write_text

log = logging.getLogger(__name__)

#: Written into a finished model folder: which repository and commit it came from.
DOWNLOAD_RECORD = "studio-download.json"
WEIGHT_SUFFIXES = (".safetensors",)
CONFIG_SUFFIXES = (".json", ".txt", ".model")
#: Weight file variants a pipeline loads only when asked for them by name.
KNOWN_VARIANTS = ("fp16", "bf16", "fp32", "non_ema", "ema")
#: Components whose weights a pipeline cannot do without.
WEIGHTED_COMPONENTS = ("unet", "vae", "text_encoder", "text_encoder_2", "transformer")
HASH_CHUNK = 1 << 20
#: Progress and the cancel check come once per chunk.
STREAM_CHUNK = 256 * 1024
#: A dropped connection is resumed this many times in a row before the download gives up.
RETRIES = 3
RETRY_PAUSE_S = 0.5


@dataclass(frozen=True)
class RecommendedModel:
    """A model the first run offers to people who have none."""

    repo_id: str
    title: str
    variant: str | None
    approx_bytes: int
    note: str


RECOMMENDED_MODELS: tuple[RecommendedModel, ...] = (
    RecommendedModel("stable-diffusion-v1-5/stable-diffusion-v1-5", "Stable Diffusion 1.5", "fp16",
                     2_100_000_000, "Runs on GPUs with 4 GB of memory, on Apple silicon and (slowly) on the CPU. "
                     "512×512 images; thousands of styles and LoRAs are made for it."),
    RecommendedModel("stabilityai/stable-diffusion-xl-base-1.0", "Stable Diffusion XL 1.0", "fp16",
                     6_900_000_000, "Better images at 1024×1024; needs a GPU with 8 GB of memory or more."),
)


@dataclass(frozen=True)
class RemoteFile:
    """One file of a hub repository, as the hub describes it."""

    name: str
    size: int
    sha256: str | None  # LFS files
    git_sha1: str | None  # the git blob id (small files)


@dataclass(frozen=True)
class DownloadedModel:
    """A verified model folder and where it came from."""

    path: Path
    repo_id: str
    commit: str
    files: tuple[str, ...]
    total_bytes: int


def resolve_endpoint(endpoint: str | None) -> str | None:
    """The hub to talk to: ``endpoint``, else ``HF_ENDPOINT``, else huggingface_hub's default."""
    chosen = endpoint or os.environ.get("HF_ENDPOINT") or None
    return chosen.rstrip("/") if chosen else None


def _variant_of(filename: str) -> str | None:
    parts = PurePosixPath(filename).name.split(".")
    return parts[-2] if len(parts) >= 3 and parts[-2] in KNOWN_VARIANTS else None


def select_files(files: list[RemoteFile], variant: str | None = None) -> list[RemoteFile]:
    """The files a diffusers pipeline loads: ``model_index.json``, each component's configs and its
    safetensors weights (the ``variant`` ones where the repository has them, else the plain ones).

    Raises ModelError when the repository is not a diffusers model or a component has only pickle
    weights (which can run code when loaded).
    """
    names = {f.name for f in files}
    if "model_index.json" not in names:
        raise ModelError("This repository is not a diffusers model (it has no model_index.json).",
                         hint="Choose a repository in the diffusers format, such as "
                              f"{RECOMMENDED_MODELS[0].repo_id}.")
    chosen = [f for f in files if f.name == "model_index.json"]
    by_folder: dict[str, list[RemoteFile]] = {}
    for remote in files:
        path = PurePosixPath(remote.name)
        if len(path.parts) == 2:
            by_folder.setdefault(path.parts[0], []).append(remote)
    for folder, members in sorted(by_folder.items()):
        configs = [f for f in members if f.name.endswith(CONFIG_SUFFIXES)]
        weights = [f for f in members if f.name.endswith(WEIGHT_SUFFIXES)]
        wanted = [f for f in weights if _variant_of(f.name) == variant] if variant else []
        if not wanted:
            wanted = [f for f in weights if _variant_of(f.name) is None]
        if folder in WEIGHTED_COMPONENTS and not wanted:
            others = [f for f in members if f.name.endswith((".bin", ".ckpt", ".pt", ".pth"))]
            if others:
                raise ModelError(f"The {folder} of this model exists only as pickle files, which can run code "
                                 "when loaded; the studio downloads safetensors weights only.",
                                 hint="Choose a repository that publishes .safetensors weights.")
        chosen += configs + wanted
    return sorted(chosen, key=lambda f: f.name)


def _git_blob_sha1(path: Path) -> str:
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, remote: RemoteFile) -> None:
    """Check one downloaded file against the hub's size and hash; raises StorageError if it differs."""
    size = path.stat().st_size
    if size != remote.size:
        raise StorageError(f"{remote.name} is {size:,} bytes, but the hub says {remote.size:,}: the download "
                           "is corrupted.", hint="It was deleted; download the model again.")
    if remote.sha256:
        actual, expected, kind = _sha256(path), remote.sha256.lower(), "SHA-256"
    elif remote.git_sha1:
        actual, expected, kind = _git_blob_sha1(path), remote.git_sha1.lower(), "git hash"
    else:
        raise StorageError(f"The hub gave no hash for {remote.name}, so the download cannot be verified.",
                           hint="Try again later, or download the model by hand and add it in the Create tab.")
    if actual != expected:
        raise StorageError(f"{remote.name} does not match the {kind} the hub publishes ({expected[:12]}…): the "
                           "download is corrupted.", hint="It was deleted; download the model again.")


def _hub_errors() -> tuple[type[BaseException], ...]:
    from huggingface_hub.errors import (GatedRepoError, HfHubHTTPError, OfflineModeIsEnabled, RepositoryNotFoundError,
                                        RevisionNotFoundError)

    return GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError, OfflineModeIsEnabled, HfHubHTTPError


#: How a failed name lookup reads in the messages of the operating systems' resolvers.
_LOOKUP_FAILED = ("name or service not known", "temporary failure in name resolution", "nodename nor servname",
                  "getaddrinfo failed", "no address associated with hostname", "name resolution")
_RETRY = "Check the internet connection and try again; the download resumes where it stopped."


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from or during, outermost first."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _unreachable(exc: BaseException, where: str | None) -> NetworkError | None:
    """A connection that failed before the hub could answer, said in words (not "[Errno -2] …")."""
    import socket
    from urllib.parse import urlsplit

    host = urlsplit(where or "https://huggingface.co").netloc or "huggingface.co"
    name = host.rsplit("@", 1)[-1].split(":")[0]
    for error in _chain(exc):
        text = str(error).lower()
        kind = type(error).__name__
        if isinstance(error, socket.gaierror) or any(words in text for words in _LOOKUP_FAILED):
            return NetworkError(f"The name {name} could not be looked up: this computer seems to be offline, or "
                                "its name service (DNS) does not answer.", hint=_RETRY)
        if isinstance(error, ConnectionRefusedError) or "connection refused" in text:
            return NetworkError(f"The model hub at {host} refused the connection: nothing answers there.",
                                hint="Check the hub's address (HF_ENDPOINT), or try again later.")
        if isinstance(error, ConnectionResetError) or "connection reset" in text:
            return NetworkError(f"The connection to {host} broke off.", hint=_RETRY)
        if isinstance(error, TimeoutError) or "timeout" in kind.lower() or "timed out" in text:
            return NetworkError(f"The model hub at {host} did not answer in time.", hint=_RETRY)
        if isinstance(error, (ConnectionError, OSError)) and getattr(error, "errno", None) in (101, 113):
            return NetworkError(f"{host} cannot be reached from this computer (no route to it).", hint=_RETRY)
        if kind in ("ConnectError", "ConnectionError", "NetworkError"):
            return NetworkError(f"The model hub at {host} could not be reached.", hint=_RETRY)
    return None


def _translate(exc: BaseException, repo_id: str, where: str | None = None) -> Exception:
    """A hub or network exception as the studio error people can act on; ``where`` is the address
    that was asked (the hub, or the file's download address)."""
    gated, missing, no_revision, offline, http_error = _hub_errors()
    if isinstance(exc, gated):
        return NetworkError(f"{repo_id} is gated: its authors ask you to accept their terms first.",
                            hint="Accept them on the model's page, log in with `hf auth login`, and try again.")
    if isinstance(exc, missing):
        return NetworkError(f"There is no model called {repo_id} on the hub (or it is private).",
                            hint="Check the name, e.g. stable-diffusion-v1-5/stable-diffusion-v1-5.")
    if isinstance(exc, no_revision):
        return NetworkError(f"{repo_id} has no such revision.", hint="Leave the revision at main.")
    if isinstance(exc, offline):
        return NetworkError("Downloads are switched off (HF_HUB_OFFLINE is set).",
                            hint="Unset HF_HUB_OFFLINE to download, or copy a model into the models folder.")
    if isinstance(exc, http_error):
        return NetworkError(f"The hub answered with an error while downloading {repo_id}: {exc}",
                            hint="Try again later; the files downloaded so far are kept and resumed.")
    if isinstance(exc, OSError) and getattr(exc, "errno", None) == 28:
        return StorageError("The disk is full: the model does not fit.",
                            hint="Free some space (the files downloaded so far are kept and resumed).")
    unreachable = _unreachable(exc, where)
    if unreachable is not None:
        return unreachable
    return NetworkError(f"The download of {repo_id} failed: {exc}", hint=_RETRY)


def list_remote_files(repo_id: str, revision: str = "main", *, endpoint: str | None = None,
                      token: str | bool | None = None) -> tuple[str, list[RemoteFile]]:
    """The commit ``revision`` points at and every file in it, with size and hash."""
    from huggingface_hub import HfApi

    try:
        info = HfApi(endpoint=resolve_endpoint(endpoint), token=token).model_info(
            repo_id, revision=revision, files_metadata=True)
    except Exception as exc:
        raise _translate(exc, repo_id, resolve_endpoint(endpoint)) from exc
    if not info.sha:
        raise NetworkError(f"The hub did not say which commit of {repo_id} to download.",
                           hint="Try again later.")
    files = [RemoteFile(name=s.rfilename, size=int(s.size or 0),
                        sha256=s.lfs.sha256 if s.lfs is not None else None, git_sha1=s.blob_id)
             for s in info.siblings or []]
    return info.sha, files


def partial_folder(dest: Path) -> Path:
    """Where an unfinished download of ``dest`` lives (hidden, so the model scanner skips it)."""
    return dest.parent / f".{dest.name}.partial"


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((folder / DOWNLOAD_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


class _Progress:
    """Adds up the bytes of every file into one fraction and line; the cancel check rides on it.

    ``done`` counts the finished files plus the bytes of the file in flight.
    """

    def __init__(self, total: int, progress: Callable[[float, str], None] | None, cancel: Cancellable | None,
                 repo_id: str) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.current = ""
        self._progress = progress
        self._cancel = cancel
        self._repo_id = repo_id

    def report(self) -> None:
        if self._cancel is not None and self._cancel.cancelled:
            raise Cancelled("The download was cancelled; it resumes where it stopped next time.")
        if self._progress is not None:
            mb = 1024 * 1024
            self._progress(min(max(self.done, 0) / self.total, 1.0),
                           f"Downloading {self._repo_id}: {self.current} "
                           f"({self.done / mb:,.1f} of {self.total / mb:,.1f} MB)")


def download_model(repo_id: str, dest: Path, progress: Callable[[float, str], None] | None = None,
                   cancel: Cancellable | None = None, *, endpoint: str | None = None, revision: str = "main",
                   variant: str | None = None, token: str | bool | None = None) -> DownloadedModel:
    """Download the diffusers model ``repo_id`` into the folder ``dest``; returns it once verified.

    ``progress(fraction, line)`` is called as bytes arrive; setting ``cancel.cancelled`` stops at
    the next chunk with :class:`Cancelled` (what arrived is kept for the next call to resume). A
    ``dest`` already holding this commit of this repository is returned as it is. Raises
    NetworkError (hub unreachable, unknown repository), ModelError (not a usable diffusers model),
    StorageError (a corrupted file, which is deleted; a full disk) or InputError (``dest`` holds
    something else).
    """
    repo_id = repo_id.strip()
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise InputError(f"“{repo_id}” is not a Hugging Face model id.",
                         hint="It has the form owner/name, e.g. stable-diffusion-v1-5/stable-diffusion-v1-5.")
    dest = Path(dest).expanduser()
    commit, remote_files = list_remote_files(repo_id, revision, endpoint=endpoint, token=token)
    if dest.exists():
        record = _read_record(dest)
        if record and record.get("repo_id") == repo_id and record.get("commit") == commit:
            if progress is not None:
                progress(1.0, f"{repo_id} is already downloaded.")
            return DownloadedModel(dest, repo_id, commit, tuple(record.get("files", ())),
                                   int(record.get("total_bytes", 0)))
        if not dest.is_dir() or any(dest.iterdir()):
            raise InputError(f"{dest} already exists and holds something else.",
                             hint="Choose another folder name, or move that folder away first.")
    wanted = select_files(remote_files, variant)
    total = sum(f.size for f in wanted)
    work = partial_folder(dest)
    work.mkdir(parents=True, exist_ok=True)
    _check_free_space(work, total)
    meter = _Progress(total, progress, cancel, repo_id)
    meter.report()

    for remote in wanted:
        if cancel is not None and cancel.cancelled:
            raise Cancelled("The download was cancelled; it resumes where it stopped next time.")
        meter.current = remote.name
        target = work / remote.name
        if target.exists() and _verified(target, remote):
            meter.done += remote.size
            meter.report()
            continue
        before = meter.done
        _fetch(repo_id, commit, remote, target, meter, endpoint=resolve_endpoint(endpoint), token=token)
        meter.done = before + remote.size
        meter.report()
    record = {"repo_id": repo_id, "revision": revision, "commit": commit, "variant": variant,
              "files": [f.name for f in wanted], "total_bytes": total}
    atomic_write_text(work / DOWNLOAD_RECORD, json.dumps(record, indent=2))
    if dest.exists():
        dest.rmdir()  # an empty folder (checked above)
    os.replace(work, dest)
    if progress is not None:
        progress(1.0, f"Downloaded {repo_id}.")
    log.info("Downloaded %s (commit %s, %d files, %d bytes) into %s", repo_id, commit, len(wanted), total, dest)
    return DownloadedModel(dest, repo_id, commit, tuple(f.name for f in wanted), total)


def _fetch(repo_id: str, commit: str, remote: RemoteFile, target: Path, meter: _Progress, *,
           endpoint: str | None, token: str | bool | None) -> None:
    """Download one file to ``target`` through ``<target>.part``, resuming what an earlier run left there.

    The file's address and ETag come from huggingface_hub's HEAD request (which follows the hub's
    redirect to its CDN); for LFS files the ETag is the SHA-256 and must agree with the repository
    listing. The finished file is verified before it takes its name; a corrupted one is deleted.
    """
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.utils import build_hf_headers

    url = hf_hub_url(repo_id, remote.name, revision=commit, endpoint=endpoint)
    part = target.with_name(target.name + ".part")
    try:
        meta = get_hf_file_metadata(url, token=token, endpoint=endpoint)
        headers = build_hf_headers(token=token)
    except Exception as exc:
        raise _translate(exc, repo_id, url) from exc
    if remote.sha256 and meta.etag and meta.etag.lower() != remote.sha256.lower():
        raise StorageError(f"The hub describes {remote.name} in two different ways (its ETag is not the SHA-256 "
                           "in the repository listing).", hint="Try again later; the repository may be changing.")
    if meta.size is not None and meta.size != remote.size:
        raise StorageError(f"The hub gives two different sizes for {remote.name}.",
                           hint="Try again later; the repository may be changing.")
    target.parent.mkdir(parents=True, exist_ok=True)
    if part.exists() and part.stat().st_size > remote.size:
        part.unlink()  # longer than the file can be: not a prefix of it
    try:
        with part.open("r+b" if part.exists() else "wb") as handle:
            handle.seek(0, os.SEEK_END)
            _stream(meta.location or url, handle, remote, headers, meter, repo_id)
    except OSError as exc:
        raise _translate(exc, repo_id, meta.location or url) from exc
    try:
        verify_file(part, remote)
    except StorageError:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, target)


def _stream(url: str, handle: Any, remote: RemoteFile, headers: dict[str, str], meter: _Progress,
            repo_id: str) -> None:
    """Append the rest of ``remote`` to ``handle`` (positioned at its end) with an HTTP range request.

    A dropped connection is resumed from where it stopped, up to ``RETRIES`` times in a row; a
    server that ignores the range sends the whole file, which then replaces the partial one.
    """
    import requests

    failures = 0
    while handle.tell() < remote.size:
        start = handle.tell()
        meter.done += start
        request_headers = {**headers, "Accept-Encoding": "identity"}
        if start:
            request_headers["Range"] = f"bytes={start}-"
        try:
            with requests.get(url, headers=request_headers, stream=True, timeout=(15, 60)) as response:
                if response.status_code >= 400:
                    raise NetworkError(f"The hub answered {response.status_code} for {remote.name} of {repo_id}.",
                                       hint="Try again later; the download resumes where it stopped.")
                if start and response.status_code != 206:  # the range was ignored: start over
                    handle.seek(0)
                    handle.truncate()
                    meter.done -= start
                elif start and not response.headers.get("Content-Range", "").startswith(f"bytes {start}-"):
                    raise NetworkError(f"The hub sent the wrong part of {remote.name}.",
                                       hint="Try again later; the download resumes where it stopped.")
                for chunk in response.iter_content(STREAM_CHUNK):
                    handle.write(chunk)
                    meter.done += len(chunk)
                    meter.report()  # raises Cancelled when asked to stop
                    if handle.tell() > remote.size:
                        raise StorageError(f"The hub sent more bytes for {remote.name} than it announced.",
                                           hint="It was deleted; download the model again.")
                    failures = 0
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            failures += 1
            handle.flush()
            log.info("Download of %s interrupted (%s); resuming at byte %d.", remote.name, exc, handle.tell())
            if failures > RETRIES:
                raise NetworkError(f"The connection to the hub keeps dropping while downloading {remote.name}.",
                                   hint="Check the internet connection and try again; the download resumes "
                                        "where it stopped.") from exc
            time.sleep(RETRY_PAUSE_S * failures)
        finally:
            meter.done -= handle.tell()  # the caller adds the whole file when it is done
        handle.flush()
    handle.flush()
    os.fsync(handle.fileno())


def _verified(path: Path, remote: RemoteFile) -> bool:
    """Whether a file left by an earlier run is complete and intact (a bad one is re-downloaded)."""
    try:
        verify_file(path, remote)
    except StorageError:
        log.info("%s from an earlier download does not verify; downloading it again.", remote.name)
        return False
    return True


def _check_free_space(folder: Path, needed: int) -> None:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < needed:
        gb = 1024 ** 3
        raise StorageError(f"The model needs {needed / gb:.1f} GB, but only {free / gb:.1f} GB are free on the "
                           f"disk of {folder.parent}.", hint="Free some space or choose another models folder.")


def default_destination(models_dir: Path, repo_id: str) -> Path:
    """Where a downloaded model goes: its repository name under the studio's models folder."""
    return Path(models_dir) / repo_id.split("/")[-1]
