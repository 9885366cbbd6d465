"""The Python API for scripts (storage part): CIDs as Kubo prints them, publishing to the
configured backend, verified fetching with the configured gateways, CAR export; no Qt, cheap
to import."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from studio import api
from studio.config import load_config
from studio.errors import InputError, NotFound
from studio.generation.request import UpscaleRecord
from studio.storage.car import read_car
from studio.storage.cid import Cid
from studio.storage.gateway import Gateway
from studio.storage.store import LocalStore
from studio.workflows.generate import read_recipe

from known_cids import HELLO_V0, HELLO_V1

REPO = Path(__file__).resolve().parents[1]


def _settings(**values: object) -> None:
    config = load_config()
    for key, value in values.items():
        config.set(key, value)
    config.save()


def test_cid_of_matches_kubo(hello: Path, tmp_path: Path) -> None:
    assert api.cid_of(hello) == HELLO_V0
    assert api.cid_of(str(hello), cid_version=1) == HELLO_V1
    (tmp_path / "empty").mkdir()
    assert api.cid_of(tmp_path / "empty") == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"
    with pytest.raises(InputError, match="cid_version must be 0 or 1"):
        api.cid_of(hello, cid_version=2)


def test_publish_to_the_default_local_store_then_fetch_back(hello: Path) -> None:
    cid = api.publish(hello, cid_version=1)
    assert cid == HELLO_V1 and LocalStore.default().pins() == [cid]
    _settings(gateways="")  # nothing but the local store
    assert api.fetch(f"ipfs://{cid}") == b"hello world"
    assert api.fetch("data:text/plain;base64,aGk=") == b"hi"
    with pytest.raises(InputError, match="does not open file"):
        api.fetch("file:///etc/passwd")


def test_publish_to_a_named_or_given_backend(hello: Path, tmp_path: Path) -> None:
    other = LocalStore(tmp_path / "other")
    assert api.publish(hello, other) == HELLO_V0 and other.is_pinned(Cid.parse(HELLO_V0))
    assert not LocalStore.default().pins()  # the given backend, not the configured one
    _settings(pinning_endpoint="https://pins.example.org/psa")
    with pytest.raises(InputError, match="STUDIO_PINNING_TOKEN"):
        api.publish(hello, "pinning")


def test_fetch_uses_the_configured_gateways_and_limit(tmp_path: Path) -> None:
    elsewhere = LocalStore(tmp_path / "another-computer")
    small = elsewhere.add_bytes(b"from a loopback gateway", cid_version=1)
    big = elsewhere.add_bytes(b"y" * 3000, cid_version=1)
    with Gateway(elsewhere, port=0) as gateway:
        _settings(gateways=gateway.url, fetch_max_bytes=2048)
        assert api.fetch(f"ipfs://{small}") == b"from a loopback gateway"
        with pytest.raises(InputError, match="limit of 2,048"):
            api.fetch(f"ipfs://{big}")
        assert api.fetch(f"ipfs://{big}", max_bytes=4096) == b"y" * 3000
    _settings(gateways="")
    with pytest.raises(NotFound, match="no gateway is configured"):
        api.fetch(f"ipfs://{elsewhere.add_bytes(b'nowhere else', cid_version=1)}", gateways=[])


def test_export_car_writes_the_blocks_under_the_returned_root(hello: Path, tmp_path: Path) -> None:
    out = tmp_path / "hello.car"
    assert api.export_car(hello, out, cid_version=1) == HELLO_V1
    with open(out, "rb") as stream:
        roots, blocks = read_car(stream)
        assert [str(r) for r in roots] == [HELLO_V1] and [b for _, b in blocks] == [b"hello world"]


def test_importing_the_api_loads_neither_qt_nor_the_storage_backends() -> None:
    code = ("import sys, studio.api; bad = [m for m in ('PySide6', 'torch', 'requests', 'studio.storage.unixfs') "
            "if m in sys.modules]; print(bad)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_generate_with_create_options_then_upscale_and_read_back(studio_home: Path, demo_model_dir: Path,
                                                                 tmp_path: Path) -> None:
    import shutil

    from studio.paths import studio_paths

    shutil.copytree(demo_model_dir, studio_paths().demo_model_dir)
    [path] = api.generate("a (red:1.2) fox", seed=3, steps=2, width=64, height=64, out_dir=tmp_path,
                          scheduler="dpmpp_2m", sigmas="karras", clip_skip=2)
    bigger = api.upscale(path, scale=2.0, out_dir=tmp_path / "big")
    info = api.png_info(path)
    assert info.source == "studio" and (info.request.sigmas, info.request.clip_skip) == ("karras", 2)
    assert api.png_info(bigger).fields["mode"] == "upscale"
    with Image.open(bigger) as picture:
        assert picture.size == (128, 128)
    assert read_recipe(bigger).upscale == UpscaleRecord(upscaler="lanczos", scale=2.0)
    with pytest.raises(NotFound, match="gone.pth does not exist"):
        api.upscale(path, upscaler=str(tmp_path / "gone.pth"))
