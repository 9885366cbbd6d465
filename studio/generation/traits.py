"""Trait tables for avatar collections: categories of values with rarity weights and rules, seeded
sampling of unique combinations, a prompt per combination, and the rarity report.

Pure Python (no torch): the command line and the Avatars tab validate and preview a table at once.

A table (YAML or JSON, see ``assets/examples/avatar_traits.yaml``)::

    template: "portrait of a {expression} character, {outfit}, {accessory}, {background} background"
    categories:
      - name: Background
        values:
          - {name: Blue, weight: 50}
          - {name: Space, weight: 5, prompt: "outer space"}
      - name: Accessory
        values:
          - {name: None, weight: 60, prompt: ""}
          - {name: Halo, weight: 2, requires: ["Background: Space"], excludes: ["Expression: Angry"]}

A combination is valid when no chosen value excludes another chosen value and every chosen value's
requirements are chosen too. Sampling draws each combination with probability proportional to the
product of its values' weights among the valid ones (rejection sampling: exact, not a heuristic),
never the same combination twice, and gives the same list for the same seed.
"""
from __future__ import annotations

import json
import math
import random
import re
import string
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from itertools import product
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from studio.errors import InputError, NotFound

#: Tables with at most this many raw combinations are counted exactly (valid ones enumerated).
ENUMERATE_LIMIT = 200_000
#: Rejection sampling gives up after this many draws in a row that were invalid or already taken.
MAX_MISSES = 20_000
#: Bounds on a trait table file: its size, nesting and number of values (YAML or JSON).
MAX_TABLE_BYTES = 1024 * 1024
MAX_TABLE_DEPTH = 32
MAX_TABLE_NODES = 200_000
MAX_CATEGORIES = 32
MAX_VALUES = 500


@dataclass(frozen=True)
class TraitValue:
    """One value of a category; ``prompt`` is the text it puts in the template (default: its name)."""

    name: str
    weight: float = 1.0
    prompt: str | None = None
    excludes: tuple[tuple[str, str], ...] = ()   # (category, value) pairs it cannot appear with
    requires: tuple[tuple[str, str], ...] = ()   # (category, value) pairs that must appear with it

    @property
    def prompt_text(self) -> str:
        return self.name if self.prompt is None else self.prompt

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "weight": self.weight}
        if self.prompt is not None:
            data["prompt"] = self.prompt
        if self.excludes:
            data["excludes"] = [f"{c}: {v}" for c, v in self.excludes]
        if self.requires:
            data["requires"] = [f"{c}: {v}" for c, v in self.requires]
        return data


@dataclass(frozen=True)
class TraitCategory:
    """A trait type (``Background``); its ``key`` is how the template names it (``{background}``)."""

    name: str
    values: tuple[TraitValue, ...]

    @property
    def key(self) -> str:
        return category_key(self.name)

    def value(self, name: str) -> TraitValue:
        for item in self.values:
            if item.name == name:
                return item
        raise NotFound(f"The category “{self.name}” has no value “{name}”.")


def category_key(name: str) -> str:
    """``"Eye colour"`` -> ``"eye_colour"``: the placeholder a template uses for a category."""
    return re.sub(r"\W+", "_", name.strip().lower()).strip("_")


Combination = tuple[str, ...]  # one value name per category, in the table's category order


