"""The Create tab's VAE and embeddings pickers: offered from the models folders, chosen through the
real widgets, and recorded in the recipe of a work generated for real on the demo model."""
from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtCore import Qt
from safetensors.torch import save_file

from studio.generation.hashing import file_sha256
from studio.workflows.generate import read_recipe
from tests.generation.options_helpers import tiny_vae_file


def test_a_vae_and_an_embedding_from_the_models_folder_are_used_and_recorded(qtbot, window,
                                                                              demo_model_dir: Path) -> None:
    tab, state = window.create_tab, window.create_state
    panel, options = tab.options_panel, state.options
    models = Path(window.config.model_folders()[0])
    vae = tiny_vae_file(demo_model_dir, models / "VAE")
    embedding = models / "embeddings" / "inkstyle.safetensors"
    embedding.parent.mkdir(parents=True)
    save_file({"emb_params": torch.randn(2, 32, generator=torch.Generator().manual_seed(1))}, str(embedding))
    state.model_choice.find_weights()  # its answer may come before a signal could be awaited: wait for what it shows
    qtbot.waitUntil(lambda: options.vae_choices == (str(vae),) and options.embedding_choices == (str(embedding),),
                    timeout=30_000)
    assert [panel.vae.itemText(i) for i in range(panel.vae.count())] == ["The model's own", vae.name, "VAE file…"]
    panel.vae.setCurrentIndex(1)
    panel.vae.activated.emit(1)
    (action,) = panel.embeddings_menu.actions()
    action.trigger()
    assert options.vae == str(vae) and options.embeddings == (str(embedding),)
    assert "write inkstyle in the prompt" in panel.embeddings_label.text()
    state.prompt = "a fox, inkstyle"
    with qtbot.waitSignal(state.job_finished, timeout=60_000):
        qtbot.mouseClick(tab.generate_button, Qt.MouseButton.LeftButton)
    assert state.error == "", state.error
    recipe = read_recipe(state.results.item(0).path)
    assert recipe.vae == (vae.name, file_sha256(vae))
    assert recipe.embeddings == (("inkstyle.safetensors", file_sha256(embedding)),)
    shown = tab.results.recipe_view.toPlainText().replace("\u200b", "")
    assert f"VAE: {vae.name}" in shown and "Embedding: inkstyle.safetensors" in shown
    # unticked, the embedding is no longer loaded; a VAE gone from the disk is said before anything is queued
    (action,) = panel.embeddings_menu.actions()
    action.trigger()
    assert options.embeddings == () and state.build_request().embeddings == ()
    vae.unlink()
    assert state.generate() is None and "does not exist" in state.error and window.lane.is_idle
