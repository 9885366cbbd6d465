"""Text from outside shown to people: `printable` and `json_line`, and commands and views that show
strangers' names (a collection's on-chain name, a token's metadata) through them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.text import is_printable, json_line, printable

#: every kind of character a terminal or a text layout obeys
HOSTILE = ("name\x1b[2J\x1b[1A\x1b[2K\x1b]0;title\x07\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\r\x00\x7f"
           "\x85\x9b31m\u202egnp.exe\u202c\u2066\u2069\u200e\u200f\u061c\u2028\u2029\ufeff\U000e0041\n"
           "  signed by 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 (signature valid)")
OBEYED = [chr(c) for c in range(0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)] + \
    ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f",
     "\u061c", "\u2028", "\u2029", "\ufeff", "\U000e0041"]


def raw(text: str, *, allow_newlines: bool = False) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text if c in OBEYED and not (allow_newlines and c == "\n")]


def test_printable_shows_every_control_format_and_line_character_as_an_escape() -> None:
    shown = printable(HOSTILE)
    assert raw(shown) == [] and "\n" not in shown
    for escape in ("\\x1b[2J", "\\x1b]0;title\\x07", "\\r", "\\x00", "\\x7f", "\\x85", "\\x9b31m", "\\u202e",
                   "\\u2066", "\\u2028", "\\ufeff", "\\U000e0041", "\\n  signed by"):
        assert escape in shown
    assert not is_printable(HOSTILE) and is_printable(shown) and printable(shown) == shown  # idempotent


def test_printable_keeps_ordinary_text_of_every_script_as_it_is() -> None:
    for text in ("a lighthouse, oil painting", "Phare — 灯台 · マグロ", "café naïve", "مرحبا بالعالم", "नमस्ते",
                 "👩‍🎨 artist", "🏳️‍🌈", "C:\\Users\\me\\works", "tab\tand\\x1b literally", ""):
        expected = text.replace("\t", "\\t")
        assert printable(text) == expected, text


def test_multiline_keeps_line_breaks_and_tabs_but_never_a_carriage_return() -> None:
    shown = printable("line one\r\n\tline two\x1b[1A\u2028three", multiline=True)
    assert shown == "line one\\r\n\tline two\\x1b[1A\\u2028three"
    assert raw(shown, allow_newlines=True) == ["U+0009"]  # the tab, kept on purpose


def test_undecodable_bytes_of_a_file_name_are_shown_as_bytes() -> None:
    name = b"work-\xff\x9b.png".decode("utf-8", "surrogateescape")
    assert printable(name) == "work-\\xff\\x9b.png"
    line = json_line({"path": name})
    line.encode("utf-8")  # a lone surrogate would make print() raise here
    assert json.loads(line) == {"path": name}


def test_json_line_is_terminal_safe_and_gives_the_exact_value_back() -> None:
    value = {"prompt": HOSTILE, "emoji": "👩‍🎨", "nested": [HOSTILE, {"k\u202e": 1}]}
    for indent in (None, 2):
        text = json_line(value, indent=indent)
        assert raw(text, allow_newlines=indent is not None) == []
        assert json.loads(text) == value
    assert "\n" not in json_line(value) and "👩‍🎨" in json_line(value)


# --- where strangers' names are shown -------------------------------------------------------------

def test_collection_list_shows_an_on_chain_name_with_escapes(studio_home: Path, capsys) -> None:
    from studio.chain.networks import DEVNET_CHAIN_ID
    from studio.cli.main import main
    from studio.library.db import Collection, Library

    with Library.default() as library:
        library.upsert_collection(Collection(
            chain_id=DEVNET_CHAIN_ID, address="0x5FbDB2315678afecb367f032d93F642f64180aa3", name=HOSTILE,
            symbol="X\x1b[8m",
            owner="0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", royalty_receiver=None, royalty_bps=0,
            description="", image_cid=None, deploy_tx=None, created=0.0))
    assert main(["collection", "list", "--network", "devnet"]) == 0
    out = capsys.readouterr().out
    assert raw(out, allow_newlines=True) == [] and len(out.splitlines()) == 1
    assert "\\x1b[2J" in out and "X\\x1b[8m" in out
    assert main(["collection", "list", "--network", "devnet", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["name"] == HOSTILE


def test_market_rows_show_strangers_metadata_with_escapes(qtbot) -> None:
    from PySide6.QtCore import Qt

    from studio.ui.widgets.market_tables import LISTING, Card, ListingsModel, MarketItem
    from studio.workflows.market import TokenDetails

    details = TokenDetails(name=HOSTILE, description=HOSTILE, image=None, artist="0x\u202e1234", royalty_bps=500,
                           provenance=True, verdict="unproven")
    model = ListingsModel()
    model.set_rows([MarketItem(LISTING, 31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3", 1,
                               "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", 10 ** 18, card=Card(details))])
    for column in range(model.columnCount()):
        for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            text = model.data(model.index(0, column), role)
            assert text is None or raw(str(text), allow_newlines=role == Qt.ItemDataRole.ToolTipRole) == []
    assert "\\x1b[2J" in model.data(model.index(0, 1))
    assert model.data(model.index(0, model.COLUMNS.index("Provenance"))) == "Creator not proven"


def test_the_transaction_preview_shows_names_as_plain_text_with_escapes(qtbot) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    from studio.chain.transactions import DecodedCall, TxPreview
    from studio.ui.dialogs.tx_preview import TxPreviewDialog

    preview = TxPreview(network="Studio devnet", network_key="devnet", chain_id=1337, is_mainnet=False,
                        sender="0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
                        to="0x5FbDB2315678afecb367f032d93F642f64180aa3", to_name=HOSTILE, value_wei=0, data="0x",
                        call=DecodedCall(HOSTILE, "mint", (("uri", HOSTILE), ("count", 1))), gas_limit=100_000,
                        max_fee_per_gas=1, max_priority_fee_per_gas=None, nonce=0, action=f"Minting {HOSTILE}")
    dialog = TxPreviewDialog(preview)
    qtbot.addWidget(dialog)
    for label in dialog.findChildren(QLabel):
        assert raw(label.text(), allow_newlines=True) == [], label.text()
        if HOSTILE.split("\x1b")[0] in label.text():
            assert label.textFormat() == Qt.TextFormat.PlainText


@pytest.mark.parametrize("what", ["gallery title", "verify summary"])
def test_gallery_texts_from_files_are_escaped(what: str) -> None:
    from studio.provenance.verify import Verdict
    from studio.ui.state.gallery import verify_summary

    if what == "verify summary":
        verdict = Verdict("x.png", "tampered", problems=(f"The file {HOSTILE} is odd.",))
        assert raw(verify_summary(verdict)) == [] and "\\x1b[2J" in verify_summary(verdict)
    else:
        assert printable(HOSTILE).count("\n") == 0