@dataclass(frozen=True)
class TraitTable:
    """Categories with weighted values and rules between them, plus the prompt template."""

    categories: tuple[TraitCategory, ...]
    template: str = ""
    name: str = ""

    # -- reading and writing ------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any) -> "TraitTable":
        """Validate a parsed table; every problem is listed in one InputError."""
        return _parse_table(data)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.name:
            data["name"] = self.name
        if self.template:
            data["template"] = self.template
        data["categories"] = [{"name": c.name, "values": [v.to_dict() for v in c.values]} for c in self.categories]
        return data

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)

    def category(self, name: str) -> TraitCategory:
        for item in self.categories:
            if item.name == name:
                return item
        raise NotFound(f"The trait table has no category “{name}”.")

    # -- rules --------------------------------------------------------------------------

    def is_valid(self, combination: Combination) -> bool:
        """True when no chosen value excludes another and every requirement is chosen."""
        rules = self._rules
        if not rules:
            return True
        for index, value_name in enumerate(combination):
            rule = rules.get((index, value_name))
            if rule is None:
                continue
            excludes, requires = rule
            if any(combination[i] == v for i, v in excludes) or any(combination[i] != v for i, v in requires):
                return False
        return True

    @cached_property
    def _rules(self) -> dict[tuple[int, str], tuple[tuple[tuple[int, str], ...], tuple[tuple[int, str], ...]]]:
        """(category index, value) -> its exclusions and requirements by category index: fast checks."""
        position = {name: i for i, name in enumerate(self.names)}
        rules = {}
        for index, category in enumerate(self.categories):
            for value in category.values:
                if value.excludes or value.requires:
                    rules[(index, value.name)] = (tuple((position[c], v) for c, v in value.excludes),
                                                  tuple((position[c], v) for c, v in value.requires))
        return rules

    def violations(self, combination: Combination) -> list[str]:
        """The rules ``combination`` breaks, in words (empty when it is valid)."""
        chosen = dict(zip(self.names, combination))
        problems = []
        for category, value_name in chosen.items():
            value = self.category(category).value(value_name)
            for other_category, other_value in value.excludes:
                if chosen.get(other_category) == other_value:
                    problems.append(f"{category} “{value_name}” excludes {other_category} “{other_value}”")
            for other_category, other_value in value.requires:
                if chosen.get(other_category) != other_value:
                    problems.append(f"{category} “{value_name}” requires {other_category} “{other_value}”")
        return problems

    # -- counting and sampling ----------------------------------------------------------

    @property
    def raw_count(self) -> int:
        """Combinations before the rules: the product of the categories' sizes (an upper bound)."""
        return math.prod(len(c.values) for c in self.categories)

    def count_valid(self) -> int | None:
        """The exact number of valid combinations, or None when the table is too large to count."""
        if self.raw_count > ENUMERATE_LIMIT:
            return None
        return sum(1 for _ in self._valid_combinations())

    def _valid_combinations(self) -> Iterable[Combination]:
        for combination in product(*[[v.name for v in c.values] for c in self.categories]):
            if self.is_valid(combination):
                yield combination

    def weight_of(self, combination: Combination) -> float:
        """The product of the combination's value weights (its unnormalised probability)."""
        weights = self._weights
        return math.prod(weights[i][name] for i, name in enumerate(combination))

    @cached_property
    def _weights(self) -> tuple[dict[str, float], ...]:
        return tuple({v.name: v.weight for v in c.values} for c in self.categories)

    def draw(self, rng: random.Random) -> Combination:
        """One valid combination, each value drawn by weight (rejection of invalid ones)."""
        for _ in range(MAX_MISSES):
            combination = self._draw_raw(rng)
            if self.is_valid(combination):
                return combination
        raise InputError("Almost no combination of this trait table is valid: its exclusions and requirements "
                         "rule out nearly everything.", hint="Loosen the rules or add values.")

    def _draw_raw(self, rng: random.Random) -> Combination:
        return tuple(rng.choices(names, cum_weights=cumulative)[0] for names, cumulative in self._choices)

    @cached_property
    def _choices(self) -> tuple[tuple[list[str], list[float]], ...]:
        out = []
        for category in self.categories:
            running, cumulative = 0.0, []
            for value in category.values:
                running += value.weight
                cumulative.append(running)
            out.append(([v.name for v in category.values], cumulative))
        return tuple(out)

    def sample(self, count: int, seed: int) -> list[Combination]:
        """``count`` different valid combinations, drawn by weight; the same list for the same seed.

        Raises InputError when ``count`` exceeds the number of valid combinations (counted exactly
        for tables up to ``ENUMERATE_LIMIT`` raw combinations, else bounded by the raw count), or
        when the rules leave too few combinations to find.
        """
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise InputError(f"{count!r} avatars cannot be made.", hint="Ask for at least 1.")
        rng = random.Random(seed)
        raw = self.raw_count
        if count > raw:
            raise InputError(f"The trait table allows at most {raw:,} different avatars ({self._sizes()}), "
                             f"fewer than the {count:,} asked for.",
                             hint="Add values or categories, or ask for fewer.")
        if raw <= ENUMERATE_LIMIT:
            valid = list(self._valid_combinations())
            if count > len(valid):
                raise InputError(f"The trait table allows {len(valid):,} different avatars once its exclusions and "
                                 f"requirements are applied (of {raw:,} without them), fewer than the {count:,} "
                                 "asked for.", hint="Add values, loosen the rules, or ask for fewer.")
            if count * 2 > len(valid):
                return self._sample_enumerated(valid, count, rng)
        return self._sample_rejection(count, rng)

    def _sample_rejection(self, count: int, rng: random.Random) -> list[Combination]:
        chosen: list[Combination] = []
        seen: set[Combination] = set()
        misses = 0
        while len(chosen) < count:
            combination = self._draw_raw(rng)
            if combination in seen or not self.is_valid(combination):
                misses += 1
                if misses >= MAX_MISSES:
                    raise InputError(f"Could find only {len(chosen):,} different valid avatars of the {count:,} "
                                     f"asked for: the rules and weights leave too few combinations "
                                     f"(at most {self.raw_count:,} before the rules).",
                                     hint="Add values, loosen the rules, or ask for fewer.")
                continue
            misses = 0
            seen.add(combination)
            chosen.append(combination)
        return chosen

    def _sample_enumerated(self, valid: list[Combination], count: int, rng: random.Random) -> list[Combination]:
        """Weighted sampling without replacement (Efraimidis–Spirakis keys), for dense requests
        where rejection would mostly redraw combinations already taken."""
        keyed = []
        for combination in valid:
            u = rng.random() or 1e-300
            keyed.append((math.log(u) / self.weight_of(combination), combination))
        keyed.sort(key=lambda item: item[0], reverse=True)
        return [combination for _, combination in keyed[:count]]

    def _sizes(self) -> str:
        return " × ".join(f"{len(c.values)} {c.name}" for c in self.categories)

    # -- prompts and attributes ---------------------------------------------------------

    def prompt_for(self, combination: Combination, template: str | None = None) -> str:
        """The template filled with the values' prompt texts; empty values leave no stray commas."""
        template = self.template if template is None else template
        check_template(template, self)
        values = {c.key: c.value(name).prompt_text for c, name in zip(self.categories, combination)}
        text = template.format_map(values)
        text = re.sub(r"\s+,", ",", text)
        text = re.sub(r"(,\s*){2,}", ", ", text)
        return re.sub(r"\s{2,}", " ", text).strip(" ,")

    def attributes(self, combination: Combination) -> dict[str, str]:
        """``{"Background": "Blue", ...}``: the NFT attributes (trait_type → value) of a combination."""
        return dict(zip(self.names, combination))


