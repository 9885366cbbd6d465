"""Typed settings with a label and help text each.

The settings dialog is generated from :data:`SETTINGS`; a stored value of the wrong type or
outside its choices falls back to the default with a logged warning, so a hand-edited or old
settings file never stops the studio from starting.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from studio.fileio import atomic_write_text
from studio.paths import StudioPaths, studio_paths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Setting:
    key: str
    label: str
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    #: The settings dialog's group (one of :data:`SECTIONS`).
    section: str = "General"
    #: One entry per line (the dialog shows a box of several lines).
    multiline: bool = False

    def accepts(self, value: Any) -> bool:
        kind = type(self.default)
        if kind is bool:
            if not isinstance(value, bool):
                return False
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                return False
        elif kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return False
        elif not isinstance(value, kind):
            return False
        if self.choices is not None and value not in self.choices:
            return False
        if self.minimum is not None and value < self.minimum:
            return False
        if self.maximum is not None and value > self.maximum:
            return False
        return True


#: The settings dialog's groups, in the order it shows them.
SECTIONS: tuple[str, ...] = ("General", "Generation", "Storage", "Wallet & networks", "Appearance")

SETTINGS: tuple[Setting, ...] = (
    Setting("device", "Device", "auto",
            "Where models run. Auto picks CUDA, then Apple MPS, then the CPU.",
            choices=("auto", "cuda", "mps", "cpu"), section="Generation"),
    Setting("precision", "Precision", "auto",
            "Number format of the weights. Auto uses fp16 on CUDA and MPS, fp32 on the CPU.",
            choices=("auto", "fp16", "bf16", "fp32"), section="Generation"),
    Setting("memory_saving", "Memory saving", "auto",
            "Attention slicing, VAE tiling and CPU offload. Auto switches them on when the "
            "device has little free memory.", choices=("auto", "on", "off"), section="Generation"),
    Setting("models_folder", "Models folder", "",
            "An extra folder scanned for models (diffusers folders and .safetensors files). "
            "The studio's own models folder is always scanned.", section="Generation"),
    Setting("scan_hf_cache", "Scan the Hugging Face cache", True,
            "Also list diffusers models already downloaded into the Hugging Face cache.", section="Generation"),
    Setting("channels_last", "Channels-last memory format", "auto",
            "Lay out the UNet's and VAE's tensors channels-last, which is faster on NVIDIA GPUs. Auto uses it "
            "on CUDA only.", choices=("auto", "on", "off"), section="Generation"),
    Setting("torch_compile", "Compile the UNet (torch.compile)", False,
            "Faster sampling on CUDA after a warm-up of a minute or more on the first image of each size; "
            "needs a C++ compiler (and Triton on Linux).", section="Generation"),
    Setting("allow_pickle_checkpoints", "Allow pickle checkpoints (.ckpt, .bin)", False,
            "Pickle files can run arbitrary code when loaded. Only allow them for files "
            "whose source you trust; prefer .safetensors.", section="Generation"),
    Setting("preview_every", "Live preview every N steps", 2,
            "How often the Create tab shows the image in progress (0 turns previews off).",
            minimum=0, maximum=50, section="Generation"),
    Setting("default_model", "Default model", "",
            "The model selected when the studio opens (a name from the model list).", section="Generation"),
    Setting("generation_backend", "Where images are made", "this_computer",
            "This computer: the device above. Ray cluster: big collections and prompt batches are spread "
            "over the workers of a Ray cluster (one GPU each, or CPU cores where there is none); the images "
            "come back here, where they are signed and saved. Needs Ray (pip install "
            "'provenance-studio[cluster]').", choices=("this_computer", "ray_cluster"), section="Generation"),
    Setting("ray_address", "Ray cluster address", "local",
            "auto: the cluster this computer joined with `ray start`; HOST:6379: a cluster's head node; "
            "ray://HOST:10001: a remote cluster through Ray Client; local: a cluster the studio starts on "
            "this computer (all its GPUs or cores) and stops after the run. See docs/cluster.md.",
            section="Generation"),
    Setting("ray_cpus_per_worker", "CPU cores per cluster worker", 2,
            "On a cluster without GPUs each worker takes this many cores and runs torch with as many "
            "threads (workers with a GPU take one GPU each).", minimum=1, maximum=512, section="Generation"),
    Setting("ray_max_workers", "Most cluster workers", 0,
            "At most this many workers for one run (0: as many as the cluster has room for).",
            minimum=0, maximum=100_000, section="Generation"),
    Setting("storage_backend", "Where published works are kept", "local",
            "Local: the studio's own store, served from this computer only (works offline). "
            "Kubo: an IPFS node you run. Pinning: a pinning service that keeps works online "
            "while this computer is off.", choices=("local", "kubo", "pinning"), section="Storage"),
    Setting("kubo_api_url", "Kubo node address", "http://127.0.0.1:5001",
            "The RPC API address of your Kubo (IPFS) node; used when works are kept on Kubo.", section="Storage"),
    Setting("pinning_endpoint", "Pinning service address", "",
            "The service's Pinning Service API address, e.g. https://api.pinata.cloud/psa. "
            "Its access token is not kept in the settings: set STUDIO_PINNING_TOKEN or "
            "give a token file.", section="Storage"),
    Setting("pinning_car_upload_url", "Pinning service upload address", "",
            "Where the service accepts uploads of CAR files, if it offers one. Without it the "
            "service must find the content on the IPFS network by itself.", section="Storage"),
    Setting("gateways", "Gateways", "https://ipfs.io, https://dweb.link",
            "IPFS gateways to fetch from, in order, separated by commas (https:// only; "
            "http:// only for this computer). Whatever a gateway sends is checked against the CID.", section="Storage"),
    Setting("local_gateway_port", "Local gateway port", 8080,
            "Port on 127.0.0.1 where the studio serves its local store to your browser "
            "(0 picks any free port).", minimum=0, maximum=65535, section="Storage"),
    Setting("fetch_max_bytes", "Largest download (bytes)", 64 * 1024 * 1024,
            "Content larger than this is refused when fetching ipfs://, https:// or data: links.",
            minimum=1024, maximum=64 * 1024 ** 3, section="Storage"),
    Setting("wallet_idle_lock_minutes", "Lock the wallet after (minutes idle)", 15,
            "The wallet locks itself after this many minutes without a signature (0 never locks).",
            minimum=0, maximum=1440, section="Wallet & networks"),
    Setting("network", "Network", "devnet",
            "The network the wallet signs on: the built-in devnet, a test network, a mainnet (real money), "
            "or a custom network added with `studio network add`.", section="Wallet & networks"),
    Setting("rpc_urls", "RPC URLs", "",
            "Replace a built-in network's public RPC: one network=URL per line, e.g. "
            "sepolia=https://sepolia.example/your-key", section="Wallet & networks", multiline=True),
    Setting("works_folder", "Works folder", "",
            "Where generated images are saved, one PNG per work with its provenance. The default is "
            "the works folder inside the studio's own data folder.", section="General"),
    Setting("first_run_done", "First-run welcome done", False,
            "Whether the welcome (wallet, works folder, models) has been shown; untick it to see it "
            "again at the next start.", section="General"),
    Setting("marketplace_addresses", "Marketplace addresses", "",
            "The studio marketplace contract on each network other than the devnet (where the studio "
            "deploys its own): one network=0x… address per line, e.g. sepolia=0x1234…",
            section="Wallet & networks", multiline=True),
    Setting("devnet_allowed_origins", "Devnet: allowed web origins", "",
            "Browser origins that may use `studio devnet serve` (space or comma separated), e.g. "
            "chrome-extension://nkbihfbeogaeaoehlefnkodbefgpgknn for MetaMask or http://localhost:3000 for a dapp "
            "you are building. Empty: no web page can reach the devnet.", section="Wallet & networks"),
    Setting("theme", "Theme", "dark",
            "Dark or light colours for the whole window; a change applies when you press Save.",
            choices=("dark", "light"), section="Appearance"),
)
SETTINGS_BY_KEY = {s.key: s for s in SETTINGS}


@dataclass
class Config:
    """The settings of one studio home, read from and written to ``settings.json``."""

    paths: StudioPaths
    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values.get(key, SETTINGS_BY_KEY[key].default)

    def set(self, key: str, value: Any) -> None:
        setting = SETTINGS_BY_KEY[key]
        if not setting.accepts(value):
            from studio.errors import InputError

            raise InputError(f"{value!r} is not a valid value for “{setting.label}”.",
                             hint=setting.help)
        self.values[key] = value
        if key == "works_folder":
            self.paths = _with_works_folder(self.paths, value)

    def model_folders(self) -> list[Path]:
        folders = [self.paths.models_dir]
        extra = self["models_folder"]
        if extra:
            folders.append(Path(extra).expanduser())
        return folders

    def save(self) -> None:
        """Write atomically, so a full disk or a crash never leaves half a settings file."""
        atomic_write_text(self.paths.settings_file, json.dumps(self.values, indent=2, sort_keys=True))


def _with_works_folder(paths: StudioPaths, folder: str) -> StudioPaths:
    """``paths`` whose ``works_dir`` is the chosen works folder (the default one when empty)."""
    return replace(paths, works_folder=Path(folder).expanduser() if folder else None)


def load_config(paths: StudioPaths | None = None) -> Config:
    """Read settings, dropping unknown keys and bad values (each logged) in favour of defaults."""
    paths = (paths or studio_paths()).ensure()
    values: dict[str, Any] = {}
    from studio import safejson
    from studio.errors import NotFound, StudioError

    try:
        raw = safejson.load_file(paths.settings_file, what="The settings file", max_bytes=1024 * 1024)
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
    except NotFound:
        raw = {}
    except (StudioError, ValueError) as exc:
        log.warning("Settings file %s is unreadable (%s); using defaults.", paths.settings_file, exc)
        raw = {}
    for key, value in raw.items():
        setting = SETTINGS_BY_KEY.get(key)
        if setting is None:
            log.warning("Ignoring unknown setting %r.", key)
        elif not setting.accepts(value):
            log.warning("Setting %r has a bad value %r; using the default %r.", key, value, setting.default)
        else:
            values[key] = value
    # the chosen works folder is created when a work is first saved (it may be on a drive not yet mounted)
    return Config(_with_works_folder(paths, values.get("works_folder", "")), values)
