"""The samplers the studio offers, by a stable key, and the step/guidance defaults per model.

Keys are what a recipe records; labels are what people see (A1111's names, which the
``parameters`` text chunk uses too).
"""
from __future__ import annotations

from typing import Any, Mapping

from studio.errors import InputError
from studio.generation.request import ModelInfo

SCHEDULERS: dict[str, str] = {
    "euler": "Euler",
    "euler_a": "Euler a",
    "dpmpp_2m_karras": "DPM++ 2M Karras",
    "ddim": "DDIM",
    "lcm": "LCM",
}

#: Variants distilled for few steps; LCM sampling only suits these.
FEW_STEP_VARIANTS = ("lcm", "turbo")


def _check_key(key: str) -> None:
    if key not in SCHEDULERS:
        raise InputError(f"Unknown sampler “{key}”.",
                         hint=f"Choose one of: {', '.join(SCHEDULERS)}.")


def scheduler_label(key: str) -> str:
    _check_key(key)
    return SCHEDULERS[key]


def make_scheduler(key: str, base_config: Mapping[str, Any]) -> Any:
    """A fresh scheduler of kind ``key`` built from the model's own scheduler config.

    The model's config carries its noise schedule (betas, prediction type, timestep spacing);
    only the sampling algorithm changes.
    """
    _check_key(key)
    from diffusers import (DDIMScheduler, DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler,
                           EulerDiscreteScheduler, LCMScheduler)

    config = dict(base_config)
    if key == "euler":
        return EulerDiscreteScheduler.from_config(config)
    if key == "euler_a":
        return EulerAncestralDiscreteScheduler.from_config(config)
    if key == "dpmpp_2m_karras":
        return DPMSolverMultistepScheduler.from_config(config, algorithm_type="dpmsolver++", solver_order=2,
                                                       use_karras_sigmas=True)
    if key == "ddim":
        return DDIMScheduler.from_config(config)
    return LCMScheduler.from_config(config)


def schedulers_for(model: ModelInfo) -> list[str]:
    """The sampler keys that make sense for ``model``, its default first."""
    keys = [k for k in SCHEDULERS if k != "lcm"]
    if model.variant == "lcm":
        return ["lcm", *keys]
    if model.variant == "turbo":
        return ["euler_a", *[k for k in keys if k != "euler_a"], "lcm"]
    return keys


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


def check_scheduler(key: str, model: ModelInfo) -> None:
    """Raise :class:`InputError` when ``key`` is unknown or does not suit ``model``."""
    _check_key(key)
    allowed = schedulers_for(model)
    if key not in allowed:
        raise InputError(f"The sampler “{SCHEDULERS[key]}” does not suit the model “{model.name}”; "
                         "LCM sampling only works with LCM or Turbo models.",
                         hint=f"Choose one of: {', '.join(SCHEDULERS[k] for k in allowed)}.")
