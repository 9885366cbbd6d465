"""Reading the recipes other tools write into PNGs: A1111/Forge, ComfyUI and InvokeAI.

Each reader turns its tool's text chunks into a `ForeignMetadata`: a `RecipeSummary`, the one
shape of a recipe a file states, whoever wrote it (the studio's manifest reads into it too), named
as ``GenerationRequest`` and the manifest name things (``negative_prompt``, ``scheduler``). It is
what the Create tab can use ("use these settings"), and what ``studio.workflows.recipes.recipe_rows``
lays out for the Verify dialog and ``studio verify``.

Nothing in these chunks is trusted: JSON is parsed with limits, graph links are followed a
bounded number of hops, and a reader that finds nothing it understands returns None rather than
failing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from studio import safejson
from studio.errors import InputError

if TYPE_CHECKING:
    from studio.provenance.manifest import Manifest


MAX_HOPS = 16  # ComfyUI links followed from a sampler to its text encoder

# AUTOMATIC1111's own pattern for "Key: value" pairs, quoted values allowed (modules/infotext_utils.py),
# tried only at the start of the line or after a comma, and without backtracking into a quoted value:
# A1111's unanchored form retries at every character, O(n²) on a long line (a 32 KB line took 11 s).
_A1111_PARAM = re.compile(r'(?:^|(?<=,))\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])++"|[^,]*)(?:,|$)')
_SIZE = re.compile(r"(\d+)\s*x\s*(\d+)")


@dataclass(frozen=True)
class RecipeSummary:
    """The settings a file states (fields it does not give are None). ``scheduler`` is the studio's
    key (``euler_a``) in a studio manifest, and the other tool's own name (``DPM++ 2M Karras``)
    in another tool's recipe."""

    source: str                      # "studio", "a1111", "comfyui" or "invokeai"
    prompt: str = ""
    negative_prompt: str = ""
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    scheduler: str | None = None
    width: int | None = None
    height: int | None = None
    model: str | None = None

    @classmethod
    def of_manifest(cls, manifest: "Manifest") -> "RecipeSummary":
        m = manifest
        return cls("studio", m.prompt, m.negative_prompt, m.seed, m.steps, m.guidance, m.scheduler, m.width,
                   m.height, m.model_name)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "prompt": self.prompt, "negative_prompt": self.negative_prompt,
                "seed": self.seed, "steps": self.steps, "guidance": self.guidance, "scheduler": self.scheduler,
                "width": self.width, "height": self.height, "model": self.model}


@dataclass(frozen=True)
class ForeignMetadata(RecipeSummary):
    """A recipe written by another tool, in the studio's words, with its text chunks as they are."""

    raw: Mapping[str, str] = field(default_factory=dict)


def read_foreign(text: Mapping[str, str]) -> ForeignMetadata | None:
    """The first recipe found in a PNG's text chunks: InvokeAI, then ComfyUI, then A1111."""
    if "invokeai_metadata" in text:
        found = parse_invokeai(text["invokeai_metadata"])
        if found is not None:
            return found
    if "prompt" in text or "workflow" in text:
        found = parse_comfyui(text.get("prompt"), text.get("workflow"))
        if found is not None:
            return found
    if "parameters" in text:
        return parse_a1111(text["parameters"])
    return None


# -- A1111 / Forge ---------------------------------------------------------------------

def _int(value: Any) -> int | None:
    try:
        if isinstance(value, bool):
            return None
        return int(float(value)) if isinstance(value, str) else int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _float(value: Any) -> float | None:
    try:
        if isinstance(value, bool):
            return None
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return str(safejson.loads(value, what="A quoted value"))
        except InputError:
            return value[1:-1]
    return value


def a1111_fields(parameters: str) -> dict[str, str]:
    """Every ``Key: value`` of an A1111 ``parameters`` settings line (the last line), unquoted."""
    lines = parameters.strip().split("\n")
    if not lines or len(_A1111_PARAM.findall(lines[-1])) < 3:
        return {}
    return {key.strip(): _unquote(value) for key, value in _A1111_PARAM.findall(lines[-1])}


