"""Trait tables: validation, seeded unique sampling by weight under rules, prompts and rarity."""
from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from studio.assets import asset_path
from studio.errors import InputError, NotFound
from studio.generation.traits import (TraitTable, dump_trait_table, load_trait_table, parse_trait_table,
                                      rarity_report, save_trait_table)

EXAMPLE = asset_path("examples", "avatar_traits.yaml")


def table(categories: dict, template: str = "") -> TraitTable:
    return TraitTable.from_dict({"template": template, "categories": [
        {"name": name, "values": values} for name, values in categories.items()]})


def test_the_example_table_loads_and_counts_its_valid_combinations_exactly() -> None:
    example = load_trait_table(EXAMPLE)
    assert example.names == ("Background", "Outfit", "Expression", "Accessory")
    assert example.raw_count == 6 * 6 * 4 * 6
    brute = 0
    import itertools

    for combo in itertools.product(*[[v.name for v in c.values] for c in example.categories]):
        chosen = dict(zip(example.names, combo))
        if chosen["Outfit"] == "Space Suit" and chosen["Background"] != "Space":
            continue
        if chosen["Accessory"] == "Cap" and chosen["Outfit"] in ("Armor", "Space Suit"):
            continue
        if chosen["Accessory"] == "Crown" and chosen["Outfit"] == "Hoodie":
            continue
        if chosen["Accessory"] == "Halo" and chosen["Expression"] == "Angry":
            continue
        brute += 1
    assert example.count_valid() == brute


def test_sampling_is_deterministic_for_a_seed_and_differs_for_another() -> None:
    example = load_trait_table(EXAMPLE)
    first = example.sample(100, seed=7)
    assert first == example.sample(100, seed=7)
    assert first != example.sample(100, seed=8)


def test_sampled_combinations_never_repeat_and_honour_rules() -> None:
    example = load_trait_table(EXAMPLE)
    for count in (100, 600, example.count_valid()):  # sparse (rejection) and dense (enumerated) requests
        combos = example.sample(count, seed=3)
        assert len(combos) == count == len(set(combos))
        for combo in combos:
            chosen = dict(zip(example.names, combo))
            assert not (chosen["Outfit"] == "Space Suit" and chosen["Background"] != "Space")
            assert not (chosen["Accessory"] == "Cap" and chosen["Outfit"] in ("Armor", "Space Suit"))
            assert not (chosen["Accessory"] == "Crown" and chosen["Outfit"] == "Hoodie")
            assert not (chosen["Accessory"] == "Halo" and chosen["Expression"] == "Angry")
            assert example.is_valid(combo) and not example.violations(combo)


def test_weights_are_respected_over_ten_thousand_draws() -> None:
    weights = {"Gold": 1, "Silver": 3, "Bronze": 6}
    rng = random.Random(11)
    single = table({"Metal": [{"name": k, "weight": w} for k, w in weights.items()],
                    "Mood": ["Calm", "Wild"]})
    counts = Counter(single.draw(rng)[0] for _ in range(10_000))
    for name, weight in weights.items():
        expected = 10_000 * weight / 10
        # about 4.5 standard deviations of a binomial: fails by chance about once in 150,000 runs
        assert abs(counts[name] - expected) < 4.5 * (expected * (1 - weight / 10)) ** 0.5, counts


def test_ten_thousand_unique_draws_from_a_large_table_keep_the_weights() -> None:
    letters = "ABCDEFGHIJ"
    big = table({f"C{i}": [{"name": f"{l}{i}", "weight": w + 1} for w, l in enumerate(letters)]
                 for i in range(6)})  # 10^6 combinations: counted by bound, sampled by rejection
    assert big.count_valid() is None
    combos = big.sample(10_000, seed=5)
    assert len(set(combos)) == 10_000
    first = Counter(c[0] for c in combos)
    total_weight = sum(range(1, 11))
    for w, l in enumerate(letters):
        expected = 10_000 * (w + 1) / total_weight
        assert abs(first[f"{l}0"] - expected) < 4.5 * expected ** 0.5 + 5, first


def test_asking_for_more_than_possible_says_how_many_there_are() -> None:
    example = load_trait_table(EXAMPLE)
    valid = example.count_valid()
    with pytest.raises(InputError, match=f"allows {valid:,} different avatars once its exclusions"):
        example.sample(valid + 1, seed=1)
    with pytest.raises(InputError, match="at most 864 different avatars"):
        example.sample(10_000, seed=1)


def test_a_large_table_fails_fast_with_its_bound() -> None:
    big = table({f"C{i}": [f"v{j}" for j in range(10)] for i in range(6)})
    with pytest.raises(InputError, match="at most 1,000,000 different avatars"):
        big.sample(1_000_001, seed=1)


