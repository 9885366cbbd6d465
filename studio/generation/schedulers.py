"""The samplers and sigma schedules the studio offers, by stable keys, and per-model defaults.

As in A1111 (1.9+) and ComfyUI, the sampling algorithm (``sampler``: Euler, DPM++ 2M, UniPC ...)
and the noise levels it walks through (``sigmas``: the model's default spacing, Karras or
exponential) are two separate choices. Keys are what a recipe records; labels are what people
see (A1111's names, which the ``parameters`` text chunk uses too). Recipes written before the
split name a combination (``dpmpp_2m_karras``): :func:`split_sampler` reads them.
"""
from __future__ import annotations

from typing import Any, Mapping

from studio.errors import InputError
from studio.generation.request import ModelInfo

SCHEDULERS: dict[str, str] = {
    "euler": "Euler",
    "euler_a": "Euler a",
    "heun": "Heun",
    "lms": "LMS",
    "dpm2": "DPM2",
    "dpm2_a": "DPM2 a",
    "dpmpp_2m": "DPM++ 2M",
    "dpmpp_2m_sde": "DPM++ 2M SDE",
    "dpmpp_sde": "DPM++ SDE",
    "unipc": "UniPC",
    "ddim": "DDIM",
    "lcm": "LCM",
}

#: Sigma schedules: the model's own spacing, Karras et al. (2022), or exponential (ComfyUI's names).
SIGMA_SCHEDULES: dict[str, str] = {"default": "Default", "karras": "Karras", "exponential": "Exponential"}

#: Sampler keys of recipes written before the schedule was its own choice.
LEGACY_SAMPLERS: dict[str, tuple[str, str]] = {"dpmpp_2m_karras": ("dpmpp_2m", "karras")}

#: Samplers whose diffusers scheduler cannot change its sigma spacing.
_FIXED_SIGMAS = ("euler_a", "ddim", "lcm")
#: Samplers that draw fresh noise from a seed of their own (a Brownian tree), not the generator.
SEEDED_SAMPLERS = ("dpmpp_sde",)

#: Variants distilled for few steps; LCM sampling only suits these.
FEW_STEP_VARIANTS = ("lcm", "turbo")


def split_sampler(key: str, sigmas: str = "default") -> tuple[str, str]:
    """(sampler, sigma schedule) for a key as a request or an old recipe names it."""
    if key in LEGACY_SAMPLERS:
        sampler, legacy_sigmas = LEGACY_SAMPLERS[key]
        if sigmas not in ("default", legacy_sigmas):
            raise InputError(f"The sampler “{key}” already names the {legacy_sigmas} schedule, not {sigmas}.",
                             hint=f"Choose the sampler {sampler} with the schedule {sigmas}.")
        return sampler, legacy_sigmas
    return key, sigmas


def _check_key(key: str, sigmas: str = "default") -> tuple[str, str]:
    sampler, sigmas = split_sampler(key, sigmas)
    if sampler not in SCHEDULERS:
        raise InputError(f"Unknown sampler “{key}”.",
                         hint=f"Choose one of: {', '.join(SCHEDULERS)}.")
    if sigmas not in SIGMA_SCHEDULES:
        raise InputError(f"Unknown sigma schedule “{sigmas}”.",
                         hint=f"Choose one of: {', '.join(SIGMA_SCHEDULES)}.")
    if sigmas != "default" and sampler in _FIXED_SIGMAS:
        raise InputError(f"The sampler {SCHEDULERS[sampler]} has no {SIGMA_SCHEDULES[sigmas]} schedule.",
                         hint="Use the default schedule with it, or choose another sampler (Euler, DPM++ 2M, "
                              "UniPC ... take every schedule).")
    return sampler, sigmas


def scheduler_label(key: str, sigmas: str = "default") -> str:
    """A1111's name of a sampler and schedule, e.g. ``DPM++ 2M Karras``."""
    sampler, sigmas = _check_key(key, sigmas)
    label = SCHEDULERS[sampler]
    return label if sigmas == "default" else f"{label} {SIGMA_SCHEDULES[sigmas]}"


