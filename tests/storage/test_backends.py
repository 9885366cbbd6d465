"""Storage chosen in settings: backend_from_config picks the local store, a Kubo node (the
loopback STAND-IN of standins.py) or a pinning service (the loopback PinningServer), refuses
unusable combinations naming what to set, and `studio ipfs add` publishes through each."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from loopback import serve
from standins import TOKEN, KuboStandIn, PinningServer

from studio.cli.main import main
from studio.config import Config, load_config
from studio.errors import InputError
from studio.storage.backends import TOKEN_ENV, backend_from_config, fetcher_from_config, read_token_file
from studio.storage.kubo import KuboBackend
from studio.storage.pinning import PinningService
from studio.storage.store import LocalStore
from studio.storage.unixfs import add_path

HELLO_V1 = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"


def configured(**values: object) -> Config:
    """Settings saved to this test's studio home, as a user would leave them."""
    config = load_config()
    for key, value in values.items():
        config.set(key, value)
    config.save()
    return load_config()


@pytest.fixture
def hello(tmp_path: Path) -> Path:
    path = tmp_path / "hello.txt"
    path.write_bytes(b"hello world")
    return path


@pytest.fixture(autouse=True)
def no_token_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)


def test_the_local_store_is_the_default_and_lives_in_the_studio_home(studio_home: Path, hello: Path) -> None:
    backend = backend_from_config(load_config())
    assert isinstance(backend, LocalStore) and backend.name == "local"
    cid = backend.add_path(hello, cid_version=1)
    assert str(cid) == HELLO_V1 and backend.has(cid)
    assert backend.root.resolve().is_relative_to(studio_home.resolve())


def test_kubo_chosen_in_settings_publishes_to_that_node(tmp_path: Path, hello: Path) -> None:
    node = KuboStandIn(tmp_path / "node")
    with serve(node) as api:
        backend = backend_from_config(configured(storage_backend="kubo", kubo_api_url=api + "/"))
        assert isinstance(backend, KuboBackend) and backend.api_url == api
        cid = backend.add_path(hello, cid_version=1)
        assert str(cid) == HELLO_V1 and backend.has(cid) and node.store.is_pinned(cid)


def test_pinning_chosen_in_settings_uploads_the_car_and_pins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server = PinningServer(tmp_path)
    (tmp_path / "work.txt").write_bytes(b"a work kept online")
    with serve(server) as url:
        config = configured(storage_backend="pinning", pinning_endpoint=f"{url}/psa",
                            pinning_car_upload_url=f"{url}/car")
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        backend = backend_from_config(config)
        assert isinstance(backend, PinningService)
        backend.poll_interval = 0.01
        cid = backend.add_path(tmp_path / "work.txt", cid_version=1)
        assert cid == add_path(tmp_path / "work.txt", cid_version=1).cid
        assert server.store.is_pinned(cid) and backend.has(cid)
    assert TOKEN not in repr(backend) and all(TOKEN not in r.getMessage() for r in caplog.records)
    assert TOKEN not in config.paths.settings_file.read_text()


def test_an_explicit_token_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "from-the-environment")
    config = configured(pinning_endpoint="https://pins.example.org/psa")
    backend = backend_from_config(config, name="pinning", pinning_token="given-token")
    assert backend._token == "given-token"  # noqa: SLF001 - which token was taken is the point


@pytest.mark.parametrize(("values", "name", "message", "hint"), [
    ({"storage_backend": "pinning"}, None, "no pinning service address", "pinning_endpoint"),
    ({"pinning_endpoint": "https://pins.example.org/psa"}, "pinning", "needs an access token", TOKEN_ENV),
    ({"pinning_endpoint": "http://pins.example.org/psa"}, "pinning", "must use https://", "pinning_endpoint"),
    ({"pinning_endpoint": "https://pins.example.org/psa", "pinning_car_upload_url": "pins.example.org/car"},
     "pinning", "not a web address", "pinning_car_upload_url"),
    ({"kubo_api_url": ""}, "kubo", "not a web address", "kubo_api_url"),
    ({"kubo_api_url": "127.0.0.1:5001"}, "kubo", "not a web address", "kubo_api_url"),
    ({}, "filecoin", "not a storage backend", "local, kubo, pinning"),
])
def test_unusable_choices_say_what_to_set(values: dict, name: str | None, message: str, hint: str) -> None:
    with pytest.raises(InputError, match=message) as raised:
        backend_from_config(configured(**values), name=name)
    assert hint in str(raised.value)