def test_rules_that_leave_too_few_combinations_stop_with_a_message() -> None:
    strict = table({"A": [f"a{i}" for i in range(300)],
                    "B": [{"name": f"b{i}", "requires": [f"A: a{i}"]} for i in range(200)]})
    assert strict.count_valid() == 200
    combos = strict.sample(80, seed=2)  # sparse: rejection, 299 of 300 draws invalid
    assert len(set(combos)) == 80 and all(strict.is_valid(c) for c in combos)
    with pytest.raises(InputError, match="allows 200 different avatars"):
        strict.sample(201, seed=2)


@pytest.mark.parametrize("data, message", [
    ({"categories": []}, "categories must be a non-empty list"),
    ({"categories": [{"name": "A", "values": [{"name": "x", "weight": -1}]}]}, "weight must be a number above 0"),
    ({"categories": [{"name": "A", "values": ["x", "x"]}]}, "the value “x” appears twice"),
    ({"categories": [{"name": "A", "values": ["x"]}, {"name": "a", "values": ["y"]}]}, "same placeholder"),
    ({"categories": [{"name": "A", "values": [{"name": "x", "excludes": ["B: z"]}]}, {"name": "B", "values": ["y"]}]},
     "“z”, which is not a value of B"),
    ({"categories": [{"name": "A", "values": [{"name": "x", "requires": ["Nope: z"]}]}]},
     "category “Nope”, which the table does not have"),
    ({"categories": [{"name": "A", "values": ["x"]}], "template": "{a} {b}"}, "names {b}"),
    ({"categories": [{"name": "A", "values": ["x"], "colour": 1}]}, "unknown field colour"),
])
def test_bad_tables_are_refused_with_what_is_wrong(data: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        TraitTable.from_dict(data)


def test_all_problems_are_listed_at_once_and_files_are_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"categories": [{"name": "A", "values": [{"name": "x", "weight": 0}]},
                                               {"name": "B", "values": []}]}))
    with pytest.raises(InputError) as caught:
        load_trait_table(path)
    assert caught.value.message.startswith("bad.json: ")
    assert "weight must be a number above 0" in caught.value.message and "B” needs a non-empty" in caught.value.message
    (tmp_path / "broken.yaml").write_text("categories: [\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_trait_table(tmp_path / "broken.yaml")
    with pytest.raises(NotFound):
        load_trait_table(tmp_path / "missing.yaml")


def test_tables_round_trip_through_yaml_and_json(tmp_path: Path) -> None:
    example = load_trait_table(EXAMPLE)
    for name in ("t.yaml", "t.json"):
        save_trait_table(example, tmp_path / name)
        assert load_trait_table(tmp_path / name) == example
    assert parse_trait_table(dump_trait_table(example, ".json"), ".json") == example


def test_prompts_fill_the_template_and_empty_values_leave_no_stray_commas() -> None:
    example = load_trait_table(EXAMPLE)
    combo = ("Gold", "Suit", "Smiling", "None")
    assert example.prompt_for(combo) == ("portrait of a smiling character, wearing a tailored suit, "
                                         "shimmering gold background, centered, head and shoulders")
    assert example.prompt_for(combo, "{outfit}, {accessory}") == "wearing a tailored suit"
    assert example.attributes(combo) == {"Background": "Gold", "Outfit": "Suit", "Expression": "Smiling",
                                         "Accessory": "None"}
    with pytest.raises(InputError, match="names {hat}"):
        example.prompt_for(combo, "{hat}")


def test_rarity_report_counts_shares_scores_and_ranks() -> None:
    collection = [{"Bg": "Blue", "Hat": "Cap"}, {"Bg": "Blue", "Hat": "None"},
                  {"Bg": "Blue", "Hat": "Cap"}, {"Bg": "Gold", "Hat": "Cap"}]
    report = rarity_report(collection)
    shares = {(s.category, s.value): (s.count, s.percent) for s in report.shares}
    assert shares == {("Bg", "Blue"): (3, 75.0), ("Bg", "Gold"): (1, 25.0),
                      ("Hat", "Cap"): (3, 75.0), ("Hat", "None"): (1, 25.0)}
    scores = [a.score for a in report.avatars]
    assert scores == pytest.approx([4 / 3 + 4 / 3, 4 / 3 + 4, 4 / 3 + 4 / 3, 4 + 4 / 3])
    assert [a.rank for a in report.avatars] == [3, 1, 4, 2]  # ties: earlier first
    data = report.to_dict()
    assert data["total"] == 4 and data["avatars"][1]["rank"] == 1
    assert report.to_csv().splitlines()[0] == "index,rank,score,Bg,Hat"