def check_template(template: str, table: TraitTable) -> None:
    """Raise InputError when ``template`` is empty or names a category the table does not have."""
    if not template or not template.strip():
        raise InputError("The prompt template is empty.",
                         hint="Write one with a {placeholder} per category, e.g. "
                              + ", ".join("{" + c.key + "}" for c in table.categories) + ".")
    keys = {c.key for c in table.categories}
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise InputError(f"The prompt template is not valid ({exc}).",
                         hint="Use {category} placeholders; write {{ and }} for literal braces.") from exc
    unknown = [name for name in fields if name not in keys]
    if unknown:
        raise InputError(f"The prompt template names {', '.join('{' + n + '}' for n in unknown)}, which "
                         "the trait table has no category for.",
                         hint=f"Placeholders: {', '.join('{' + k + '}' for k in sorted(keys))}.")


# ====================================================================== parsing

def load_trait_table(path: Path | str) -> TraitTable:
    """Read a trait table from a ``.yaml``/``.yml`` or ``.json`` file, with clear errors."""
    from studio.fileio import read_text_bounded

    path = Path(path)
    try:
        text = read_text_bounded(path, MAX_TABLE_BYTES, what=f"The trait table {path.name}")
    except NotFound as exc:
        raise NotFound(f"The trait table {path} does not exist.") from exc
    return parse_trait_table(text, path.suffix.lower(), what=path.name)