def make_scheduler(key: str, base_config: Mapping[str, Any], sigmas: str = "default", *,
                   seed: int | None = None) -> Any:
    """A fresh scheduler of kind ``key`` with schedule ``sigmas``, built from the model's own config.

    The model's config carries its noise schedule (betas, prediction type, timestep spacing);
    only the sampling algorithm and the spacing of its sigmas change. ``seed`` seeds samplers that
    draw their own noise (DPM++ SDE's Brownian tree), so that they repeat exactly.
    """
    sampler, sigmas = _check_key(key, sigmas)
    import diffusers

    config = dict(base_config)
    options: dict[str, Any] = {}
    if sampler not in _FIXED_SIGMAS:
        options = {"use_karras_sigmas": sigmas == "karras", "use_exponential_sigmas": sigmas == "exponential",
                   "use_beta_sigmas": False}
    if sampler == "euler":
        return diffusers.EulerDiscreteScheduler.from_config(config, **options)
    if sampler == "euler_a":
        return diffusers.EulerAncestralDiscreteScheduler.from_config(config)
    if sampler == "heun":
        return diffusers.HeunDiscreteScheduler.from_config(config, **options)
    if sampler == "lms":
        return diffusers.LMSDiscreteScheduler.from_config(config, **options)
    if sampler == "dpm2":
        return diffusers.KDPM2DiscreteScheduler.from_config(config, **options)
    if sampler == "dpm2_a":
        return diffusers.KDPM2AncestralDiscreteScheduler.from_config(config, **options)
    if sampler == "dpmpp_2m":
        return diffusers.DPMSolverMultistepScheduler.from_config(config, algorithm_type="dpmsolver++",
                                                                 solver_order=2, **options)
    if sampler == "dpmpp_2m_sde":
        return diffusers.DPMSolverMultistepScheduler.from_config(config, algorithm_type="sde-dpmsolver++",
                                                                 solver_order=2, **options)
    if sampler == "dpmpp_sde":
        return diffusers.DPMSolverSDEScheduler.from_config(config, noise_sampler_seed=seed, **options)
    if sampler == "unipc":
        return diffusers.UniPCMultistepScheduler.from_config(config, **options)
    if sampler == "ddim":
        return diffusers.DDIMScheduler.from_config(config)
    return diffusers.LCMScheduler.from_config(config)


def schedulers_for(model: ModelInfo) -> list[str]:
    """The sampler keys that make sense for ``model``, its default first."""
    keys = [k for k in SCHEDULERS if k != "lcm"]
    if model.variant == "lcm":
        return ["lcm", *keys]
    if model.variant == "turbo":
        return ["euler_a", *[k for k in keys if k != "euler_a"], "lcm"]
    return keys


def sigma_schedules_for(key: str) -> list[str]:
    """The sigma schedules sampler ``key`` can walk (only the default for Euler a, DDIM and LCM)."""
    sampler, _ = split_sampler(key)
    return ["default"] if sampler in _FIXED_SIGMAS else list(SIGMA_SCHEDULES)


def default_settings(model: ModelInfo) -> tuple[int, float, str]:
    """(steps, guidance, sampler) that give good images with ``model`` out of the box.

    Turbo models are distilled for 1-4 steps without guidance, LCM models for 4-8 steps with
    guidance 1-2; everything else gets the usual 25 steps at guidance 7.
    """
    if model.variant == "turbo":
        return 4, 0.0, "euler_a"
    if model.variant == "lcm":
        return 6, 1.5, "lcm"
    return 25, 7.0, "euler"


def check_scheduler(key: str, model: ModelInfo, sigmas: str = "default") -> None:
    """Raise :class:`InputError` when ``key`` (with ``sigmas``) is unknown or does not suit ``model``."""
    sampler, _ = _check_key(key, sigmas)
    allowed = schedulers_for(model)
    if sampler not in allowed:
        raise InputError(f"The sampler “{SCHEDULERS[sampler]}” does not suit the model “{model.name}”; "
                         "LCM sampling only works with LCM or Turbo models.",
                         hint=f"Choose one of: {', '.join(SCHEDULERS[k] for k in allowed)}.")


#: Other tools' sampler names (ComfyUI's KSampler, InvokeAI's schedulers) -> (sampler, schedule).
_FOREIGN_SAMPLERS: dict[str, tuple[str, str]] = {
    "euler_ancestral": ("euler_a", "default"), "dpm_2": ("dpm2", "default"),
    "dpm_2_ancestral": ("dpm2_a", "default"), "uni_pc": ("unipc", "default"), "uni_pc_bh2": ("unipc", "default"),
    "kdpm_2": ("dpm2", "default"), "kdpm_2_a": ("dpm2_a", "default"), "ddim_uniform": ("ddim", "default"),
}


def sampler_from_name(name: str, schedule: str | None = None) -> tuple[str, str] | None:
    """(sampler, schedule) from a name another tool wrote: A1111's labels ("DPM++ 2M Karras"), ComfyUI's
    sampler and scheduler ("dpmpp_2m", "karras"), InvokeAI's keys ("dpmpp_2m_k"); None when unknown."""
    text = name.strip()
    sigmas = "default"
    lowered = (schedule or "").strip().lower()
    if lowered in ("karras", "exponential"):
        sigmas = lowered
    for suffix, kind in ((" Karras", "karras"), (" Exponential", "exponential")):
        if text.endswith(suffix):
            text, sigmas = text[: -len(suffix)], kind
    by_label = {label.lower(): key for key, label in SCHEDULERS.items()}
    key = by_label.get(text.lower())
    if key is None:
        raw = text.lower().replace(" ", "_")
        if raw.endswith("_k"):  # InvokeAI: the Karras variant of a sampler
            raw, sigmas = raw[:-2], "karras"
        if raw in LEGACY_SAMPLERS:
            return LEGACY_SAMPLERS[raw]
        if raw in _FOREIGN_SAMPLERS:
            key, _ = _FOREIGN_SAMPLERS[raw]
        elif raw in SCHEDULERS:
            key = raw
    if key is None:
        return None
    if key in _FIXED_SIGMAS:
        sigmas = "default"
    return key, sigmas
