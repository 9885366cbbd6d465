"""NFT metadata: OpenSea fields, validation with clear errors, canonical bytes and CID."""
from __future__ import annotations

import json

import pytest

from studio.errors import InputError
from studio.storage.cid import Cid
from studio.storage.metadata import Attribute, NftMetadata, canonical_json
from studio.storage.unixfs import add_bytes

IMAGE = "ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"


def _work(**changes) -> NftMetadata:
    fields = dict(name="Dawn #1", description="A ë-dawn", image=IMAGE,
                  attributes=(Attribute("Palette", "warm"), Attribute("Steps", 4, "number", max_value=50),
                              Attribute("Created", 1764374400, "date")),
                  background_color="1A2B3C", provenance={"manifest": "bafy-later", "model": "demo"})
    fields.update(changes)
    return NftMetadata(**fields)


def test_same_work_gives_the_same_bytes_and_cid() -> None:
    first, second = _work(), _work(provenance={"model": "demo", "manifest": "bafy-later"})
    assert first.to_bytes() == second.to_bytes()
    data = first.to_bytes()
    assert b" " not in data.replace(b"Dawn #1", b"").replace(b"A \xc3\xab-dawn", b"")
    assert "ë".encode() in data
    assert list(json.loads(data)) == sorted(json.loads(data))
    assert first.cid == str(add_bytes(data, cid_version=1).cid)
    assert Cid.parse(first.cid).codec == 0x55


def test_opensea_fields_round_trip() -> None:
    work = _work(animation_url="ipfs://QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn/a.mp4",
                 external_url="https://example.org/dawn", extra={"edition": 1})
    data = json.loads(work.to_bytes())
    assert data["attributes"][1] == {"trait_type": "Steps", "value": 4, "display_type": "number", "max_value": 50}
    assert data["background_color"] == "1A2B3C" and data["edition"] == 1
    assert NftMetadata.from_json(work.to_bytes()) == work


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": " "}, "needs a name"),
    ({"image": None}, "needs an image"),
    ({"image": "file:///tmp/a.png"}, "not an ipfs://"),
    ({"image": "ipfs://nonsense"}, "not a CID"),
    ({"background_color": "#ffffff"}, "six hex digits"),
    ({"external_url": "javascript:alert(1)"}, "https://"),
    ({"attributes": ({"trait_type": "Mood", "value": "calm", "display_type": "number"},)}, "needs a number"),
    ({"attributes": ({"trait_type": "Size", "value": 1, "display_type": "huge"},)}, "Unknown display_type"),
    ({"attributes": ({"trait_type": "When", "value": -5, "display_type": "date"},)}, "Unix timestamp"),
    ({"attributes": ({"trait_type": "Level", "value": float("nan")},)}, "finite"),
    ({"provenance": {"bad": object()}}, "cannot be written as JSON"),
    ({"extra": {"name": "other"}}, "clash"),
    ({"name": 5}, "must be text"),
])
def test_bad_metadata_is_refused_with_a_clear_error(changes: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        _work(**changes)


def test_from_json_rejects_non_objects() -> None:
    with pytest.raises(InputError, match="JSON object"):
        NftMetadata.from_json("[1, 2]")
    with pytest.raises(InputError, match="not valid JSON"):
        NftMetadata.from_json("{")
    with pytest.raises(InputError):
        canonical_json({"x": float("inf")})