def parse_trait_table(text: str, suffix: str = ".yaml", *, what: str = "The trait table") -> TraitTable:
    """Parse YAML (``.yaml``/``.yml``) or JSON text into a validated table."""
    if len(text) > MAX_TABLE_BYTES:
        raise InputError(f"{what} is {len(text):,} characters, over the limit of {MAX_TABLE_BYTES:,}.")
    if suffix in (".yaml", ".yml"):
        data = load_yaml(text, what=what)
    elif suffix == ".json":
        from studio import safejson

        data = safejson.loads(text, what=what, max_bytes=MAX_TABLE_BYTES, max_depth=MAX_TABLE_DEPTH)
    else:
        raise InputError(f"{what} is neither YAML nor JSON.", hint="Use a .yaml, .yml or .json file.")
    try:
        return _parse_table(data)
    except InputError as exc:
        raise InputError(f"{what}: {exc.message}", hint=exc.hint) from exc


def load_yaml(text: str, *, what: str = "The YAML", max_depth: int = MAX_TABLE_DEPTH,
              max_nodes: int = MAX_TABLE_NODES) -> Any:
    """YAML from someone else, bounded: no anchors or aliases (a "billion laughs" table would make
    every later walk over it exponential), at most `max_depth` levels and `max_nodes` values, and
    every failure (PyYAML's own, an integer of 5,000 digits, a bad date) an InputError."""
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        depth = 0
        nodes = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise InputError(f"{what} uses a YAML alias ({event.start_mark}), which trait tables do not need.",
                                 hint="Write the values out instead of using & anchors and * aliases.")
            if self.check_event(yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent) and \
                    getattr(self.peek_event(), "anchor", None):
                raise InputError(f"{what} uses a YAML anchor (&{self.peek_event().anchor}), which trait tables "
                                 "do not need.", hint="Write the values out instead of using & anchors.")
            self.nodes += 1
            if self.nodes > max_nodes:
                raise InputError(f"{what} holds more than {max_nodes:,} values; it was not read.")
            self.depth += 1
            try:
                if self.depth > max_depth:
                    raise InputError(f"{what} is nested more than {max_depth} levels deep; it was not read.")
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    loader = BoundedLoader(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        raise InputError(f"{what} is not valid YAML ({_short(exc)}).") from exc
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # a constructor refused a scalar
        raise InputError(f"{what} holds a value YAML cannot build ({_short(exc)}).") from exc
    finally:
        loader.dispose()


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:199] + "…"


def dump_trait_table(table: TraitTable, suffix: str = ".yaml") -> str:
    """The table as YAML or JSON text (what `load_trait_table` reads back)."""
    if suffix in (".yaml", ".yml"):
        import yaml

        return yaml.safe_dump(table.to_dict(), sort_keys=False, allow_unicode=True)
    return json.dumps(table.to_dict(), indent=2, ensure_ascii=False) + "\n"


def save_trait_table(table: TraitTable, path: Path | str) -> None:
    """Write ``table`` atomically as YAML or JSON (by the file's suffix)."""
    from studio.fileio import atomic_write_text

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise InputError(f"{path.name} is neither a YAML nor a JSON file name.", hint="Save as .yaml or .json.")
    atomic_write_text(path, dump_trait_table(table, suffix))


