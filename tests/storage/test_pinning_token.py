"""The pinning service's token kept encrypted in the wallet: where the publish workflow looks for
it (token file, environment, unlocked wallet), `studio ipfs token set|remove`, `studio ipfs add`
using it against the loopback PinningServer stand-in, and the token never reaching a file in the
studio home (settings, wallet, log) or the output."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from loopback import serve
from standins import TOKEN, PinningServer

from studio.chain import keystore
from studio.chain.wallet import Wallet
from studio.cli.main import main
from studio.config import Config, load_config
from studio.errors import InputError
from studio.logs import mask_secrets, remember_secret, setup_logging
from studio.paths import studio_paths
from studio.storage.backends import TOKEN_ENV
from studio.storage.pinning import PinningService
from studio.storage.unixfs import add_path
from studio.workflows.publish import PINNING_SECRET, pinning_token, publish_work, store_from_config

PASSWORD = "correct horse battery"
HELLO_V1 = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"


@pytest.fixture(autouse=True)
def fast_wallet_and_clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keystore, "DEFAULT_KDF_N", 2**10)
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.delenv("STUDIO_WALLET_PASSWORD", raising=False)


@pytest.fixture
def wallet() -> Wallet:
    wallet = Wallet.default()
    wallet.create(PASSWORD)
    return wallet


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "password"
    path.write_text(PASSWORD + "\n")
    return path


@pytest.fixture
def hello(tmp_path: Path) -> Path:
    path = tmp_path / "hello.txt"
    path.write_bytes(b"hello world")
    return path


def _pinning_settings(url: str) -> Config:
    config = load_config()
    config.set("storage_backend", "pinning")
    config.set("pinning_endpoint", f"{url}/psa")
    config.set("pinning_car_upload_url", f"{url}/car")
    config.save()
    return load_config()


def _files_holding(root: Path, secret: str) -> list[str]:
    return [str(path) for path in root.rglob("*") if path.is_file() and secret.encode() in path.read_bytes()]


def test_the_pinning_backend_gets_its_token_from_the_unlocked_wallet(tmp_path: Path, wallet: Wallet,
                                                                    hello: Path, studio_home: Path) -> None:
    wallet.set_service_secret(PINNING_SECRET, TOKEN, PASSWORD)
    server = PinningServer(tmp_path / "service")
    server.pins_held_content_at_once = True
    with serve(server) as url:
        config = _pinning_settings(url)
        with pytest.raises(InputError, match="none was given") as locked:
            store_from_config(config, wallet)  # locked: the token cannot be read
        assert "studio ipfs token set" in locked.value.hint and "STUDIO_WALLET_PASSWORD" in locked.value.hint
        wallet.unlock(PASSWORD)
        store = store_from_config(config, wallet)
        assert isinstance(store, PinningService) and TOKEN not in repr(store)
        cid = publish_work(hello, config, backend=store)
        assert str(cid) == HELLO_V1 and server.store.is_pinned(cid)  # the stand-in checked the bearer token
    assert _files_holding(studio_home, TOKEN) == []


def test_a_token_file_then_the_environment_win_over_the_wallet(tmp_path: Path, wallet: Wallet,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    wallet.set_service_secret(PINNING_SECRET, "token-from-the-wallet", PASSWORD)
    wallet.unlock(PASSWORD)
    token_file = tmp_path / "token"
    token_file.write_text("token-from-the-file\n")
    token_file.chmod(0o600)
    monkeypatch.setenv(TOKEN_ENV, "token-from-the-environment")
    assert pinning_token(wallet, token_file=token_file) == "token-from-the-file"
    assert pinning_token(wallet) == "token-from-the-environment"
    monkeypatch.delenv(TOKEN_ENV)
    assert pinning_token(wallet) == "token-from-the-wallet"
    assert pinning_token(wallet, environ={TOKEN_ENV: "given-environment"}) == "given-environment"


def test_an_unlocked_wallet_without_a_token_says_how_to_keep_one(wallet: Wallet) -> None:
    wallet.unlock(PASSWORD)
    with pytest.raises(InputError, match="the wallet keeps none") as raised:
        pinning_token(wallet)
    assert "studio ipfs token set" in raised.value.hint and TOKEN_ENV in raised.value.hint
    with pytest.raises(InputError, match="none was given"):
        pinning_token(None)


def test_other_backends_need_no_token(wallet: Wallet) -> None:
    assert store_from_config(load_config(), wallet).name == "local"  # the wallet stays locked, untouched


# ---------------------------------------------------------------- the command line

def test_cli_token_set_then_add_publishes_with_the_wallets_token(tmp_path: Path, wallet: Wallet, hello: Path,
                                                                 password_file: Path, studio_home: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    assert main(["ipfs", "token", "set", "--token-file", str(token_file), "--password-file", str(password_file)]) == 0
    token_file.unlink()  # from now on the wallet is the only place the token is kept
    server = PinningServer(tmp_path / "service")
    server.pins_held_content_at_once = True
    with serve(server) as url:
        _pinning_settings(url)
        assert main(["ipfs", "add", str(hello), "--cid-version", "1", "--password-file", str(password_file)]) == 0
        out, err = capsys.readouterr()
        assert out.strip().endswith(HELLO_V1), err
        assert server.store.is_pinned(add_path(hello, cid_version=1).cid)

        # without the wallet password the token cannot be used, and the error says how
        assert main(["ipfs", "add", str(hello), "--cid-version", "1"]) == 2
        err = capsys.readouterr().err
        assert "studio ipfs token set" in err and "--password-file" in err

        assert main(["ipfs", "token", "remove", "--password-file", str(password_file)]) == 0
        assert "no longer kept" in capsys.readouterr().out
        assert main(["ipfs", "add", str(hello), "--password-file", str(password_file)]) == 2
        assert "the wallet keeps none" in capsys.readouterr().err
    assert _files_holding(studio_home, TOKEN) == []
    out, err = capsys.readouterr()
    assert TOKEN not in out + err


def test_cli_token_set_with_a_wrong_password_changes_nothing(tmp_path: Path, wallet: Wallet,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    wrong = tmp_path / "wrong"
    wrong.write_text("not the password\n")
    before = wallet.path.read_bytes()
    assert main(["ipfs", "token", "set", "--token-file", str(token_file), "--password-file", str(wrong)]) == 2
    assert wallet.path.read_bytes() == before
    assert TOKEN not in capsys.readouterr().err


def test_cli_token_set_without_a_wallet_says_to_create_one(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    assert main(["ipfs", "token", "set", "--token-file", str(token_file)]) != 0
    assert "studio wallet create" in capsys.readouterr().err
    assert not Wallet.default().exists


def test_the_token_is_never_an_argument(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ipfs", "token", "set", TOKEN]) == 2  # argparse refuses it
    assert main(["ipfs", "token", "set", "--token", TOKEN]) == 2


# ---------------------------------------------------------------- the log filter

def test_tokens_are_masked_in_log_lines_and_tracebacks(studio_home: Path) -> None:
    assert TOKEN not in mask_secrets(f"Authorization: Bearer {TOKEN}")
    assert mask_secrets("Authorization: Bearer abc") == "Authorization: Bearer [secret masked]"
    assert mask_secrets('{"token": "abcdef12"}') == '{"token": "[secret masked]"}'
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcnRpc3QifQ.S1gnatureP4rt_x"
    assert jwt not in mask_secrets(f"key {jwt}")
    assert mask_secrets("api key Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z end") == "api key [secret masked] end"
    for public in ("Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD", HELLO_V1,
                   "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "/tmp/pytest-of-root/pytest-12/test_Something0/x"):
        assert mask_secrets(public) == public
    masked = mask_secrets(f"Bearer {TOKEN}")
    assert mask_secrets(masked) == masked  # masking twice (two handlers) changes nothing more
    remember_secret("odd-shaped")
    assert mask_secrets("it was odd-shaped") == "it was [secret masked]"

    paths = studio_paths().ensure()
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        log_file = setup_logging(paths.logs_dir)
        try:
            raise RuntimeError(f"request failed with header Bearer {TOKEN}")
        except RuntimeError:
            logging.getLogger("studio.test").exception("upload failed for token=%s", TOKEN)
        for handler in root.handlers:
            handler.flush()
        text = log_file.read_text()
        assert "upload failed" in text and "RuntimeError" in text and TOKEN not in text
    finally:
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
