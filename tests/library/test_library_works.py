"""The library's works for the Gallery: migration of older files, full-text search, filters, sort,
trash, imports of studio, foreign and broken files, thumbnails and exports, on real SQLite and files."""
from __future__ import annotations

import json
import random
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from studio.cancel import CancelToken
from studio.errors import Cancelled, InputError, NotFound
from studio.library import db as library_db
from studio.library.db import _CORE_MIGRATIONS, Library, MintAttempt, Token, Work, WorkQuery, normalize_tags
from studio.provenance.embed import read_embedded, write_png_with_provenance
from studio.provenance.manifest import Manifest, SignedManifest, pixel_hash
from studio.workflows.library import (add_saved_work, empty_trash, ensure_thumbnail, export_work, import_folder,
                                      originals_dir, thumbnail_job, thumbnail_path)

ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ARTIST = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"

A1111 = ("a lighthouse at dusk, oil painting\nNegative prompt: blurry\n"
         "Steps: 28, Sampler: Euler a, CFG scale: 6.5, Seed: 31415, Size: 64x64, Model: dreamlike-v2")
COMFY_PROMPT = {
    "3": {"class_type": "KSampler", "inputs": {"seed": 99, "steps": 20, "cfg": 8, "sampler_name": "euler",
                                               "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0]}},
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "comfy-model.safetensors"}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "glass bottle landscape", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "watermark", "clip": ["4", 1]}},
}
INVOKEAI = {"positive_prompt": "a castle on a hill", "negative_prompt": "", "width": 64, "height": 64,
            "seed": 2024, "steps": 30, "cfg_scale": 7.5, "scheduler": "euler",
            "model": {"name": "Dreamshaper 8", "base": "sd-1", "type": "main"}}


def noise(seed: int, size: int = 32, mode: str = "RGB") -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes(mode, (size, size), rng.randbytes(size * size * len(mode)))


def studio_png(path: Path, seed: int = 7, prompt: str = "a lighthouse at dusk", model: str = "demo") -> Path:
    image = noise(seed)
    manifest = Manifest(
        generator_name="provenance-studio", generator_version="0.1.0", model_name=model, model_sha256="ab" * 32,
        model_family="sd1", pipeline="txt2img", prompt=prompt, negative_prompt="", seed=seed, steps=2,
        guidance=6.5, scheduler="euler_a", width=image.width, height=image.height, created="2026-11-28T12:00:00Z",
        pixel_hash=pixel_hash(image), device="cpu", dtype="float32")
    write_png_with_provenance(image, path, SignedManifest(manifest), parameters=prompt, c2pa_credentials=None)
    return path


def text_png(path: Path, text: dict[str, str], seed: int = 1) -> Path:
    info = PngInfo()
    for key, value in text.items():
        info.add_text(key, value)
    noise(seed).save(path, pnginfo=info)
    return path


def work(n: int, **changes: object) -> Work:
    base = Work(0, f"/elsewhere/{n}.png", f"{n:064x}", None, f"Work {n}", f"prompt {n}", "demo",
                1_000.0 + n, 64, 64)
    return replace(base, **changes)


@pytest.fixture
def library(tmp_path: Path) -> Library:
    lib = Library(tmp_path / "library.db")
    yield lib
    lib.close()


def titles(library: Library, **query: object) -> list[str]:
    return [row.title for row in library.work_rows(WorkQuery(**query))]


# -- migration ------------------------------------------------------------------------------

