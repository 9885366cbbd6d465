"""Sampler keys, the samplers each model gets, and per-model defaults."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.errors import InputError
from studio.generation.request import ModelFamily, ModelFormat, ModelInfo
from studio.generation.schedulers import (SCHEDULERS, check_scheduler, default_settings, make_scheduler,
                                          schedulers_for)

BASE = ModelInfo("base", Path("/m/base"), ModelFamily.SD1, ModelFormat.DIFFUSERS)
TURBO = ModelInfo("turbo", Path("/m/turbo"), ModelFamily.SDXL, ModelFormat.DIFFUSERS, variant="turbo")
LCM = ModelInfo("lcm", Path("/m/lcm"), ModelFamily.SD1, ModelFormat.DIFFUSERS, variant="lcm")

SD_CONFIG = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
             "beta_schedule": "scaled_linear", "prediction_type": "epsilon", "steps_offset": 1,
             "timestep_spacing": "leading"}


@pytest.mark.parametrize("key, cls_name", [
    ("euler", "EulerDiscreteScheduler"), ("euler_a", "EulerAncestralDiscreteScheduler"),
    ("heun", "HeunDiscreteScheduler"), ("lms", "LMSDiscreteScheduler"), ("dpm2", "KDPM2DiscreteScheduler"),
    ("dpm2_a", "KDPM2AncestralDiscreteScheduler"), ("dpmpp_2m", "DPMSolverMultistepScheduler"),
    ("dpmpp_2m_sde", "DPMSolverMultistepScheduler"), ("dpmpp_sde", "DPMSolverSDEScheduler"),
    ("unipc", "UniPCMultistepScheduler"),
    ("dpmpp_2m_karras", "DPMSolverMultistepScheduler"), ("ddim", "DDIMScheduler"), ("lcm", "LCMScheduler"),
])
def test_each_key_makes_its_scheduler_keeping_the_model_noise_schedule(key: str, cls_name: str) -> None:
    scheduler = make_scheduler(key, SD_CONFIG)
    assert type(scheduler).__name__ == cls_name
    assert scheduler.config.beta_schedule == "scaled_linear"
    assert scheduler.config.beta_end == 0.012
    if key == "dpmpp_2m_karras":
        assert scheduler.config.use_karras_sigmas and scheduler.config.algorithm_type == "dpmsolver++"


def test_unknown_key_is_an_input_error_listing_the_choices() -> None:
    with pytest.raises(InputError) as info:
        make_scheduler("heun_pp", SD_CONFIG)
    assert "euler_a" in str(info.value)


def test_lcm_is_offered_only_to_few_step_models() -> None:
    assert "lcm" not in schedulers_for(BASE)
    assert schedulers_for(LCM)[0] == "lcm"
    assert "lcm" in schedulers_for(TURBO)
    assert set(schedulers_for(BASE)) | {"lcm"} == set(SCHEDULERS)
    with pytest.raises(InputError):
        check_scheduler("lcm", BASE)
    check_scheduler("lcm", LCM)


def test_defaults_suit_the_variant() -> None:
    assert default_settings(BASE) == (25, 7.0, "euler")
    steps, guidance, scheduler = default_settings(TURBO)
    assert 1 <= steps <= 4 and guidance == 0.0 and scheduler in schedulers_for(TURBO)
    steps, guidance, scheduler = default_settings(LCM)
    assert 4 <= steps <= 8 and 1.0 <= guidance <= 2.0 and scheduler == "lcm"


@pytest.mark.parametrize("sigmas, karras, exponential", [("default", False, False), ("karras", True, False),
                                                        ("exponential", False, True)])
@pytest.mark.parametrize("key", ["euler", "heun", "lms", "dpm2", "dpmpp_2m", "dpmpp_2m_sde", "dpmpp_sde", "unipc"])
def test_the_sigma_schedule_is_a_choice_of_its_own(key: str, sigmas: str, karras: bool, exponential: bool) -> None:
    scheduler = make_scheduler(key, SD_CONFIG, sigmas)
    assert bool(scheduler.config.use_karras_sigmas) is karras
    assert bool(scheduler.config.use_exponential_sigmas) is exponential
    if key == "dpmpp_2m_sde":
        assert scheduler.config.algorithm_type == "sde-dpmsolver++"


def test_old_combined_names_read_as_sampler_and_schedule() -> None:
    from studio.generation.schedulers import scheduler_label, split_sampler

    assert split_sampler("dpmpp_2m_karras") == ("dpmpp_2m", "karras")
    assert split_sampler("euler", "exponential") == ("euler", "exponential")
    old, new = make_scheduler("dpmpp_2m_karras", SD_CONFIG), make_scheduler("dpmpp_2m", SD_CONFIG, "karras")
    assert dict(old.config) == dict(new.config)
    assert scheduler_label("dpmpp_2m_karras") == scheduler_label("dpmpp_2m", "karras") == "DPM++ 2M Karras"
    with pytest.raises(InputError, match="already names the karras schedule"):
        split_sampler("dpmpp_2m_karras", "exponential")


def test_samplers_without_a_sigma_choice_refuse_one_and_say_which_take_it() -> None:
    from studio.generation.schedulers import sigma_schedules_for

    for key in ("euler_a", "ddim", "lcm"):
        assert sigma_schedules_for(key) == ["default"]
        with pytest.raises(InputError, match="has no Karras schedule"):
            make_scheduler(key, SD_CONFIG, "karras")
    assert sigma_schedules_for("unipc") == ["default", "karras", "exponential"]
    with pytest.raises(InputError, match="Unknown sigma schedule"):
        make_scheduler("euler", SD_CONFIG, "cosine")


def test_dpmpp_sde_draws_its_noise_from_the_seed_given() -> None:
    assert make_scheduler("dpmpp_sde", SD_CONFIG, seed=11).config.noise_sampler_seed == 11
