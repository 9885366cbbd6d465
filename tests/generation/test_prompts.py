"""A1111 prompt syntax: attention weights, chunks past 77 tokens, textual inversions, the token counter,
on the real CLIP vocabulary and the demo pipeline."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.errors import InputError, ModelError
from studio.generation.engine import Engine
from studio.generation.prompts import (CHUNK_LENGTH, chunk_prompt, count_tokens, parse_attention,
                                       tokenizer_for)

from options_helpers import pixels, round_trip, small


@pytest.fixture(scope="module")
def tokenizer(demo_model_dir: Path):
    return tokenizer_for(demo_model_dir)


@pytest.mark.parametrize("text, expected", [
    ("a fox", [("a fox", 1.0)]),
    ("a (fox)", [("a ", 1.0), ("fox", 1.1)]),
    ("a ((fox))", [("a ", 1.0), ("fox", pytest.approx(1.21))]),
    ("a [fox]", [("a ", 1.0), ("fox", pytest.approx(1 / 1.1))]),
    ("(fox:1.5) in (snow:0.5)", [("fox", 1.5), (" in ", 1.0), ("snow", 0.5)]),
    (r"a \(fox\) [x:y]", [("a (fox) ", 1.0), ("x:y", pytest.approx(1 / 1.1))]),
    ("(unclosed", [("unclosed", pytest.approx(1.1))]),
    ("one BREAK two", [("one", 1.0), ("BREAK", -1.0), ("two", 1.0)]),
    ("", [("", 1.0)]),
])
def test_attention_syntax_reads_as_a1111_does(text: str, expected: list) -> None:
    assert parse_attention(text) == expected


def test_a_long_prompt_becomes_chunks_of_75_cut_after_the_last_comma(tokenizer) -> None:
    words = ["fox"] * 70 + [","] + ["snow"] * 10
    chunks, count = chunk_prompt(tokenizer, " ".join(words))
    assert count == 75 + 10 and len(chunks) == 2  # A1111 counts a cut-short chunk as full
    assert all(len(chunk.tokens) == 77 for chunk in chunks)
    assert chunks[0].tokens[0] == tokenizer.bos_token_id and chunks[0].tokens[-1] == tokenizer.eos_token_id
    comma = tokenizer.get_vocab()[",</w>"]
    assert chunks[0].tokens[71] == comma and chunks[0].tokens[72] == tokenizer.pad_token_id
    assert chunks[1].tokens[1:11] == (tokenizer.get_vocab()["snow</w>"],) * 10


def test_weights_follow_their_tokens_into_the_chunks(tokenizer) -> None:
    [chunk], count = chunk_prompt(tokenizer, "a (red:1.5) fox")
    assert count == 3 and chunk.weights[1:4] == (1.0, 1.5, 1.0)
    two, _ = chunk_prompt(tokenizer, "a fox BREAK snow")
    assert len(two) == 2 and two[1].tokens[1] == tokenizer.get_vocab()["snow</w>"]


def test_the_token_counter_says_how_many_of_how_many(tokenizer) -> None:
    short = count_tokens(tokenizer, "a red fox in the snow")
    assert (short.tokens, short.chunks, short.limit) == (6, 1, CHUNK_LENGTH)
    long = count_tokens(tokenizer, " ".join(["fox"] * 100))
    assert (long.tokens, long.limit) == (100, 150)
    assert count_tokens(tokenizer, "(fox:1.3)").tokens == 1
    assert count_tokens(tokenizer, "(fox:1.3)", "plain").tokens > 1


def test_a_plain_prompt_makes_the_same_pixels_in_either_syntax(engine: Engine) -> None:
    assert np.array_equal(pixels(engine.generate(small(prompt_syntax="plain"))[0]),
                          pixels(engine.generate(small())[0]))


def test_weights_change_the_image_and_neutral_brackets_do_not(engine: Engine) -> None:
    plain = pixels(engine.generate(small())[0])
    assert not np.array_equal(plain, pixels(engine.generate(small(prompt="a (red:1.6) fox in the snow"))[0]))
    assert np.array_equal(plain, pixels(engine.generate(small(prompt="a (red:1.0) fox in the snow"))[0]))


def test_words_past_77_tokens_are_read_not_dropped(engine: Engine) -> None:
    head = ", ".join(["a red fox"] * 25)
    one = engine.generate(small(prompt=head + ", blue sky"))[0]
    two = engine.generate(small(prompt=head + ", green sea"))[0]
    assert not np.array_equal(pixels(one), pixels(two)) and one.warnings == ()
    old_one = engine.generate(small(prompt=head + ", blue sky", prompt_syntax="plain"))[0]
    old_two = engine.generate(small(prompt=head + ", green sea", prompt_syntax="plain"))[0]
    assert np.array_equal(pixels(old_one), pixels(old_two)) and "was ignored" in old_one.warnings[0]


def embedding_file(folder: Path, name: str, vectors: int = 2, seed: int = 0, key: str = "emb_params") -> Path:
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    save_file({key: torch.randn(vectors, 32, generator=torch.Generator().manual_seed(seed))}, str(path))
    return path


def test_a_textual_inversion_is_called_by_its_file_name_and_recorded(engine: Engine, tmp_path: Path) -> None:
    from studio.generation.hashing import file_sha256

    style = embedding_file(tmp_path, "inkstyle")
    without = engine.generate(small(prompt="a fox, inkstyle"))[0]
    loaded_unused = engine.generate(small(prompt="a fox", embeddings=(style,)))[0]
    used = engine.generate(small(prompt="a fox, inkstyle", embeddings=(style,)))[0]
    assert not np.array_equal(pixels(without), pixels(used))
    assert np.array_equal(pixels(loaded_unused), pixels(engine.generate(small(prompt="a fox"))[0]))
    assert used.recipe.embeddings == (("inkstyle.safetensors", file_sha256(style)),)
    assert count_tokens(engine._pipes[next(iter(engine._pipes))].tokenizer, "inkstyle").tokens == 2  # its vectors


def test_bad_embeddings_are_refused_with_advice(engine: Engine, tmp_path: Path) -> None:
    pickle = tmp_path / "style.pt"
    pickle.write_bytes(b"x")
    with pytest.raises(InputError, match="pickle"):
        engine.validate(small(embeddings=(pickle,)))
    wrong = embedding_file(tmp_path, "wide", key="emb_params")
    import torch
    from safetensors.torch import save_file

    save_file({"emb_params": torch.zeros(1, 768)}, str(wrong))
    with pytest.raises(ModelError, match="Could not load the embedding wide.safetensors"):
        engine.generate(small(embeddings=(wrong,)))
    assert engine.generate(small())[0].recipe.embeddings == ()


def test_weights_long_prompts_and_embeddings_reproduce_exactly(engine: Engine, tmp_path: Path) -> None:
    style = embedding_file(tmp_path / "weights", "inkstyle", seed=4)
    prompt = "a ((red)) fox, [snow], inkstyle, " + ", ".join(["tall pine trees"] * 20)
    [reproduction] = round_trip(small(prompt=prompt, negative_prompt="(blurry:1.3)", embeddings=(style,)),
                                engine, tmp_path / "works", weights=[tmp_path / "weights"])
    assert (reproduction.method, reproduction.match) == ("exact", True)


def test_the_counter_needs_no_loaded_model(demo_model_dir: Path, tmp_path: Path) -> None:
    from studio.generation.prompts import count_prompt_tokens

    assert count_prompt_tokens(demo_model_dir, "a red fox").tokens == 3
    assert count_prompt_tokens(tmp_path / "model.safetensors", "a red fox").tokens == 3  # the shared vocabulary


def test_sdxl_reads_both_encoders_the_a1111_way(tmp_path: Path) -> None:
    """On a scaled-down SDXL built from the family's real configs: a plain prompt gives diffusers' own pixels,
    weights and clip skip change them, and long prompts run."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from generation import FolderCatalog, build_arch  # the benchmark's architecture builder

    from studio.generation.request import GenerationRequest

    info = build_arch("sdxl", tmp_path / "sdxl", "float32", smoke=True)
    sdxl = Engine(FolderCatalog(info), hash_cache=tmp_path / "hashes.json")

    def run(**fields) -> np.ndarray:
        values = dict(prompt="a red fox in the snow", negative_prompt="blurry", model="sdxl", width=64, height=64,
                      steps=2, seed=3)
        values.update(fields)
        return pixels(sdxl.generate(GenerationRequest(**values))[0])

    a1111 = run()
    assert np.array_equal(a1111, run(prompt_syntax="plain"))
    assert np.array_equal(run(negative_prompt=""), run(negative_prompt="", prompt_syntax="plain"))
    assert not np.array_equal(a1111, run(prompt="a (red:1.5) fox in the snow"))
    assert not np.array_equal(a1111, run(clip_skip=2))
    assert run(prompt=", ".join(["a red fox"] * 30)).shape == (64, 64, 3)