def _parse_table(data: Any) -> TraitTable:
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise InputError("a trait table must be an object with a list of categories.",
                         hint="See assets/examples/avatar_traits.yaml.")
    unknown = set(data) - {"name", "template", "categories"}
    if unknown:
        problems.append(f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(sorted(map(str, unknown)))} "
                        "(fields: name, template, categories)")
    name = data.get("name", "") or ""
    template = data.get("template", "") or ""
    if not isinstance(name, str):
        problems.append("name must be text")
        name = ""
    if not isinstance(template, str):
        problems.append("template must be text")
        template = ""
    raw_categories = data.get("categories")
    if not isinstance(raw_categories, list) or not raw_categories:
        problems.append("categories must be a non-empty list")
        raw_categories = []
    if len(raw_categories) > MAX_CATEGORIES:
        problems.append(f"{len(raw_categories)} categories, at most {MAX_CATEGORIES}")
    categories: list[TraitCategory] = []
    pending_rules: list[tuple[str, str, str, str, Any]] = []  # (where, category, value, kind, raw refs)
    seen_names: set[str] = set()
    seen_keys: dict[str, str] = {}
    for index, raw in enumerate(raw_categories, start=1):
        where = f"category {index}"
        if not isinstance(raw, Mapping):
            problems.append(f"{where} must be an object with name and values")
            continue
        extra = set(raw) - {"name", "values"}
        if extra:
            problems.append(f"{where}: unknown field {', '.join(sorted(map(str, extra)))} (fields: name, values)")
        cname = raw.get("name")
        if not isinstance(cname, str) or not cname.strip() or not category_key(cname):
            problems.append(f"{where} needs a name (letters or digits)")
            continue
        cname = cname.strip()
        where = f"category “{cname}”"
        if cname in seen_names:
            problems.append(f"{where} appears twice")
            continue
        if category_key(cname) in seen_keys:
            problems.append(f"{where} and “{seen_keys[category_key(cname)]}” have the same placeholder "
                            f"{{{category_key(cname)}}}")
            continue
        seen_names.add(cname)
        seen_keys[category_key(cname)] = cname
        raw_values = raw.get("values")
        if not isinstance(raw_values, list) or not raw_values:
            problems.append(f"{where} needs a non-empty list of values")
            continue
        if len(raw_values) > MAX_VALUES:
            problems.append(f"{where} has {len(raw_values)} values, at most {MAX_VALUES}")
            continue
        values: list[TraitValue] = []
        value_names: set[str] = set()
        for vindex, raw_value in enumerate(raw_values, start=1):
            value = _parse_value(raw_value, f"{where}, value {vindex}", problems)
            if value is None:
                continue
            if value.name in value_names:
                problems.append(f"{where}: the value “{value.name}” appears twice")
                continue
            value_names.add(value.name)
            values.append(value)
            if isinstance(raw_value, Mapping):
                for kind in ("excludes", "requires"):
                    if raw_value.get(kind) not in (None, []):
                        pending_rules.append((f"{where}, value “{value.name}”", cname, value.name, kind,
                                              raw_value.get(kind)))
        if values:
            categories.append(TraitCategory(cname, tuple(values)))
    # Rules are resolved once every category is known (a rule may name a later category).
    known = {c.name: {v.name for v in c.values} for c in categories}
    resolved: dict[tuple[str, str], dict[str, list[tuple[str, str]]]] = {}
    for where, cname, vname, kind, refs in pending_rules:
        pairs = _parse_refs(refs, where, kind, known, cname, problems)
        resolved.setdefault((cname, vname), {"excludes": [], "requires": []})[kind] = pairs
    if problems:
        shown = problems[:12] + ([f"and {len(problems) - 12} more"] if len(problems) > 12 else [])
        raise InputError("the trait table has problems: " + "; ".join(shown) + ".",
                         hint="Fix them and load it again (see assets/examples/avatar_traits.yaml).")
    final = []
    for category in categories:
        values = []
        for value in category.values:
            rules = resolved.get((category.name, value.name))
            if rules:
                value = TraitValue(value.name, value.weight, value.prompt, tuple(rules["excludes"]),
                                   tuple(rules["requires"]))
            values.append(value)
        final.append(TraitCategory(category.name, tuple(values)))
    table = TraitTable(tuple(final), template.strip(), name.strip())
    if table.template:
        check_template(table.template, table)
    return table


def _parse_value(raw: Any, where: str, problems: list[str]) -> TraitValue | None:
    if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
        text = str(raw).strip()
        if not text:
            problems.append(f"{where} is empty")
            return None
        return TraitValue(text)
    if not isinstance(raw, Mapping):
        problems.append(f"{where} must be text or an object with name and weight")
        return None
    extra = set(raw) - {"name", "weight", "prompt", "excludes", "requires"}
    if extra:
        problems.append(f"{where}: unknown field {', '.join(sorted(map(str, extra)))} "
                        "(fields: name, weight, prompt, excludes, requires)")
    name = raw.get("name")
    if isinstance(name, (int, float)) and not isinstance(name, bool):
        name = str(name)
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where} needs a name")
        return None
    weight = raw.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight <= 0:
        problems.append(f"{where} (“{name.strip()}”): weight must be a number above 0, not {weight!r}")
        return None
    prompt = raw.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        problems.append(f"{where} (“{name.strip()}”): prompt must be text")
        return None
    return TraitValue(name.strip(), float(weight), prompt.strip() if isinstance(prompt, str) else None)