def comfyui_scheduler(prompt: str | None) -> str | None:
    """The scheduler (``karras``, ``normal`` ...) of a ComfyUI API graph's first KSampler, if any."""
    graph = _loads(prompt)
    if not isinstance(graph, Mapping):
        return None
    for _id, node in sorted(graph.items(), key=lambda item: str(item[0])):
        if isinstance(node, Mapping) and str(node.get("class_type", "")).startswith("KSampler"):
            inputs = node.get("inputs")
            value = inputs.get("scheduler") if isinstance(inputs, Mapping) else None
            return value if isinstance(value, str) else None
    return None


def parse_a1111(parameters: str) -> ForeignMetadata:
    """AUTOMATIC1111/Forge ``parameters``: prompt lines, ``Negative prompt:`` lines, then one settings line."""
    lines = parameters.strip().split("\n")
    settings_line = ""
    if lines and len(_A1111_PARAM.findall(lines[-1])) >= 3:
        settings_line = lines.pop()
    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    in_negative = False
    for line in lines:
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[len("Negative prompt:"):].strip()
        (negative_lines if in_negative else prompt_lines).append(line)
    fields = {key.strip(): _unquote(value) for key, value in _A1111_PARAM.findall(settings_line)}
    width = height = None
    size = _SIZE.fullmatch(fields.get("Size", "").strip())
    if size:
        width, height = int(size.group(1)), int(size.group(2))
    return ForeignMetadata(
        source="a1111", prompt="\n".join(prompt_lines).strip(), negative_prompt="\n".join(negative_lines).strip(),
        seed=_int(fields.get("Seed")), steps=_int(fields.get("Steps")), guidance=_float(fields.get("CFG scale")),
        scheduler=fields.get("Sampler") or None, width=width, height=height,
        model=fields.get("Model") or fields.get("Model hash") or None, raw={"parameters": parameters},
    )


# -- ComfyUI ---------------------------------------------------------------------------

_SAMPLERS = ("KSampler", "KSamplerAdvanced", "SamplerCustom")
_CHECKPOINT_LOADERS = ("CheckpointLoaderSimple", "CheckpointLoader", "UNETLoader")


def _loads(text: str | None) -> Any:
    if not text:
        return None
    try:
        return safejson.loads(text)
    except InputError:
        return None


def _comfy_text(graph: Mapping[str, Any], link: Any) -> str:
    """Follow ``link`` ([node id, output]) until a node with a text input, at most MAX_HOPS nodes."""
    for _ in range(MAX_HOPS):
        if not isinstance(link, list) or not link:
            return ""
        node = graph.get(str(link[0]))
        if not isinstance(node, Mapping) or not isinstance(node.get("inputs"), Mapping):
            return ""
        inputs = node["inputs"]
        for key in ("text", "text_g", "text_l", "positive", "prompt"):
            value = inputs.get(key)
            if isinstance(value, str):
                return value
        link = next((inputs[key] for key in ("conditioning", "conditioning_1", "text", "positive")
                     if isinstance(inputs.get(key), list)), None)
    return ""


def _comfy_node_input(graph: Mapping[str, Any], link: Any, keys: tuple[str, ...]) -> Any:
    for _ in range(MAX_HOPS):
        if not isinstance(link, list) or not link:
            return None
        node = graph.get(str(link[0]))
        if not isinstance(node, Mapping) or not isinstance(node.get("inputs"), Mapping):
            return None
        inputs = node["inputs"]
        for key in keys:
            if key in inputs and not isinstance(inputs[key], list):
                return inputs[key]
        link = next((value for value in inputs.values() if isinstance(value, list)), None)
    return None


def _from_comfy_prompt(graph: Mapping[str, Any]) -> dict[str, Any] | None:
    sampler = next((node for _id, node in sorted(graph.items(), key=lambda item: str(item[0]))
                    if isinstance(node, Mapping) and node.get("class_type") in _SAMPLERS
                    and isinstance(node.get("inputs"), Mapping)), None)
    if sampler is None:
        return None
    inputs = sampler["inputs"]
    seed = inputs.get("seed", inputs.get("noise_seed"))
    found = {
        "prompt": _comfy_text(graph, inputs.get("positive")),
        "negative_prompt": _comfy_text(graph, inputs.get("negative")),
        "seed": _int(seed) if not isinstance(seed, list) else None,
        "steps": _int(inputs.get("steps")), "guidance": _float(inputs.get("cfg")),
        "scheduler": inputs.get("sampler_name") if isinstance(inputs.get("sampler_name"), str) else None,
        "width": _int(_comfy_node_input(graph, inputs.get("latent_image"), ("width",))),
        "height": _int(_comfy_node_input(graph, inputs.get("latent_image"), ("height",))),
    }
    model = _comfy_node_input(graph, inputs.get("model"), ("ckpt_name", "unet_name"))
    found["model"] = model if isinstance(model, str) else None
    return found


