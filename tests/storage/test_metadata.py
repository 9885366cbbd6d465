"""ERC-721 metadata: canonical bytes (same work, same CID), OpenSea fields, clear validation errors."""
from __future__ import annotations

import json

import pytest

from studio.errors import InputError
from studio.storage.metadata import Attribute, NftMetadata, canonical_json
from studio.storage.unixfs import add_bytes

IMAGE = "ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"


def make(**overrides) -> NftMetadata:
    fields = dict(name="Dawn #1", description="A quiet morning.", image=IMAGE,
                  external_url="https://example.org/works/1", background_color="1A2B3C",
                  attributes=(Attribute("Palette", "warm"), Attribute("Steps", 4, "number"),
                              Attribute(None, "tag"), Attribute("Created", 1764374400, "date")),
                  provenance={"manifest": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"})
    fields.update(overrides)
    return NftMetadata(**fields)  # type: ignore[arg-type]


def test_same_work_gives_the_same_bytes_and_cid() -> None:
    first, second = make(), make()
    assert first.to_bytes() == second.to_bytes()
    assert first.cid == second.cid == str(add_bytes(first.to_bytes(), cid_version=1).cid)
    assert make(description="Another morning.").cid != first.cid


def test_bytes_are_compact_sorted_utf8_json_in_the_opensea_shape() -> None:
    data = make(name="Aube é").to_bytes()
    text = data.decode("utf-8")
    assert "é" in text and " " not in text.replace("Aube é", "").replace("A quiet morning.", "")
    parsed = json.loads(data)
    assert list(parsed) == sorted(parsed)
    assert parsed["attributes"][1] == {"trait_type": "Steps", "value": 4, "display_type": "number"}
    assert parsed["attributes"][2] == {"value": "tag"}
    assert parsed["provenance"]["manifest"].startswith("bafkrei")
    assert canonical_json({"b": 1, "a": [1, {"d": 2, "c": 3}]}) == b'{"a":[1,{"c":3,"d":2}],"b":1}'


def test_round_trip_through_json() -> None:
    original = make(animation_url="ipfs://QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn/clip.mp4",
                    extra={"edition": 3})
    again = NftMetadata.from_json(original.to_bytes())
    assert again.to_bytes() == original.to_bytes()
    assert again.attributes == original.attributes


@pytest.mark.parametrize(("overrides", "message"), [
    ({"background_color": "#1A2B3C"}, "six hex digits"),
    ({"background_color": "12345"}, "six hex digits"),
    ({"name": "  "}, "needs a name"),
    ({"image": "file:///etc/passwd"}, "not an ipfs://"),
    ({"image": "ipfs://not-a-cid"}, "not a CID"),
    ({"external_url": "http://example.org"}, "https://"),
    ({"attributes": (Attribute("Steps", 4),), "extra": {"name": "x"}}, "clash"),
    ({"provenance": {"bad": float("nan")}}, "JSON"),
])
def test_invalid_metadata_is_refused_with_a_clear_message(overrides: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        make(**overrides)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"trait_type": "Steps", "value": "four", "display_type": "number"}, "needs a number"),
    ({"trait_type": "Mood", "value": 1, "display_type": "sparkly"}, "Unknown display_type"),
    ({"trait_type": "Made", "value": -5, "display_type": "date"}, "Unix timestamp"),
    ({"trait_type": "Level", "value": float("inf")}, "finite"),
    ({"trait_type": "Level", "value": [1]}, "text or a number"),
    ({"trait_type": "Level", "value": 5, "max_value": 3}, "max_value"),
])
def test_invalid_traits_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Attribute(**kwargs)


def test_bad_json_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not valid JSON"):
        NftMetadata.from_json(b"{nope")
    with pytest.raises(InputError, match="JSON object"):
        NftMetadata.from_json(b"[1, 2]")
    with pytest.raises(InputError, match="list of objects"):
        NftMetadata.from_json({"name": "x", "image": IMAGE, "attributes": "warm"})