def _parse_refs(refs: Any, where: str, kind: str, known: Mapping[str, set[str]], own: str,
                problems: list[str]) -> list[tuple[str, str]]:
    if isinstance(refs, str):
        refs = [refs]
    if not isinstance(refs, list):
        problems.append(f"{where}: {kind} must be a list of \"Category: Value\"")
        return []
    pairs = []
    for ref in refs:
        if not isinstance(ref, str) or ":" not in ref:
            problems.append(f"{where}: {kind} entry {ref!r} is not \"Category: Value\"")
            continue
        category, _, value = (part.strip() for part in ref.partition(":"))
        if category not in known:
            problems.append(f"{where}: {kind} names the category “{category}”, which the table does not have")
        elif value not in known[category]:
            problems.append(f"{where}: {kind} names “{value}”, which is not a value of {category}")
        elif category == own:
            problems.append(f"{where}: {kind} names its own category (one value per category is chosen anyway)")
        else:
            pairs.append((category, value))
    return pairs


# ====================================================================== rarity

@dataclass(frozen=True)
class TraitShare:
    category: str
    value: str
    count: int
    percent: float


@dataclass(frozen=True)
class RankedAvatar:
    index: int                       # position in the collection, 0-based
    attributes: dict[str, str] = field(compare=False)
    score: float = 0.0               # sum over categories of 1 / frequency of its value
    rank: int = 0                    # 1 = rarest


@dataclass(frozen=True)
class RarityReport:
    """Counts and shares per trait value, and each avatar's rarity score and rank."""

    total: int
    shares: tuple[TraitShare, ...]
    avatars: tuple[RankedAvatar, ...]   # in collection order

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "traits": [{"trait_type": s.category, "value": s.value, "count": s.count,
                        "percent": round(s.percent, 4)} for s in self.shares],
            "avatars": [{"index": a.index, "rank": a.rank, "score": round(a.score, 6),
                         "attributes": a.attributes} for a in self.avatars],
        }

    def to_csv(self) -> str:
        """One row per avatar: index, rank, score and one column per category."""
        import csv
        import io

        categories = list(dict.fromkeys(s.category for s in self.shares))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["index", "rank", "score", *categories])
        for avatar in self.avatars:
            writer.writerow([avatar.index, avatar.rank, f"{avatar.score:.6f}",
                             *[avatar.attributes.get(c, "") for c in categories]])
        return out.getvalue()


def rarity_report(collection: Sequence[Mapping[str, str]],
                  categories: Sequence[str] | None = None) -> RarityReport:
    """Rarity of a collection given as each avatar's attributes (``{"Background": "Blue", ...}``).

    A value's frequency is its count divided by the collection's size; an avatar's score is the sum
    of 1/frequency over its traits (the usual "rarity score"); rank 1 is the highest score, ties
    broken by collection order.
    """
    total = len(collection)
    if categories is None:
        categories = list(dict.fromkeys(key for item in collection for key in item))
    counts: dict[str, Counter[str]] = {c: Counter() for c in categories}
    for item in collection:
        for category in categories:
            if category in item:
                counts[category][str(item[category])] += 1
    shares = tuple(TraitShare(category, value, count, 100.0 * count / total)
                   for category in categories
                   for value, count in sorted(counts[category].items(), key=lambda kv: (-kv[1], kv[0])))
    scores = []
    for index, item in enumerate(collection):
        score = sum(total / counts[c][str(item[c])] for c in categories if c in item)
        scores.append((index, score))
    order = sorted(scores, key=lambda pair: (-pair[1], pair[0]))
    ranks = {index: rank for rank, (index, _) in enumerate(order, start=1)}
    avatars = tuple(RankedAvatar(index, {c: str(item[c]) for c in categories if c in item}, score, ranks[index])
                    for (index, score), item in zip(scores, collection))
    return RarityReport(total, shares, avatars)
