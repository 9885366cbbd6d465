"""``studio verify`` against hostile files, through the real command: exit codes, what reaches the
terminal (no control characters, no line a file can fake), and decompression bombs among good files."""
from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from studio.cli.main import main
from studio.provenance.embed import png_with_provenance
from studio.provenance.manifest import Manifest, SignedManifest, pixel_hash
from studio.workflows.generate import sign_manifest

ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ANVIL_ADDRESS_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
COLLECTION = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
#: clears the screen, moves up and erases a line, sets the window title, returns the carriage,
#: reverses the text, then starts two lines that look like a verified result
HOSTILE = ("a calm sea\x1b[2J\x1b[1A\x1b[2K\x1b]0;owned\x07\r\u202etxt.exe\u202c\x9b31m\u2028"
           f"\nverified\n  signed by {ANVIL_ADDRESS_0} (signature valid)")
#: characters that must never reach a terminal raw
FORBIDDEN = [chr(c) for c in range(0x20) if chr(c) != "\n"] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)] + \
    ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u2028", "\u2029"]


def noise(seed: int, size: int = 32) -> Image.Image:
    import random

    rng = random.Random(seed)
    return Image.frombytes("RGB", (size, size), bytes(rng.randrange(256) for _ in range(size * size * 3)))


def manifest(image: Image.Image, creator: str | None, prompt: str = "a fox", model: str = "demo") -> Manifest:
    return Manifest(generator_name="provenance-studio", generator_version="0.1.0", model_name=model,
                    model_sha256="ab" * 32, model_family="sd1", pipeline="txt2img", prompt=prompt,
                    negative_prompt=HOSTILE, seed=1, steps=2, guidance=7.0, scheduler="euler", width=image.width,
                    height=image.height, pixel_hash=pixel_hash(image), created="2026-11-28T12:00:00Z", creator=creator)


def signed_work(path: Path) -> Path:
    from eth_account import Account

    from studio.chain.transactions import LocalSigner

    image, account = noise(0), LocalSigner(Account.from_key(ANVIL_KEY_0))
    path.write_bytes(png_with_provenance(image, sign_manifest(manifest(image, account.address), account),
                                         parameters="a fox"))
    return path


def assert_terminal_safe(text: str) -> None:
    found = sorted({f"U+{ord(c):04X}" for c in text if c in FORBIDDEN})
    assert not found, f"raw control characters reached the output: {found}"


@pytest.fixture
def hostile_files(tmp_path: Path, studio_home: Path) -> dict[str, Path]:
    image = noise(1)
    unsigned = tmp_path / "unsigned.png"  # a studio manifest: hostile prompt and model name, no creator
    unsigned.write_bytes(png_with_provenance(image, SignedManifest(manifest(image, None, HOSTILE, "m\x1b]0;x\x07")),
                                             parameters="p"))
    a1111 = tmp_path / "a1111.png"
    info = PngInfo()
    info.add_text("parameters", HOSTILE + "\nSteps: 20, Sampler: Euler\x1b[31m, Seed: 1, Size: 32x32, Model: m\x1b[0m")
    noise(2).save(a1111, pnginfo=info)
    named = tmp_path / "evil\x1b[2J\u202egnp.png"  # the file name itself
    named.write_bytes(unsigned.read_bytes())
    return {"unsigned": unsigned, "a1111": a1111, "named": named}


def test_control_characters_from_a_file_never_reach_the_terminal(hostile_files, capsys) -> None:
    code = main(["verify", "--offline", *map(str, hostile_files.values())])
    out = capsys.readouterr().out
    assert code == 3  # the a1111 file carries no provenance; the others verify unsigned
    assert_terminal_safe(out)
    assert "\\x1b[2J" in out and "\\u202e" in out and "\\r" in out and "\\x9b" in out  # shown, not obeyed
    lines = out.splitlines()
    named = str(hostile_files["named"]).replace("\x1b", "\\x1b").replace("\u202e", "\\u202e")
    # each file gets its own block; a prompt cannot start a line, let alone a fake "verified ... signed by" one
    assert [line for line in lines if not line.startswith("  ")] == [
        f"{hostile_files['unsigned']}: verified", f"{hostile_files['a1111']}: no-provenance", f"{named}: verified"]
    assert not any(line.startswith("  signed by") for line in lines)
    assert sum("signed by" in line for line in lines) == 3  # inside each file's escaped prompt line