def test_a_library_from_before_the_gallery_keeps_its_works_and_becomes_searchable(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE schema_migrations (seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, "
                "applied_at REAL NOT NULL)")
    for statement in _CORE_MIGRATIONS[0].statements:
        old.execute(statement)
    old.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (?, 0)", (_CORE_MIGRATIONS[0].name,))
    old.execute("INSERT INTO works (path, sha256, pixel_hash, title, prompt, model, created, width, height) "
                "VALUES ('/w/a.png', ?, NULL, 'Harbour', 'boats in a harbour at night', 'demo', 5.0, 64, 64)",
                ("aa" * 32,))
    old.execute("INSERT INTO tokens VALUES (1337, ?, 0, 1, 'meta', 'media', '0xabc', ?, 6.0)", (ADDRESS, ARTIST))
    old.commit()
    old.close()

    with Library(path) as lib:
        assert lib.migrations()[:3] == ["core-1-works-collections-tokens-attempts", "core-2-works-gallery-fields",
                                        "core-3-works-fts5"]
        kept = lib.work_by_sha256("aa" * 32)
        assert kept is not None and (kept.title, kept.prompt, kept.created) == ("Harbour", "boats in a harbour at night",
                                                                                 5.0)
        assert (kept.tags, kept.favourite, kept.trashed_at, kept.owned, kept.seed) == ((), False, None, False, None)
        assert lib.tokens_of_work(kept.id)[0].tx_hash == "0xabc"
        assert titles(lib, text="harb") == ["Harbour"]
        assert titles(lib, status="minted") == ["Harbour"]


# -- search ---------------------------------------------------------------------------------

def test_search_finds_words_by_prefix_in_title_prompt_and_tags(library: Library) -> None:
    library.add_work(work(1, title="Red fox", prompt="a fox in the snow", tags=("winter",)))
    library.add_work(work(2, title="Harbour", prompt="boats at night, lanterns", tags=("sea", "night")))
    library.add_work(work(3, title="Café", prompt="a café in Paris", tags=()))
    assert titles(library, text="fox") == ["Red fox"]
    assert titles(library, text="lant") == ["Harbour"]
    assert titles(library, text="winter") == ["Red fox"]
    assert titles(library, text="cafe") == ["Café"]           # diacritics folded
    assert titles(library, text="night boats") == ["Harbour"]  # every word must match
    assert titles(library, text="night fox") == []
    assert library.count_works(WorkQuery(text="a")) == 3       # a fox, at night, a café: all start with "a"
    assert titles(library, text="par") == ["Café"]
    # words that are FTS5 syntax are searched, not parsed; pure punctuation is ignored
    assert titles(library, text='"fox') == ["Red fox"]
    assert titles(library, text="fox AND") == []
    assert sorted(titles(library, text="- *")) == ["Café", "Harbour", "Red fox"]


def test_search_follows_edits_of_title_and_tags(library: Library) -> None:
    stored = library.add_work(work(1, title="Untitled"))
    library.update_work(stored.id, title="Morning  tide", tags="coast, Coast,  blue hour ,")
    assert library.work(stored.id).tags == ("coast", "blue hour")
    assert titles(library, text="tide") == ["Morning tide"]
    assert titles(library, text="blue hour") == ["Morning tide"]
    assert titles(library, text="untitled") == []


def test_search_without_fts5_falls_back_to_like(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(library_db, "fts5_available", lambda conn: False)
    with caplog.at_level("INFO"), Library(tmp_path / "plain.db") as lib:
        assert not lib.has_fts and "core-3-works-fts5" not in lib.migrations()
        lib.add_work(work(1, title="100% cotton_candy", prompt="pink clouds"))
        lib.add_work(work(2, title="Other", prompt="grey clouds"))
        assert titles(lib, text="100%") == ["100% cotton_candy"]
        assert titles(lib, text="n_c") == ["100% cotton_candy"]
        assert sorted(titles(lib, text="CLOUDS")) == ["100% cotton_candy", "Other"]
    assert "no FTS5" in caplog.text


def test_tags_are_trimmed_deduplicated_and_limited() -> None:
    assert normalize_tags(" a ,b,, A, c  d ") == ("a", "b", "c d")
    assert normalize_tags(["x", "y,z"]) == ("x", "y z")
    with pytest.raises(InputError, match="at most"):
        normalize_tags(",".join(f"t{n}" for n in range(40)))
    with pytest.raises(InputError, match="characters"):
        normalize_tags("x" * 65)


# -- filters and sort -------------------------------------------------------------------------

def test_filters_by_model_collection_status_favourites_and_dates(library: Library) -> None:
    minted = library.add_work(work(1, model="sdxl", created=100.0))
    listed = library.add_work(work(2, model="demo", created=200.0, favourite=True))
    plain = library.add_work(work(3, model="demo", created=300.0))
    other = "0x" + "12" * 20
    library.record_tokens([Token(1337, ADDRESS, 0, minted.id, None, None, "0x1", ARTIST, 1.0),
                           Token(1337, other, 5, listed.id, None, None, "0x2", ARTIST, 1.0)])
    assert titles(library, model="demo") == ["Work 3", "Work 2"]
    assert titles(library, collection=ADDRESS.lower()) == ["Work 1"]
    assert titles(library, status="minted") == ["Work 2", "Work 1"]
    assert titles(library, status="not-minted") == ["Work 3"]
    assert titles(library, status="listed") == []              # no market tables yet
    from studio.library.market import MarketStore, active_listing_prices

    MarketStore(library)
    with library.connect() as db:
        db.execute("INSERT INTO market_listings VALUES (1337, '0xmarket', ?, '5', ?, '1000', 'active', NULL, 1, 1, "
                   "'0xl')", (other, ARTIST))
        db.execute("INSERT INTO market_listings VALUES (1337, '0xmarket', ?, '0', ?, '9', 'sold', NULL, 1, 1, "
                   "'0xs')", (ADDRESS, ARTIST))
    assert titles(library, status="listed") == ["Work 2"]
    assert active_listing_prices(library, listed.id) == [(1337, other, 5, 1000)]
    assert active_listing_prices(library, minted.id) == []
    assert titles(library, favourites=True) == ["Work 2"]
    assert titles(library, created_from=150.0, created_to=300.0) == ["Work 2"]
    assert titles(library, model="demo", status="not-minted", text="prompt") == ["Work 3"]
    assert library.models_in_use() == ["demo", "sdxl"]
    assert plain.id is not None
    with pytest.raises(InputError, match="sort"):
        WorkQuery(sort="random")


def test_sorts_and_pages_are_stable(library: Library) -> None:
    library.add_works([(work(n, title=title, created=float(created)), None)
                       for n, (title, created) in enumerate([("beta", 2), ("Alpha", 3), ("gamma", 1),
                                                             ("alpha", 3)])])
    assert titles(library) == ["alpha", "Alpha", "beta", "gamma"]      # newest, ties by newest id
    assert titles(library, sort="oldest") == ["gamma", "beta", "Alpha", "alpha"]
    assert titles(library, sort="title") == ["Alpha", "alpha", "beta", "gamma"]
    pages = [library.work_rows(WorkQuery(sort="title"), offset, 3) for offset in (0, 3)]
    assert [row.title for page in pages for row in page] == ["Alpha", "alpha", "beta", "gamma"]
    assert library.count_works() == 4


def test_work_ids_follow_the_query_order_and_rows_by_id_keep_it(library: Library) -> None:
    added = library.add_works([(work(n, title=title, created=float(created)), None)
                               for n, (title, created) in enumerate([("beta", 2), ("Alpha", 3), ("gamma", 1),
                                                                     ("alpha", 3)])])
    for sort in ("newest", "oldest", "title"):
        ids = library.work_ids(WorkQuery(sort=sort))
        assert [row.id for row in library.work_rows(WorkQuery(sort=sort))] == ids
        assert [row.title for row in library.work_rows_by_id(ids)] == titles(library, sort=sort)
    assert library.work_ids(WorkQuery(text="gamma")) == [added[2].id]
    library.trash_works([added[0].id])
    library.purge_trash()
    rows = library.work_rows_by_id([added[3].id, added[0].id, added[2].id])
    assert [row.title if row else None for row in rows] == ["alpha", None, "gamma"]  # a purged work is a gap


def test_rows_by_id_take_more_ids_than_sqlite_binds_at_once(library: Library) -> None:
    library.add_works([(work(n, title=f"w{n:04d}", created=float(n)), None) for n in range(1200)])
    ids = library.work_ids(WorkQuery(sort="oldest"))
    assert [row.title for row in library.work_rows_by_id(ids)] == [f"w{n:04d}" for n in range(1200)]


# -- trash ----------------------------------------------------------------------------------

def test_trash_hides_restore_returns_and_empty_deletes_only_the_studios_own_files(tmp_path: Path,
                                                                                   library: Library) -> None:
    data, cache = tmp_path / "data", tmp_path / "cache"
    own_file = studio_png(originals_dir(data) / "own.png")
    (tmp_path / "user").mkdir()
    outside = studio_png(tmp_path / "user" / "mine.png", seed=8)
    own = add_saved_work(library, own_file, owned=True)
    external = add_saved_work(library, outside, owned=True)   # owned, but outside the data folder: kept
    borrowed = library.add_work(work(9, path=str(data / "works" / "missing.png")))
    for item in (own, external):
        assert ensure_thumbnail(Path(item.path), item.sha256, cache).exists()

    assert library.trash_works([own.id, external.id, borrowed.id, own.id]) == 3
    assert titles(library) == [] and library.count_works(WorkQuery(trash=True)) == 3
    assert library.work(own.id).in_trash
    assert library.restore_works([borrowed.id]) == 1
    assert titles(library) == ["Work 9"]

    report = empty_trash(library, data_dir=data, cache_dir=cache)
    assert report.removed == 2
    assert report.files_deleted == (str(own_file.resolve()),)
    assert report.files_kept == (str(outside.resolve()),)
    assert not own_file.exists() and outside.exists()
    assert not thumbnail_path(cache, own.sha256).exists() and not thumbnail_path(cache, external.sha256).exists()
    assert library.work(own.id) is None and library.work(borrowed.id) is not None
    assert library.count_works(WorkQuery(trash=True)) == 0


def test_a_minted_work_cannot_go_to_the_trash(library: Library) -> None:
    minted = library.add_work(work(1, title="Sold piece"))
    sending = library.add_work(work(2, title="On its way"))
    failed = library.add_work(work(3))
    library.record_tokens([Token(1337, ADDRESS, 0, minted.id, None, None, "0x1", ARTIST, 1.0)])
    library.record_attempt(MintAttempt(None, sending.id, 1337, ADDRESS, "sent", None, None, "0x2", None, 0.0))
    library.record_attempt(MintAttempt(None, failed.id, 1337, ADDRESS, "failed", None, None, None, "no gas", 0.0))
    with pytest.raises(InputError, match="Sold piece"):
        library.trash_works([minted.id, failed.id])
    with pytest.raises(InputError, match="On its way"):
        library.trash_works([sending.id])
    assert library.count_works(WorkQuery(trash=True)) == 0     # all or nothing
    assert library.trash_works([failed.id]) == 1


def test_editing_an_unknown_work_says_so(library: Library) -> None:
    with pytest.raises(NotFound, match="no work 42"):
        library.update_work(42, favourite=True)
    stored = library.add_work(work(1))
    assert library.update_work(stored.id, favourite=True).favourite


# -- adding and importing files ---------------------------------------------------------------

def test_a_saved_studio_work_is_recorded_with_its_recipe_and_manifest(tmp_path: Path, library: Library) -> None:
    path = studio_png(tmp_path / "2026-11-28_120000_7.png", seed=7, prompt="a lighthouse at dusk, " * 5)
    stored = add_saved_work(library, path)
    assert stored.id is not None and stored.source == "studio" and stored.owned
    assert (stored.model, stored.seed, stored.width, stored.height) == ("demo", 7, 32, 32)
    assert stored.prompt.startswith("a lighthouse at dusk") and len(stored.title) <= 61 and stored.title.endswith("…")
    assert stored.pixel_hash == pixel_hash(Image.open(path))
    assert stored.created == 1_795_867_200.0                  # 2026-11-28T12:00:00Z
    manifest = json.loads(library.work_manifest(stored.id))
    assert manifest["manifest"]["seed"] == 7
    assert add_saved_work(library, path) == stored            # the same bytes are one work


def test_importing_a_folder_adds_images_with_their_metadata_and_reports_the_rest(tmp_path: Path,
                                                                                 library: Library) -> None:
    folder = tmp_path / "incoming"
    (folder / "sub").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    studio_png(folder / "studio.png", seed=3, prompt="studio prompt")
    text_png(folder / "a1111.png", {"parameters": A1111}, seed=4)
    text_png(folder / "sub" / "comfy.png", {"prompt": json.dumps(COMFY_PROMPT)}, seed=5)
    text_png(folder / "invoke.png", {"invokeai_metadata": json.dumps(INVOKEAI)}, seed=6)
    noise(7).save(folder / "photo.jpg", quality=90)
    noise(8, mode="RGBA").save(folder / "clear.webp", lossless=True)
    (folder / "notes.txt").write_text("not an image")
    (folder / "broken.png").write_bytes((folder / "studio.png").read_bytes()[:300])
    (folder / "fake.jpg").write_bytes(b"<html>not a jpeg</html>")
    noise(9).save(folder / ".hidden" / "secret.png")
    data = tmp_path / "data"
    seen: list[float] = []

    report = import_folder(library, folder, lambda fraction, text: seen.append(fraction), None, data_dir=data)

    by_source = {item.source: item for item in report.added}
    assert sorted(by_source) == ["", "a1111", "comfyui", "invokeai", "studio"]
    assert len(report.added) == 6
    assert (by_source["studio"].prompt, by_source["studio"].seed) == ("studio prompt", 3)
    assert library.work_manifest(by_source["studio"].id) is not None
    assert (by_source["a1111"].prompt, by_source["a1111"].model, by_source["a1111"].seed) == \
        ("a lighthouse at dusk, oil painting", "dreamlike-v2", 31415)
    assert (by_source["comfyui"].prompt, by_source["comfyui"].seed) == ("glass bottle landscape", 99)
    assert (by_source["invokeai"].prompt, by_source["invokeai"].model) == ("a castle on a hill", "Dreamshaper 8")
    skipped = {Path(path).name: reason for path, reason in report.skipped}
    assert set(skipped) == {"notes.txt", "broken.png", "fake.jpg"}
    assert "not a PNG" in skipped["notes.txt"]
    for item in report.added:
        copy = Path(item.path)
        assert copy.parent == originals_dir(data) / item.sha256[:2] and copy.stem == item.sha256 and item.owned
    assert {Path(item.path).suffix for item in report.added} == {".png", ".jpg", ".webp"}
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert titles(library, text="castle") == ["a castle on a hill"]
    assert report.summary() == "Imported 6 works, 3 skipped."

    (folder / "studio.png").unlink()                          # the library keeps its own copy
    again = import_folder(library, folder, None, None, data_dir=data)
    assert again.added == () and len(again.known) == 5
    assert all(Path(item.path).exists() for item in report.added)


def test_a_cancelled_import_keeps_what_it_added(tmp_path: Path, library: Library) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(4):
        noise(n).save(folder / f"{n}.png")
    cancel = CancelToken()

    def progress(fraction: float, _text: str) -> None:
        if fraction >= 0.5:
            cancel.cancel()

    with pytest.raises(Cancelled, match="after 3 of 4 files"):
        import_folder(library, folder, progress, cancel, data_dir=tmp_path / "data")
    assert library.count_works() == 3
    with pytest.raises(NotFound, match="does not exist"):
        import_folder(library, tmp_path / "nowhere", None, None, data_dir=tmp_path / "data")


# -- thumbnails and export --------------------------------------------------------------------

def test_thumbnails_are_cached_small_jpegs_and_a_missing_file_says_so(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    noise(1, size=400, mode="RGBA").save(big)
    first = ensure_thumbnail(big, "cd" * 32, tmp_path / "cache")
    assert first == thumbnail_path(tmp_path / "cache", "cd" * 32)
    with Image.open(first) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == 192 and thumb.mode == "RGB"
    stamp = first.stat().st_mtime_ns
    time.sleep(0.01)
    assert ensure_thumbnail(big, "cd" * 32, tmp_path / "cache").stat().st_mtime_ns == stamp  # served from cache
    with pytest.raises(NotFound, match="missing"):
        ensure_thumbnail(tmp_path / "gone.png", "ef" * 32, tmp_path / "cache")
    (tmp_path / "junk.png").write_bytes(b"junk")
    with pytest.raises(InputError, match="thumbnail"):
        ensure_thumbnail(tmp_path / "junk.png", "01" * 32, tmp_path / "cache")


def test_a_thumbnail_job_answers_in_plain_text_for_a_helper_process(tmp_path: Path) -> None:
    """What crosses to and from the helper process: strings, and a message instead of an exception."""
    import pickle

    picture = tmp_path / "p.png"
    noise(2, size=64).save(picture)
    made, problem = thumbnail_job(str(picture), "ab" * 32, str(tmp_path / "cache"))
    assert problem == "" and Path(made) == thumbnail_path(tmp_path / "cache", "ab" * 32) and Path(made).is_file()
    missing = thumbnail_job(str(tmp_path / "gone.png"), "ef" * 32, str(tmp_path / "cache"))
    assert missing[0] is None and "missing" in missing[1]
    assert pickle.loads(pickle.dumps(missing)) == missing


def test_export_copies_or_converts_with_the_manifest(tmp_path: Path, library: Library) -> None:
    stored = add_saved_work(library, studio_png(tmp_path / "w.png"))
    copy = export_work(stored, tmp_path / "out" / "copy.png")
    assert copy.read_bytes() == Path(stored.path).read_bytes()
    webp = export_work(stored, tmp_path / "out" / "w.webp", c2pa=None)
    assert read_embedded(webp.read_bytes()).provenance_json == library.work_manifest(stored.id)
    with pytest.raises(InputError, match="overwrite"):
        export_work(stored, Path(stored.path))
    with pytest.raises(InputError, match="Cannot export"):
        export_work(stored, tmp_path / "w.gif")