def test_the_storage_choice_is_limited_to_the_three_backends() -> None:
    with pytest.raises(InputError, match="Where published works are kept"):
        load_config().set("storage_backend", "dropbox")


def test_gateways_and_size_limit_come_from_settings_unless_given() -> None:
    config = configured(gateways=" https://dweb.link/, http://127.0.0.1:8081 ,https://dweb.link,",
                        fetch_max_bytes=4096)
    fetcher = fetcher_from_config(config)
    assert fetcher.gateways == ("https://dweb.link", "http://127.0.0.1:8081") and fetcher.max_bytes == 4096
    assert fetcher.store is not None and fetcher.store.root == config.paths.data_dir / "ipfs"
    given = fetcher_from_config(config, gateways=["https://ipfs.io"], max_bytes=10)
    assert given.gateways == ("https://ipfs.io",) and given.max_bytes == 10
    assert fetcher_from_config(configured(gateways="")).gateways == ()  # local store only


@pytest.mark.parametrize(("text", "message"), [
    ("ipfs.io", "not a web address"),
    ("https://ipfs.io, http://gateway.example.org", "must be an https:// address"),
    ("https://ipfs.io/ipfs/", "base address only"),
])
def test_a_bad_gateway_list_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as raised:
        fetcher_from_config(configured(gateways=text))
    assert "Gateways" in str(raised.value)


def test_token_file_holds_the_token_alone(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = tmp_path / "token"
    good.write_text(f"  {TOKEN}\n")
    good.chmod(0o600)
    assert read_token_file(good) == TOKEN
    good.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        assert read_token_file(good) == TOKEN
    assert "other users" in caplog.text and TOKEN not in caplog.text
    (tmp_path / "two").write_text("one two\n")
    with pytest.raises(InputError, match="alone"):
        read_token_file(tmp_path / "two")
    with pytest.raises(InputError, match="does not exist"):
        read_token_file(tmp_path / "missing")


# ---------------------------------------------------------------- studio ipfs add, each backend

def test_cli_add_uses_the_configured_backend_and_the_override(tmp_path: Path, hello: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    node = KuboStandIn(tmp_path / "node")
    with serve(node) as api:
        configured(storage_backend="kubo", kubo_api_url=api)
        assert main(["ipfs", "add", str(hello), "--cid-version", "1"]) == 0
        assert capsys.readouterr().out.strip() == HELLO_V1
        assert node.store.is_pinned(add_path(hello, cid_version=1).cid)
        assert not LocalStore.default().pins()
        assert main(["ipfs", "add", str(hello), "--backend", "local"]) == 0
    cid = capsys.readouterr().out.strip()
    assert LocalStore.default().pins() == [cid] and not cid.startswith("bafk")  # CIDv0 by default


def test_cli_add_to_a_pinning_service_with_a_token_file(tmp_path: Path, hello: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    server = PinningServer(tmp_path)
    server.pins_held_content_at_once = True  # no real-time polling pauses in a command-line test
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    with serve(server) as url:
        configured(pinning_endpoint=f"{url}/psa", pinning_car_upload_url=f"{url}/car")
        code = main(["ipfs", "add", str(hello), "--backend", "pinning", "--cid-version", "1",
                     "--token-file", str(token_file)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip() == HELLO_V1 and server.store.is_pinned(add_path(hello, cid_version=1).cid)
    assert TOKEN not in out + err


def test_cli_add_to_pinning_without_a_token_says_how_to_give_one(hello: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    configured(storage_backend="pinning", pinning_endpoint="https://pins.example.org/psa")
    assert main(["ipfs", "add", str(hello)]) == 2
    err = capsys.readouterr().err
    assert TOKEN_ENV in err and "--token-file" in err
    assert os.environ.get(TOKEN_ENV) is None


def test_cli_add_to_a_kubo_node_that_is_down_fails_and_records_nothing(hello: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from loopback import closed_port_url

    configured(storage_backend="kubo", kubo_api_url=closed_port_url())
    assert main(["ipfs", "add", str(hello)]) == 1
    assert "could not be reached" in capsys.readouterr().err
    assert not LocalStore.default().pins()