def test_json_output_is_terminal_safe_and_gives_the_exact_text_back(hostile_files, capsys) -> None:
    main(["verify", "--offline", "--json", str(hostile_files["unsigned"]), str(hostile_files["named"])])
    out = capsys.readouterr().out
    assert_terminal_safe(out.replace("\n", ""))
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["manifest"]["prompt"] == HOSTILE and first["manifest"]["negative_prompt"] == HOSTILE
    assert second["path"] == str(hostile_files["named"])


def test_error_messages_on_stderr_are_terminal_safe(tmp_path: Path, capsys) -> None:
    assert main(["verify", "--token", "devnet:" + COLLECTION + ":1\x1b]0;x\x07", str(tmp_path / "x.png")]) == 2
    assert_terminal_safe(capsys.readouterr().err.replace("\n", ""))


def test_unsigned_creator_claims_exit_3_and_say_not_proven(tmp_path: Path, studio_home: Path, capsys) -> None:
    image = noise(3)
    path = tmp_path / "claim.png"
    path.write_bytes(png_with_provenance(image, SignedManifest(manifest(image, ANVIL_ADDRESS_0)), parameters="p"))
    assert main(["verify", "--offline", str(path)]) == 3
    out = capsys.readouterr().out
    assert f"{path}: unproven" in out and f"claims {ANVIL_ADDRESS_0} as creator (not proven)" in out
    assert "signed by" not in out
    assert main(["verify", "--offline", "--json", str(path)]) == 3
    line = json.loads(capsys.readouterr().out)
    assert line["verdict"] == "unproven" and line["signer"] is None and line["signature_valid"] is None
    assert line["manifest"]["creator"] is None and line["manifest"]["claimed_creator"] == ANVIL_ADDRESS_0


# --- decompression bombs ----------------------------------------------------------------------------

def bomb_files(folder: Path) -> list[Path]:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8)).save(jpeg, format="JPEG")
    jpg = bytearray(jpeg.getvalue())
    sof = jpg.find(b"\xff\xc0")
    jpg[sof + 5:sof + 9] = struct.pack(">HH", 60_000, 60_000)
    webp = io.BytesIO()
    Image.new("RGB", (8, 8)).save(webp, format="WEBP", lossless=True)
    wp = bytearray(webp.getvalue())
    at = wp.find(b"VP8L") + 9
    wp[at:at + 4] = ((16383 | 16383 << 14) | (int.from_bytes(wp[at:at + 4], "little") & ~((1 << 28) - 1))
                     ).to_bytes(4, "little")
    files = {
        "a.bmp": b"BM" + struct.pack("<IHHI", 58, 0, 0, 54)
                 + struct.pack("<IiiHHIIiiII", 40, 20_000, 20_000, 1, 24, 0, 4, 0, 0, 0, 0) + b"\0" * 4,
        "b.gif": b"GIF89a" + struct.pack("<HH", 60_000, 60_000) + b"\x00\x00\x00,"
                 + struct.pack("<HHHH", 0, 0, 60_000, 60_000) + b"\x00\x02\x02\x4c\x01\x00;",
        "c.jpg": bytes(jpg), "d.webp": bytes(wp),
        "e.png": b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 10_000, 10_000, 8, 2, 0, 0, 0))
                 + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""),
    }
    paths = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    return paths


def test_decompression_bombs_exit_2_and_the_other_files_are_still_checked(tmp_path: Path, studio_home: Path,
                                                                         capsys) -> None:
    bombs = bomb_files(tmp_path)
    good = signed_work(tmp_path / "good.png")
    assert main(["verify", "--offline", *map(str, bombs), str(good), "--json"]) == 2
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["verdict"] for line in lines] == ["unreadable"] * 5 + ["verified"]
    for line, path in zip(lines, bombs):
        assert path.name in line["problems"][0] and "decompression bomb" in line["problems"][0]


@pytest.mark.slow
def test_decompression_bombs_through_the_installed_command_give_no_traceback(tmp_path: Path, studio_home: Path) -> None:
    bombs = bomb_files(tmp_path)
    good = signed_work(tmp_path / "good.png")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-m", "studio", "verify", "--offline", *map(str, bombs), str(good)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "DecompressionBomb" not in done.stderr
    assert done.stdout.count(": unreadable") == 5 and f"{good}: verified" in done.stdout
