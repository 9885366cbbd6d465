"""Batch minting: manifests with every kind of error, a batch of 20 on the devnet, resuming from the
journal, RPC failures through a loopback proxy in front of anvil, and listing after minting."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from studio.workflows.batch import (BatchIncomplete, Journal, ManifestErrors, RetryPolicy, batch_mint,
                                    journal_path_for, plan_batch, read_manifest)
from studio.workflows.collections import create_collection


def make_images(folder: Path, count: int, start: int = 0) -> list[Path]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(start, start + count):
        path = folder / f"work-{index:03d}.png"
        Image.new("RGB", (16, 16), (index * 37 % 256, index * 91 % 256, index * 13 % 256)).save(path)
        paths.append(path)
    return paths


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- manifests

def test_every_bad_row_and_field_is_reported_at_once_and_nothing_is_uploaded(tmp_path, store):
    make_images(tmp_path, 3)
    (tmp_path / "notes.png").write_bytes(b"not an image at all")
    manifest = write_csv(tmp_path / "drop.csv", [
        "file,name,description,attributes,price,royalty",
        "work-000.png,Good one,,Mood:calm;Rank:3,0.05,2.5%",
        "missing.png,Ghost,,,,",
        "notes.png,Fake,,,,",
        "work-001.png,,,,,",  # no name: the file name
        f"work-002.png,{'x' * 101},,,,",
        "work-000.png,Twice,,,,",
        "work-001.png,Bad price,,,-1,",
        "work-002.png,Bad royalty,,,,50%",
        'work-002.png,Bad traits,,"Mood;",,',
        'work-002.png,Bad json,,"{""a"": [1]}",abc,',
    ])
    with pytest.raises(ManifestErrors) as caught:
        read_manifest(manifest)
    found = {(e.row, e.field) for e in caught.value.errors}
    assert found == {(2, "file"), (3, "file"), (5, "name"), (6, "file"), (7, "price"),
                     (8, "royalty"), (9, "attributes"), (10, "attributes"), (10, "price")}
    text = str(caught.value)
    assert "row 2, file:" in text and "does not exist" in text and "is already row 1" in text
    assert "not a readable image" in text and "at most 100" in text and "between 0% and 10%" in text
    assert "nothing was uploaded" in text
    assert store.pins() == [] and not journal_path_for(manifest).exists()


def test_json_and_folder_manifests_with_sidecars(tmp_path):
    images = make_images(tmp_path / "art", 3)
    (tmp_path / "art" / "work-000.png.json").write_text(json.dumps(
        {"name": "Dawn", "attributes": {"Mood": "calm", "Rank": 1}, "price": "0.5", "royalty": "250bps"}))
    (tmp_path / "art" / "work-001.json").write_text(json.dumps({"description": "Second", "license": "cc0"}))
    rows = read_manifest(tmp_path / "art")
    assert [r.name for r in rows] == ["Dawn", "work-001", "work-002"]
    assert rows[0].attributes == (("Mood", "calm"), ("Rank", 1)) and rows[0].price_wei == 5 * 10**17
    assert rows[0].royalty_bps == 250 and rows[1].license == "CC0-1.0" and rows[1].description == "Second"
    manifest = tmp_path / "drop.json"
    manifest.write_text(json.dumps({"works": [{"file": "art/work-000.png", "name": "A", "price": 1},
                                              {"file": str(images[1]), "name": "B", "colour": "red"},
                                              "nonsense"]}))
    with pytest.raises(ManifestErrors) as caught:
        read_manifest(manifest)
    assert {(e.row, e.field) for e in caught.value.errors} == {(2, "colour"), (3, "row")}
    (tmp_path / "art" / "work-002.json").write_text("{broken")
    with pytest.raises(ManifestErrors, match="row 3, sidecar"):
        read_manifest(tmp_path / "art")


def test_a_csv_without_a_file_column_or_with_unknown_columns_is_refused(tmp_path):
    make_images(tmp_path, 1)
    with pytest.raises(ManifestErrors, match="header"):
        read_manifest(write_csv(tmp_path / "a.csv", ["image,name", "work-000.png,A"]))
    with pytest.raises(ManifestErrors, match="unknown column colour"):
        read_manifest(write_csv(tmp_path / "b.csv", ["file,colour", "work-000.png,red"]))


# ---------------------------------------------------------------- the devnet

@pytest.fixture
def devnet_collection(devnet, signers, library):
    return create_collection(connection=devnet.connection(), signer=signers[0], library=library, name="Drop",
                             symbol="DROP", royalty_receiver=signers[2].address, royalty_bps=500)


def _manifest(tmp_path: Path, count: int, *, extra: str = "") -> Path:
    make_images(tmp_path / "art", count)
    lines = ["file,name,description,attributes,royalty"]
    for index in range(count):
        royalty = "2%" if index == 3 else ""
        lines.append(f"art/work-{index:03d}.png,Work {index},Number {index},Index:{index};Set:test,{royalty}")
    return write_csv(tmp_path / f"drop{extra}.csv", lines)


def _check_tokens(connection, store, collection_address: str, report, owner: str) -> None:
    from studio.chain.contracts import CollectionContract
    from studio.storage.cid import Cid

    contract = CollectionContract(connection, collection_address)
    assert contract.total_supply() == report.total
    for token in report.tokens:
        assert contract.owner_of(token.token_id) == owner
        uri = contract.token_uri(token.token_id)
        cid, _, entry = uri[len("ipfs://"):].partition("/")
        metadata = json.loads(store.cat(Cid.parse(cid), entry))
        assert metadata["name"] == token.name and metadata["image"] == f"ipfs://{token.media_cid}"
        assert store.cat(Cid.parse(token.media_cid)) == token.file.read_bytes()


def test_twenty_works_mint_in_batches_with_a_report_and_a_second_run_does_nothing(tmp_path, devnet, signers, library,
                                                                                  store, devnet_collection):
    manifest = _manifest(tmp_path, 20)
    connection = devnet.connection()
    plan = plan_batch(manifest, devnet_collection.address, signer=signers[0], connection=connection, library=library,
                      batch_size=8)
    assert [count for _, count in plan.batches] == [8, 8, 4] and plan.transactions == 4  # + one royalty
    assert plan.estimated_gas > 0 and store.pins() == []
    seen = []
    report = batch_mint(manifest, devnet_collection.address, signer=signers[0], connection=connection, store=store,
                        library=library, batch_size=8, progress=seen.append)
    assert report.done == 20 and report.left == 0 and report.problems == ()
    assert sorted(t.token_id for t in report.tokens) == list(range(1, 21))
    assert [w.token_uri for w in plan.works][:2] == [f"ipfs://{plan.batches[0][0]}/0", f"ipfs://{plan.batches[0][0]}/1"]
    assert {t.metadata_cid for t in report.tokens} == {w.metadata_cid for w in plan.works}
    kinds = [t.kind for t in report.transactions]
    assert kinds.count("mint") == 3 and kinds.count("royalty") == 1 and report.gas_used > 0 and report.cost_wei > 0
    assert seen[-1].stage == "done" and seen[-1].minted == 20 and max(p.uploaded for p in seen) == 20
    _check_tokens(connection, store, devnet_collection.address, report, signers[0].address)
    from studio.chain.contracts import CollectionContract

    contract = CollectionContract(connection, devnet_collection.address)
    fourth = next(t for t in report.tokens if t.row == 4)
    assert contract.royalty_info(fourth.token_id, 10_000).amount_wei == 200
    assert library.tokens(devnet.connection().chain_id, devnet_collection.address)[0].work_id is not None

    again = batch_mint(manifest, devnet_collection.address, signer=signers[0], connection=connection, store=store,
                       library=library, batch_size=8)
    assert again.to_json()["tokens"] == report.to_json()["tokens"] and contract.total_supply() == 20
    # the same works in another manifest: already minted, reported by row
    other = write_csv(tmp_path / "other.csv", ["file,name", "art/work-005.png,Again"])
    with pytest.raises(ManifestErrors, match="row 1, file: work-005.png is already minted in Drop as token 6"):
        batch_mint(other, devnet_collection.address, signer=signers[0], connection=connection, store=store,
                   library=library)


def test_a_batch_keeps_the_provenance_manifest_each_file_carries_with_its_work(tmp_path, devnet, signers, library,
                                                                                store, devnet_collection):
    from PIL import Image

    from studio.provenance.embed import write_png_with_provenance
    from studio.provenance.manifest import Manifest, SignedManifest, pixel_hash

    image = Image.new("RGB", (16, 16), (10, 80, 160))
    manifest = Manifest(generator_name="provenance-studio", generator_version="0.1.0", model_name="demo",
                        model_sha256="ab" * 32, model_family="sd1", pipeline="txt2img", prompt="a harbour at dawn",
                        negative_prompt="", seed=3, steps=2, guidance=6.5, scheduler="euler_a", width=16, height=16,
                        created="2026-11-28T12:00:00Z", pixel_hash=pixel_hash(image), creator=None, device="cpu",
                        dtype="float32")
    (tmp_path / "art").mkdir()
    write_png_with_provenance(image, tmp_path / "art" / "made.png", SignedManifest(manifest), parameters=None)
    make_images(tmp_path / "art", 1)
    source = write_csv(tmp_path / "drop.csv", ["file,name", "art/made.png,Made here", "art/work-000.png,Plain"])
    batch_mint(source, devnet_collection.address, signer=signers[0], connection=devnet.connection(), store=store,
               library=library)
    works = {w.title: w for w in library.works()}
    kept = library.work_manifest(works["Made here"].id)
    assert kept is not None and SignedManifest.from_json(kept).manifest == manifest
    assert library.work_manifest(works["Plain"].id) is None


def test_only_the_collection_owner_may_run_a_batch_and_the_journal_keeps_its_collection(tmp_path, devnet, signers,
                                                                                         library, store,
                                                                                         devnet_collection):
    manifest = _manifest(tmp_path, 2)
    with pytest.raises(Exception, match="cannot mint into it"):
        batch_mint(manifest, devnet_collection.address, signer=signers[1], connection=devnet.connection(),
                   store=store, library=library)
    journal = Journal(journal_path_for(manifest))
    journal.bind(chain_id="1", collection="0x" + "ab" * 20, account=signers[0].address)
    journal.close()
    from studio.errors import InputError

    with pytest.raises(InputError, match="journal .* belongs to a batch with chain_id 1"):
        batch_mint(manifest, devnet_collection.address, signer=signers[0], connection=devnet.connection(),
                   store=store, library=library)
    assert store.pins() == []


# ---------------------------------------------------------------- anvil behind a flaky proxy

class FlakyProxy:
    """A loopback HTTP proxy in front of the node that drops or rate-limits (429) some requests.

    ``rule(n)`` sees the request's number and says "pass", "drop" (connection closed without an
    answer, after the node got the request) or "429"."""

    def __init__(self, target: str, rule) -> None:
        import urllib.request

        self.count = 0
        self.failures = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    proxy.count += 1
                    action = rule(proxy.count)
                if action == "429":
                    proxy.failures += 1
                    self.send_response(429)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                request = urllib.request.Request(target, body, {"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as answer:
                    data = answer.read()
                if action == "drop":  # the node did the work; the answer is lost
                    proxy.failures += 1
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def anvil_node():
    from studio.chain.anvil import AnvilProcess, anvil_binary

    if not anvil_binary().exists():
        pytest.fail(f"The anvil test node is missing ({anvil_binary()}). Run `python3 dev.py test`.", pytrace=False)
    with AnvilProcess() as node:
        yield node


def _anvil_collection(url: str, signers, library):
    from studio.chain.transactions import Connection

    connection = Connection.from_url(url)
    return connection, create_collection(connection=connection, signer=signers[0], library=library, name="Flaky",
                                         symbol="FLK", royalty_receiver=signers[2].address, royalty_bps=500)


@pytest.mark.slow
def test_dropped_and_rate_limited_rpc_calls_are_retried_and_every_work_mints_once(tmp_path, anvil_node, signers,
                                                                                  library, store):
    from studio.chain.transactions import Connection

    direct, collection = _anvil_collection(anvil_node.url, signers, library)
    manifest = _manifest(tmp_path, 12)
    proxy = FlakyProxy(anvil_node.url, lambda n: "drop" if n % 11 == 3 else "429" if n % 13 == 5 else "pass")
    try:
        connection = Connection.from_url(proxy.url, timeout=10)
        report = batch_mint(manifest, collection.address, signer=signers[0], connection=connection, store=store,
                            library=library, batch_size=5, retry=RetryPolicy(attempts=8, first_delay=0.01))
    finally:
        proxy.close()
    assert proxy.failures >= 5
    assert report.done == 12 and [t.kind for t in report.transactions].count("mint") == 3
    _check_tokens(direct, store, collection.address, report, signers[0].address)
    events = direct.web3.eth.contract(address=collection.address, abi=_abi()).events.ContentCommitted().get_logs(
        from_block=0)
    assert sorted(e["args"]["count"] for e in events) == [2, 5, 5]


def _abi():
    from studio.chain.artifacts import load_artifact

    return load_artifact("StudioCollection").abi


@pytest.mark.slow
def test_a_node_that_keeps_refusing_stops_the_batch_with_a_report_and_a_rerun_finishes(tmp_path, anvil_node, signers,
                                                                                      library, store):
    from studio.chain.transactions import Connection

    direct, collection = _anvil_collection(anvil_node.url, signers, library)
    manifest = _manifest(tmp_path, 9)
    allowed = {"n": 10**9}
    proxy = FlakyProxy(anvil_node.url, lambda n: "pass" if n <= allowed["n"] else "429")
    try:
        connection = Connection.from_url(proxy.url, timeout=10)
        seen = []

        def stop_after_first_batch(progress) -> None:
            seen.append(progress)
            if progress.minted and allowed["n"] > proxy.count:
                allowed["n"] = proxy.count  # from now on every request is refused
        with pytest.raises(BatchIncomplete) as caught:
            batch_mint(manifest, collection.address, signer=signers[0], connection=connection, store=store,
                       library=library, batch_size=3, progress=stop_after_first_batch,
                       retry=RetryPolicy(attempts=3, first_delay=0.01))
    finally:
        proxy.close()
    stopped = caught.value.report
    assert stopped.done == 3 and stopped.left == 6 and "3 of 9 works minted" in str(caught.value)
    assert "Run the same command again" in str(caught.value)
    report = batch_mint(manifest, collection.address, signer=signers[0], connection=direct, store=store,
                        library=library, batch_size=3)
    assert report.done == 9 and sorted(t.token_id for t in report.tokens) == list(range(1, 10))
    _check_tokens(direct, store, collection.address, report, signers[0].address)


def test_works_already_in_the_library_are_minted_as_recorded_without_reading_their_files_again(
        tmp_path, devnet, signers, library, store, devnet_collection, monkeypatch):
    """An avatar collection's works were recorded when they were saved: their tokens point at those
    works, and recording the batch reads no file for its manifest."""
    import studio.workflows.batch_steps as batch_steps
    from studio.workflows.library import add_saved_work

    source = _manifest(tmp_path, 3)
    recorded = [add_saved_work(library, tmp_path / "art" / f"work-{i:03d}.png", owned=False) for i in range(2)]
    read: list[Path] = []
    real = batch_steps.embedded_manifest
    monkeypatch.setattr(batch_steps, "embedded_manifest", lambda row: read.append(row.file) or real(row))
    report = batch_mint(source, devnet_collection.address, signer=signers[0], connection=devnet.connection(),
                        store=store, library=library)
    assert report.done == 3
    tokens = sorted(library.tokens(devnet.connection().chain_id, devnet_collection.address), key=lambda t: t.token_id)
    assert [t.work_id for t in tokens[:2]] == [w.id for w in recorded]
    assert read == [tmp_path / "art" / "work-002.png"]  # only the work the library did not know
    assert library.work(tokens[2].work_id).title == "Work 2"
