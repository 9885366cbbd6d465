"""Avatars end to end with the tiny demo pipeline: presets, photos, sheets and resumable collections."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from PIL import Image

from studio.assets import asset_path
from studio.cancel import CancelToken
from studio.errors import Cancelled, InputError, ModelError, NotFound
from studio.generation.avatars import (AvatarRequest, FACE_ID_NOTICE, IpAdapterFiles, check_adapter_licence,
                                       find_adapter, find_ip_adapters, find_preset, generation_request, load_presets,
                                       save_user_preset, delete_user_preset, shipped_presets)
from studio.generation.demo import demo_model_info
from studio.generation.engine import Engine, image_sha256
from studio.generation.request import ModelFamily, ModelFormat, ModelInfo
from studio.generation.traits import load_trait_table
from studio.provenance.manifest import SignedManifest
from studio.provenance.png_text import read_png_text
from studio.workflows.avatars import (PROGRESS_FILE, collection_rarity, collection_status, make_character_sheet,
                                      make_collection, make_from_photo, make_single)
from studio.workflows.batch import read_manifest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generation"))
from tiny_ip_adapter import build_tiny_ip_adapter  # noqa: E402

TRAITS = asset_path("examples", "avatar_traits.yaml")


class DemoCatalog:
    config = None

    def __init__(self, folder: Path) -> None:
        self.info = demo_model_info(folder)

    def resolve(self, name: str) -> ModelInfo:
        if name != "demo":
            raise NotFound(f"No model called “{name}”.")
        return self.info


@pytest.fixture(scope="module")
def engine(demo_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine(DemoCatalog(demo_model_dir), hash_cache=tmp_path_factory.mktemp("h") / "hashes.json")


def manifest_of(path: Path) -> SignedManifest:
    return SignedManifest.from_json(read_png_text(path)["studio:provenance"])


def photo() -> Image.Image:
    image = Image.new("RGB", (96, 72), (200, 120, 40))
    for x in range(96):
        image.putpixel((x, x % 72), (10, 200, 90))
    return image


def test_presets_give_square_avatars_with_the_preset_recipe(engine: Engine, tmp_path: Path) -> None:
    preset = find_preset("pixel_art")
    works = make_single(AvatarRequest("a fox knight", preset="pixel_art", seed=5, count=2, size=64, steps=2),
                        engine, tmp_path, c2pa=None, library=None)
    assert [w.recipe.seed for w in works] == [5, 6]
    for work in works:
        with Image.open(work.path) as image:
            assert image.size == (64, 64)
        manifest = manifest_of(work.path).manifest
        assert manifest.pipeline == "avatar"
        assert manifest.prompt == preset.prompt_for("a fox knight") and manifest.prompt.startswith("a fox knight, pixel art")
        assert manifest.negative_prompt == preset.negative_prompt
        sd1 = preset.settings_for("sd1")
        assert (manifest.scheduler, manifest.guidance, manifest.steps) == (sd1.scheduler, sd1.guidance, 2)
        assert manifest.parents == () and manifest.strength is None


def test_photo_mode_records_the_photo_hash_as_a_parent(engine: Engine, tmp_path: Path) -> None:
    source = photo()
    works = make_from_photo(AvatarRequest("me as a comic hero", preset="comic", seed=1, size=64, steps=4,
                                          strength=0.5), source, engine, tmp_path, c2pa=None, library=None)
    manifest = manifest_of(works[0].path).manifest
    square = source.crop((12, 0, 84, 72))  # the centred square the avatar starts from
    assert [(p.role, p.sha256) for p in manifest.parents] == [("init", image_sha256(square))]
    assert manifest.pipeline == "avatar" and manifest.strength == 0.5
    with Image.open(works[0].path) as image:
        assert image.size == (64, 64)
    with pytest.raises(InputError, match="strength"):
        make_from_photo(AvatarRequest("x", strength=0.0, size=64, steps=2), source, engine, tmp_path, c2pa=None,
                        library=None)


def test_character_sheet_keeps_the_reference_and_seeds_and_makes_a_grid(engine: Engine, tmp_path: Path) -> None:
    sheet = make_character_sheet(AvatarRequest("the same fox", seed=40, count=4, size=64, steps=2, strength=0.6),
                                 photo(), engine, tmp_path, c2pa=None, library=None)
    assert [w.recipe.seed for w in sheet.works] == [40, 41, 42, 43]
    parents = {manifest_of(w.path).manifest.parents for w in sheet.works}
    assert len(parents) == 1  # every variation names the same reference
    with Image.open(sheet.grid) as grid:
        assert grid.size == (2 * 64 + 3 * 4, 2 * 64 + 3 * 4)
    with pytest.raises(InputError, match="2 to 16 variations"):
        make_character_sheet(AvatarRequest("x", count=1, size=64, steps=2), photo(), engine, tmp_path, c2pa=None,
                             library=None)


def test_user_presets_are_saved_edited_and_deleted(tmp_path: Path) -> None:
    anime = find_preset("anime")
    edited = save_user_preset({**anime.to_dict(), "prompt": "{prompt}, watercolour anime"})
    assert edited.user and find_preset("anime").prompt == "{prompt}, watercolour anime"
    save_user_preset({"key": "noir", "label": "Film noir", "prompt": "{prompt}, film noir",
                      "families": {"sd1": {"size": 512, "steps": 20, "guidance": 6, "scheduler": "euler"}}})
    keys = [p.key for p in load_presets()]
    assert keys[:len(shipped_presets())] == [p.key for p in shipped_presets()] and keys[-1] == "noir"
    delete_user_preset("anime")
    assert find_preset("anime") == anime
    with pytest.raises(InputError, match="needs \\{prompt\\}"):
        save_user_preset({"key": "bad", "prompt": "no subject", "families": anime.to_dict()["families"]})
    with pytest.raises(NotFound):
        delete_user_preset("pixel_art")


def test_sdxl_presets_are_1024_and_turbo_models_keep_their_own_settings() -> None:
    preset = find_preset("oil_painting")
    sdxl = ModelInfo("x", Path("x"), ModelFamily.SDXL, ModelFormat.DIFFUSERS)
    request = generation_request(AvatarRequest("a cat"), preset, sdxl)
    assert (request.width, request.height) == (1024, 1024)
    turbo = ModelInfo("t", Path("t"), ModelFamily.SDXL, ModelFormat.DIFFUSERS, variant="turbo")
    fast = generation_request(AvatarRequest("a cat"), preset, turbo)
    assert (fast.steps, fast.guidance, fast.scheduler) == (4, 0.0, "euler_a")
    with pytest.raises(InputError, match="description or a photo"):
        generation_request(AvatarRequest("  "), preset, sdxl)


def test_adapters_are_found_with_their_encoders_and_missing_ones_are_explained(tmp_path: Path) -> None:
    models = tmp_path / "models"
    report = find_ip_adapters([models])
    assert report.available == () and "image-to-image" in report.summary
    assert any("ip-adapter_sd15.safetensors" in line and str(models / "IP-Adapter" / "models") in line
               for line in report.downloads)
    weights = models / "IP-Adapter" / "models"
    weights.mkdir(parents=True)
    (weights / "ip-adapter_sd15.safetensors").write_bytes(b"w")
    (weights / "ip-adapter-plus_sd15.safetensors").write_bytes(b"w")
    faceid = models / "IP-Adapter-FaceID"
    faceid.mkdir()
    (faceid / "ip-adapter-faceid_sd15.bin").write_bytes(b"w")
    report = find_ip_adapters([models])
    assert report.available == (IpAdapterFiles(faceid / "ip-adapter-faceid_sd15.bin", None, "sd1", True),)
    assert len(report.incomplete) == 2 and "no image encoder" in report.incomplete[0]
    (weights / "image_encoder").mkdir()
    (weights / "image_encoder" / "config.json").write_text("{}")
    report = find_ip_adapters([models])
    names = [a.name for a in report.available]
    assert names == ["ip-adapter-faceid_sd15.bin", "ip-adapter-plus_sd15.safetensors", "ip-adapter_sd15.safetensors"]
    plain = report.available[2]
    assert plain.load_kwargs() == {"pretrained_model_name_or_path_or_dict": str(weights), "subfolder": "",
                                   "weight_name": "ip-adapter_sd15.safetensors",
                                   "image_encoder_folder": str(weights / "image_encoder"), "local_files_only": True}
    assert "ip-adapter_sd15.safetensors" not in " ".join(report.downloads)
    assert "non-commercial" in report.summary and report.for_family("sdxl") == ()
    with pytest.raises(InputError, match="non-commercial research only"):
        check_adapter_licence(report.available[0], acknowledged=False)
    check_adapter_licence(report.available[0], acknowledged=True)
    check_adapter_licence(plain, acknowledged=False)
    assert "InsightFace" in FACE_ID_NOTICE


@pytest.fixture(scope="module")
def tiny_adapter(demo_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> IpAdapterFiles:
    models = tmp_path_factory.mktemp("adapters") / "models"
    build_tiny_ip_adapter(models / "IP-Adapter", demo_model_dir)
    return find_adapter(find_ip_adapters([models]), "ip-adapter_sd15")


def test_a_photo_through_the_ip_adapter_is_recorded_with_the_adapter(engine: Engine, tiny_adapter: IpAdapterFiles,
                                                                     tmp_path: Path) -> None:
    from studio.generation.hashing import file_sha256

    source = photo()
    square = image_sha256(source.crop((12, 0, 84, 72)))
    request = AvatarRequest("me as a comic hero", preset="comic", seed=1, size=64, steps=2, strength=0.6)
    plain = make_from_photo(request, source, engine, tmp_path / "plain", c2pa=None, library=None)[0]
    both = make_from_photo(AvatarRequest(**{**request.__dict__, "adapter": tiny_adapter, "adapter_scale": 0.8}),
                           source, engine, tmp_path / "both", c2pa=None, library=None)[0]
    manifest = manifest_of(both.path).manifest
    assert [(p.role, p.sha256) for p in manifest.parents] == [("init", square), ("ip_adapter", square)]
    assert [(a.name, a.sha256, a.weight) for a in manifest.adapters] == [
        ("ip-adapter_sd15.safetensors", file_sha256(tiny_adapter.path), 0.8)]
    assert manifest.pipeline == "avatar" and manifest_of(plain.path).manifest.adapters == ()
    with Image.open(plain.path) as a, Image.open(both.path) as b:
        assert a.tobytes() != b.tobytes()

    only = make_from_photo(AvatarRequest("me", seed=1, size=64, steps=2, strength=0.0, adapter=tiny_adapter,
                                         photo_as_init=False), source, engine, tmp_path / "only", c2pa=None,
                           library=None)[0]
    manifest = manifest_of(only.path).manifest
    assert [(p.role, p.sha256) for p in manifest.parents] == [("ip_adapter", square)]
    assert manifest.strength is None and only.recipe.mode == "txt2img"
    text_only = make_single(AvatarRequest("me", seed=1, size=64, steps=2, adapter=tiny_adapter), engine,
                            tmp_path / "text", c2pa=None, library=None)[0]
    assert manifest_of(text_only.path).manifest.adapters == ()


def test_faceid_adapters_need_the_licence_acknowledged(engine: Engine, tiny_adapter: IpAdapterFiles,
                                                       tmp_path: Path) -> None:
    faceid = IpAdapterFiles(tiny_adapter.path.with_name("ip-adapter-faceid_sd15.bin"), None, "sd1", True)
    request = AvatarRequest("me", seed=1, size=64, steps=2, adapter=faceid)
    with pytest.raises(InputError, match="non-commercial research only") as caught:
        make_from_photo(request, photo(), engine, tmp_path, c2pa=None, library=None)
    assert "--accept-noncommercial-licence" in caught.value.hint
    with pytest.raises(ModelError, match="face embeddings from InsightFace"):
        make_from_photo(AvatarRequest(**{**request.__dict__, "licence_acknowledged": True}), photo(), engine,
                        tmp_path, c2pa=None, library=None)
    assert not any(tmp_path.glob("*.png"))
    with pytest.raises(NotFound, match="ip-adapter_sd15.safetensors"):
        find_adapter(find_ip_adapters([tiny_adapter.path.parents[2]]), "ip-adapter-plus-face")


@pytest.mark.slow
def test_a_cancelled_collection_resumes_to_the_same_set_and_mints(engine: Engine, tmp_path: Path) -> None:
    table = load_trait_table(TRAITS)
    out = tmp_path / "drop"
    cancel = CancelToken()
    saved: list[int] = []

    def after(item, work) -> None:
        saved.append(item.index)
        if len(saved) == 3:
            cancel.cancel()

    with pytest.raises(Cancelled, match="Stopped after 3 of 6"):
        make_collection(table, 6, 7, out, engine, size=64, steps=2, cancel=cancel, on_saved=after, c2pa=None,
                        library=None)
    assert collection_status(out) == (3, 6)
    first_files = {p.name: p.read_bytes() for p in out.glob("*.png")}
    assert len(first_files) == 3
    with pytest.raises(InputError, match="other settings \\(seed"):
        make_collection(table, 6, 8, out, engine, size=64, steps=2, c2pa=None, library=None)

    progress = []
    result = make_collection(table, 6, 7, out, engine, size=64, steps=2, c2pa=None, progress=progress.append,
                             library=None)
    assert result.generated == 3 and progress[0].skipped == 3 and progress[-1].done == 6
    for name, data in first_files.items():
        assert (out / name).read_bytes() == data, name  # finished avatars were not made again

    fresh = make_collection(table, 6, 7, tmp_path / "fresh", engine, size=64, steps=2, c2pa=None, library=None)
    assert [i.attributes for i in fresh.items] == [i.attributes for i in result.items]
    for item in result.items:
        resumed = manifest_of(out / item.file).manifest
        uninterrupted = manifest_of(tmp_path / "fresh" / item.file).manifest
        assert (resumed.pixel_hash, resumed.prompt, resumed.seed) == (uninterrupted.pixel_hash, uninterrupted.prompt,
                                                                      uninterrupted.seed)
        assert resumed.pipeline == "avatar" and resumed.seed == 7 + item.index

    rows = read_manifest(result.manifest)  # what `studio batch-mint` reads
    assert [r.file.name for r in rows] == [i.file for i in result.items]
    assert dict(rows[0].attributes) == result.items[0].attributes
    assert rows[0].name == "Demo Avatars #1"
    rarity = json.loads((out / "rarity.json").read_text())
    assert rarity["total"] == 6 and sorted(a["rank"] for a in rarity["avatars"]) == [1, 2, 3, 4, 5, 6]
    assert collection_rarity(out).to_dict() == rarity
    assert (out / "rarity.csv").read_text().startswith("index,rank,score,Background,Outfit,Expression,Accessory")


@pytest.mark.slow
def test_a_crash_mid_item_is_redone_and_a_damaged_file_is_remade(engine: Engine, tmp_path: Path) -> None:
    table = load_trait_table(TRAITS)
    out = tmp_path / "drop"
    result = make_collection(table, 3, 1, out, engine, size=64, steps=2, c2pa=None, library=None)
    good = manifest_of(out / result.items[1].file).manifest.pixel_hash
    # a crash after the second image was written but before it was logged, with a torn log line
    lines = (out / PROGRESS_FILE).read_text().splitlines()
    (out / PROGRESS_FILE).write_text(lines[0] + "\n" + lines[1][:10])
    (out / result.items[2].file).write_bytes(b"half a png")
    again = make_collection(table, 3, 1, out, engine, size=64, steps=2, c2pa=None, library=None)
    assert again.generated == 2
    assert manifest_of(out / result.items[1].file).manifest.pixel_hash == good  # the same avatar, made again
    assert collection_status(out) == (3, 3)
    Image.open(out / result.items[2].file).verify()


def test_every_avatar_flow_records_its_works_in_the_library(engine: Engine, tmp_path: Path) -> None:
    """Single, photo, sheet and collection avatars all go through the one save path: each is a
    work of the library (the Gallery), a collection's as "<name> #n", also those an earlier run made."""
    from studio.library.db import Library, WorkQuery

    table = load_trait_table(TRAITS)
    with Library(tmp_path / "library.db") as library:
        single = make_single(AvatarRequest("a fox knight", seed=5, size=64, steps=2), engine, tmp_path / "a",
                             c2pa=None, library=library)
        photo_made = make_from_photo(AvatarRequest("me", seed=1, size=64, steps=2, strength=0.5), photo(), engine,
                                     tmp_path / "a", c2pa=None, library=library)
        sheet = make_character_sheet(AvatarRequest("the fox", seed=40, count=2, size=64, steps=2, strength=0.6),
                                     photo(), engine, tmp_path / "a", c2pa=None, library=library)
        made = make_collection(table, 2, 3, tmp_path / "drop", engine, size=64, steps=2, c2pa=None, library=None)
        assert library.count_works(WorkQuery()) == 4  # the collection above ran without a library
        again = make_collection(table, 2, 3, tmp_path / "drop", engine, size=64, steps=2, c2pa=None,
                                library=library)  # a rerun records what the earlier run made
        assert again.generated == 0
        # another seed: the same seed would remake drop's avatars, and one made in the same second as its
        # twin is the same file (the library knows a file by its bytes)
        grown = make_collection(table, 3, 7, tmp_path / "more", engine, size=64, steps=2, c2pa=None,
                                library=library, name="Foxes")
        paths = {Path(w.path).resolve(): w for w in library.works()}
        for work in (*single, *photo_made, *sheet.works):
            assert work.path.resolve() in paths and not work.warnings
        assert sheet.grid.resolve() not in paths  # the grid is a picture of the works, not a work
        titles = sorted(paths[(folder / item.file).resolve()].title
                        for folder, result in ((tmp_path / "drop", made), (tmp_path / "more", grown))
                        for item in result.items)
        assert titles == ["Demo Avatars #1", "Demo Avatars #2", "Foxes #1", "Foxes #2", "Foxes #3"]
        assert {w.model for w in paths.values()} == {"demo"} and all(w.owned for w in paths.values())
