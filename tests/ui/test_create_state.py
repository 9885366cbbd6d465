"""The Create tab's view-model driven without any window: defaults per model, checks before
queueing, generating through the GPU lane, reusing seeds and results."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.config import Config
from studio.errors import InputError, NotFound
from studio.generation.schedulers import default_settings, schedulers_for
from studio.ui.main_window import engine_factory
from studio.ui.state.create import CreateState
from studio.ui.state.create_models import DEMO_SIZE_PRESETS, SIZE_PRESETS
from studio.ui.state.jobs import format_progress
from studio.ui.workers import BackgroundPool, GpuLane


@pytest.fixture
def state(qtbot, demo_config: Config):
    from studio.generation.models import ModelCatalog

    demo_config.set("default_model", "demo")
    catalog = ModelCatalog(demo_config)
    lane = GpuLane(engine_factory(demo_config, catalog))
    background = BackgroundPool()
    state = CreateState(demo_config, catalog, lane, background)
    yield state
    lane.shutdown()
    background.shutdown()


def test_choosing_the_demo_sets_its_defaults_sizes_and_samplers(state: CreateState) -> None:
    demo = state.model
    assert demo is not None and demo.is_demo and not state.model_choice.show_empty_state
    assert state.model_choice.schedulers == schedulers_for(demo)
    assert (state.steps, state.guidance, state.scheduler) == default_settings(demo)
    assert state.model_choice.size_presets == DEMO_SIZE_PRESETS and (256, 256) in state.model_choice.size_presets
    assert (state.width, state.height) == (256, 256)
    assert (1024, 1024) in SIZE_PRESETS[demo.family.SDXL] and (512, 512) in SIZE_PRESETS[demo.family.SD1]


def test_sizes_not_divisible_by_8_are_refused_before_queueing(state: CreateState) -> None:
    state.prompt = "a boat"
    state.height = 250
    with pytest.raises(InputError, match="height 250 is not a multiple of 8") as caught:
        state.build_request()
    assert caught.value.hint == "Use 248 or 256."
    assert state.generate() is None
    assert state.error == "The height 250 is not a multiple of 8. Use 248 or 256."
    assert state.lane.is_idle


def test_empty_prompt_missing_init_image_and_missing_lora_are_reported(state: CreateState, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Write a prompt"):
        state.build_request()
    state.prompt = "a tree"
    state.inputs.mode = "img2img"
    with pytest.raises(InputError, match="needs an init image"):
        state.build_request()
    state.inputs.init_image_path = str(tmp_path / "nope.png")
    with pytest.raises(NotFound, match="nope.png does not exist"):
        state.build_request()
    state.inputs.mode = "txt2img"
    state.add_lora(tmp_path / "gone.safetensors")
    with pytest.raises(NotFound, match="gone.safetensors does not exist"):
        state.build_request()
    state.remove_lora(0)
    request = state.build_request()
    assert request.loras == () and request.seed is None


def test_the_engine_checks_run_before_queueing(state: CreateState) -> None:
    state.prompt, state.steps = "a tree", 500
    assert state.generate() is None
    assert "500 steps is out of range" in state.error and state.lane.is_idle


def test_generate_from_the_view_model_saves_a_work_with_a_fixed_seed(qtbot, state: CreateState) -> None:
    state.prompt, state.width, state.height, state.steps = "a field of poppies", 64, 64, 2
    state.random_seed, state.seed, state.count = False, 1234, 2
    with qtbot.waitSignal(state.job_finished, timeout=60_000):
        job = state.generate()
        assert job is not None and state.busy
    assert [state.results.item(i).seed for i in range(2)] == [1235, 1234]
    assert all(item.path.is_file() for item in state.results.items)
    assert not state.busy and state.error == ""
    state.random_seed = True
    state.reuse_seed(1)
    assert (state.random_seed, state.seed) == (False, 1234)
    state.use_result_as_init(0)
    assert state.inputs.mode == "img2img" and state.inputs.init_image_path == str(state.results.item(0).path)


def test_saves_are_signed_by_the_provided_account_and_unsigned_when_it_is_locked(qtbot, state: CreateState) -> None:
    from studio.chain.devnet import devnet_account_signer
    from studio.errors import WalletLocked
    from studio.provenance.embed import read_embedded
    from studio.provenance.manifest import SignedManifest

    def manifest(path: Path) -> SignedManifest:
        return SignedManifest.from_json(read_embedded(path.read_bytes(), name=path.name).provenance_json)

    artist = devnet_account_signer(0)
    state.set_signer_provider(lambda: artist)
    state.prompt, state.width, state.height, state.steps = "a signed field", 64, 64, 2
    with qtbot.waitSignal(state.job_finished, timeout=60_000):
        state.generate()
    signed = manifest(state.results.item(0).path)
    assert signed.manifest.creator == artist.address and signed.signature

    def locked() -> None:
        raise WalletLocked("The wallet is locked.")

    state.set_signer_provider(locked)  # a provider that cannot sign: the work is still saved, unsigned
    with qtbot.waitSignal(state.job_finished, timeout=60_000):
        state.generate()
    unsigned = manifest(state.results.item(0).path)
    assert unsigned.manifest.creator is None and not unsigned.signature and state.error == ""


def test_mint_is_requested_for_the_chosen_results_in_grid_order(qtbot, state: CreateState) -> None:
    assert state.request_mint([]) == [] and state.error == "Select one or more results to mint."
    state.prompt, state.width, state.height, state.steps, state.count = "two boats", 64, 64, 2, 2
    with qtbot.waitSignal(state.job_finished, timeout=60_000):
        state.generate()
    with qtbot.waitSignal(state.mint_requested) as requested:
        work_ids = state.request_mint([1, 0, 1])
    expected = [state.results.item(0).work.work_id, state.results.item(1).work.work_id]  # the library's works
    assert requested.args[0] == work_ids == expected and None not in expected


def test_adding_a_folder_that_is_no_model_shows_why(qtbot, state: CreateState, tmp_path: Path) -> None:
    with qtbot.waitSignal(state.error_changed, timeout=30_000):
        state.model_choice.add_model(tmp_path)
    assert state.error and "Unexpected error" not in state.error
    assert state.model is not None and state.model.is_demo


def test_progress_line_names_step_image_and_eta() -> None:
    from studio.generation.request import GenerationProgress

    assert format_progress(GenerationProgress(image_index=0, image_count=2, step=3, steps=20,
                                              elapsed_s=0.6)) == "step 3/20 · image 1/2 · ETA 7 s"
    assert format_progress(GenerationProgress(image_index=0, image_count=1, step=1, steps=2,
                                              elapsed_s=0.1)) == "step 1/2 · ETA <1 s"


def test_an_added_model_can_be_taken_off_the_list_and_the_demo_cannot(qtbot, state: CreateState,
                                                                      demo_model_dir: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "my-model"
    shutil.copytree(demo_model_dir, folder)
    with qtbot.waitSignal(state.model_choice.model_name_changed, timeout=30_000):
        state.model_choice.add_model(folder)
    assert state.model_choice.model_name == "my-model" and "my-model" in [m.name for m in state.model_choice.models]

    with qtbot.waitSignal(state.model_choice.model_name_changed, timeout=30_000):
        assert state.model_choice.remove_model() is not None
    assert "my-model" not in [m.name for m in state.model_choice.models]
    assert state.model is not None and state.model.is_demo
    assert state.error == "" and "untouched" in state.progress_text
    assert (folder / "model_index.json").is_file()  # the files stay

    assert state.model_choice.remove_model() is None
    assert state.error == "The demo model is built in and cannot be removed."


def test_settings_from_other_tools_pick_the_sampler_by_any_of_its_names(state: CreateState) -> None:
    assert state.apply_settings("a fox", scheduler="Euler a") == []
    assert state.scheduler == "euler_a"
    assert state.apply_settings("a fox", scheduler="DPM++ 2M Karras") == []
    assert (state.scheduler, state.options.sigmas) == ("dpmpp_2m", "karras")
    assert state.build_request().sigmas == "karras"
    assert state.apply_settings("a fox", scheduler="dpmpp_2m_sde") == [] and state.scheduler == "dpmpp_2m_sde"
    assert state.options.sigmas == "default"
    state.options.sigmas = "exponential"
    state.apply_settings("a fox", scheduler="Euler a")  # Euler a walks only its own schedule
    assert (state.scheduler, state.options.sigmas) == ("euler_a", "default")
    assert "not offered" in state.apply_settings("a fox", scheduler="Restart")[0]
