"""Hostile batch manifests, generated here: a CSV field over csv's limit, a FIFO or /dev/zero as the
manifest, images whose headers declare billions of pixels (BMP, GIF, JPEG, WebP, PNG). Each is a clear
error naming the file (exit 2 from the command, no traceback), and the other rows are still checked."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from studio.cli.main import main
from studio.errors import InputError
from studio.workflows.batch_manifest import ManifestErrors, read_manifest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile_images import BOMBS, bomb_bmp  # noqa: E402

COLLECTION = "0x" + "12" * 20


def _good_png(path: Path, shade: int) -> None:
    from PIL import Image

    Image.new("RGB", (8, 8), (shade, 40, 90)).save(path)


def test_a_csv_field_over_the_csv_limit_is_a_clear_input_error(tmp_path: Path, capsys, studio_home):
    _good_png(tmp_path / "a.png", 1)
    manifest = tmp_path / "drop.csv"
    manifest.write_text("file,name,description\n" + f'a.png,A,"{"x" * (200 * 1024)}"\n')
    with pytest.raises(InputError, match="not readable CSV after line 1: field larger than field limit"):
        read_manifest(manifest)
    assert main(["batch-mint", str(manifest), "--collection", COLLECTION, "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "drop.csv is not readable CSV" in err and "Traceback" not in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("name", ["drop.csv", "drop.json"])
def test_a_fifo_as_the_manifest_is_refused_at_once(tmp_path: Path, capsys, studio_home, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)  # nobody ever writes: reading it would hang
    with pytest.raises(InputError, match="not a regular file \\(a named pipe\\)"):
        read_manifest(fifo)
    assert main(["batch-mint", str(fifo), "--collection", COLLECTION, "--dry-run"]) == 2
    assert "named pipe" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_as_the_manifest_is_refused_at_once(tmp_path: Path, capsys, studio_home):
    link = tmp_path / "drop.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(InputError, match="character device"):
        read_manifest(link)
    assert main(["batch-mint", "/dev/zero", "--collection", COLLECTION, "--dry-run"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_decompression_bombs_are_row_errors_naming_the_file_and_every_other_row_is_checked(
        tmp_path: Path, capsys, studio_home):
    _good_png(tmp_path / "good.png", 10)
    names = []
    for kind, make in BOMBS.items():
        (tmp_path / f"bomb.{kind}").write_bytes(make())
        names.append(f"bomb.{kind}")
    # 10,000 × 10,000: over Pillow's limit, under twice it, where Pillow itself only warns
    (tmp_path / "quiet-bomb.bmp").write_bytes(bomb_bmp(10_000, 10_000))
    names.append("quiet-bomb.bmp")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.png")
        names.append("pipe.png")
    rows = ["file,name,price"] + [f"{name},{name},0.01" for name in names] + ["good.png,Good,-1"]
    manifest = tmp_path / "drop.csv"
    manifest.write_text("\n".join(rows) + "\n")

    with pytest.raises(ManifestErrors) as caught:
        read_manifest(manifest)
    problems = {(e.row, e.field): e.message for e in caught.value.errors}
    for row, name in enumerate(names, start=1):
        message = problems[(row, "file")]
        assert name in message, message
        expected = ("named pipe",) if name == "pipe.png" else ("pixels", "decompression bomb")
        assert all(words in message for words in expected), message
    assert (len(names) + 1, "price") in problems  # the row after the bombs was still checked

    assert main(["batch-mint", str(manifest), "--collection", COLLECTION, "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert all(name in err for name in names) and "Traceback" not in err