def _from_comfy_workflow(workflow: Mapping[str, Any]) -> dict[str, Any] | None:
    """The UI-format graph: widgets_values by position, links as [id, from, slot, to, slot, type]."""
    nodes = workflow.get("nodes")
    if not isinstance(nodes, list):
        return None
    by_id = {node.get("id"): node for node in nodes if isinstance(node, Mapping)}
    sampler = next((node for node in by_id.values() if node.get("type") in ("KSampler", "KSamplerAdvanced")), None)
    if sampler is None:
        return None
    widgets = sampler.get("widgets_values")
    values: list[Any] = widgets if isinstance(widgets, list) else []
    if sampler.get("type") == "KSamplerAdvanced":
        values = values[1:]  # add_noise comes first
    # KSampler widgets: seed, control_after_generate, steps, cfg, sampler_name, scheduler, denoise
    seed, _control, steps, cfg, sampler_name = (list(values) + [None] * 5)[:5]
    links = {link[0]: link for link in workflow.get("links") or [] if isinstance(link, list) and len(link) >= 4}

    def text_of(input_name: str) -> str:
        for slot in sampler.get("inputs") or []:
            if isinstance(slot, Mapping) and slot.get("name") == input_name:
                link = links.get(slot.get("link"))
                source = by_id.get(link[1]) if link else None
                widgets = source.get("widgets_values") if isinstance(source, Mapping) else None
                if isinstance(widgets, list) and widgets and isinstance(widgets[0], str):
                    return widgets[0]
        return ""

    return {"prompt": text_of("positive"), "negative_prompt": text_of("negative"), "seed": _int(seed),
            "steps": _int(steps), "guidance": _float(cfg),
            "scheduler": sampler_name if isinstance(sampler_name, str) else None,
            "width": None, "height": None, "model": None}


def parse_comfyui(prompt: str | None, workflow: str | None) -> ForeignMetadata | None:
    """ComfyUI's ``prompt`` (API graph) or, failing that, ``workflow`` (UI graph) chunk."""
    raw = {key: value for key, value in (("prompt", prompt), ("workflow", workflow)) if value}
    graph = _loads(prompt)
    found = _from_comfy_prompt(graph) if isinstance(graph, Mapping) else None
    if found is None:
        ui = _loads(workflow)
        found = _from_comfy_workflow(ui) if isinstance(ui, Mapping) else None
    if found is None:
        return None
    return ForeignMetadata(source="comfyui", raw=raw, **found)


# -- InvokeAI --------------------------------------------------------------------------

def parse_invokeai(metadata: str) -> ForeignMetadata | None:
    """InvokeAI 3+/4+ ``invokeai_metadata`` JSON (positive_prompt, cfg_scale, model{name}, ...)."""
    data = _loads(metadata)
    if not isinstance(data, Mapping):
        return None
    model = data.get("model")
    if isinstance(model, Mapping):
        model = model.get("name") or model.get("model_name") or model.get("key")
    prompt = data.get("positive_prompt", data.get("prompt", ""))
    negative = data.get("negative_prompt", "")
    return ForeignMetadata(
        source="invokeai", prompt=prompt if isinstance(prompt, str) else "",
        negative_prompt=negative if isinstance(negative, str) else "", seed=_int(data.get("seed")),
        steps=_int(data.get("steps")), guidance=_float(data.get("cfg_scale")),
        scheduler=data.get("scheduler") if isinstance(data.get("scheduler"), str) else None,
        width=_int(data.get("width")), height=_int(data.get("height")),
        model=model if isinstance(model, str) else None, raw={"invokeai_metadata": metadata},
    )
