"""The Create tab's X/Y/Z plot: axes checked before anything is queued, a 2×2 plot made for real on
the demo model (64x64, 2 steps) through the tab's widgets, every cell a work in the results and the
Gallery's library, the grid image shown last; and a plot cancelled part way."""
from __future__ import annotations

from PIL import Image
from PySide6.QtCore import Qt

from studio.workflows.generate import read_recipe
from studio.workflows.grid import GRID_KEY


def choose_axis(tab, name: str, kind: str, values: str, qtbot) -> None:
    combo, line = tab.plot_panel.kinds[name], tab.plot_panel.values[name]
    combo.setCurrentIndex(combo.findData(kind))
    combo.activated.emit(combo.currentIndex())  # what a pick in the list sends
    line.clear()
    qtbot.keyClicks(line, values)


def test_a_2x2_plot_makes_four_works_and_a_grid_image_of_them(qtbot, window) -> None:
    tab, state = window.create_tab, window.create_state
    state.prompt, state.random_seed, state.seed = "a lighthouse", False, 1234
    assert not tab.plot_panel.values["y"].isEnabled()
    choose_axis(tab, "x", "steps", "2, 3", qtbot)
    choose_axis(tab, "y", "guidance", "3, 7.5", qtbot)
    assert (state.plot.x_kind, state.plot.x_values, state.plot.y_kind) == ("steps", "2, 3", "guidance")
    works_before = window.library.count_works()
    with qtbot.waitSignal(state.job_finished, timeout=120_000):
        qtbot.mouseClick(tab.plot_panel.make_button, Qt.MouseButton.LeftButton)
    assert state.error == "", state.error
    assert state.progress_text.startswith("Done: X/Y/Z plot of 4 images")
    assert state.results.rowCount() == 5
    grid_item, cells = state.results.item(0), [state.results.item(row) for row in range(1, 5)]
    assert grid_item.grid is not None and grid_item.caption == "X/Y/Z plot"
    recipes = [read_recipe(item.path) for item in cells]
    assert sorted((r.steps, r.guidance) for r in recipes) == [(2, 3.0), (2, 7.5), (3, 3.0), (3, 7.5)]
    for item, recipe in zip(cells, recipes):  # each cell is captioned with its values along the axes
        assert item.caption == f"Steps {recipe.steps} · CFG scale {recipe.guidance:g}"
    assert {r.seed for r in recipes} == {1234} and {r.prompt for r in recipes} == {"a lighthouse"}
    assert window.library.count_works() == works_before + 4  # every cell is in the Gallery; the grid is not
    with Image.open(grid_item.path) as grid:
        assert grid.size == (120 + 2 * 64, 24 + 2 * 64)  # Y labels on the left, X labels on top
        assert GRID_KEY in grid.text
    # the grid is selected: the side panel says what it is, and it is neither minted nor upscaled
    shown = tab.results.recipe_view.toPlainText().replace("\u200b", "")  # paths and slashes carry break points
    assert "X/Y/Z plot: Steps (2, 3) × CFG scale (3, 7.5)" in shown and str(grid_item.path) in shown
    assert not tab.mint_button.isEnabled() and not tab.results.upscale_button.isEnabled()
    assert state.request_mint([0]) == [] and "not minted" in state.error
    assert state.upscale_result(0) is None and window.lane.is_idle
    assert state.request_mint([1, 2]) == [cells[0].work.work_id, cells[1].work.work_id]  # the cells' works
    assert None not in (cells[0].work.work_id, cells[1].work.work_id)


def test_a_plot_with_bad_axes_says_why_and_queues_nothing(qtbot, window) -> None:
    state = window.create_state
    state.prompt = "a lighthouse"
    assert state.make_plot() is None and "no axis" in state.error
    state.plot.x_kind, state.plot.x_values = "steps", "2, ten"
    assert state.make_plot() is None and "“ten” is not a number for the Steps axis" in state.error
    state.plot.x_kind, state.plot.x_values = "prompt_sr", "castle, tower"
    assert state.make_plot() is None and "“castle” is not in the prompt" in state.error
    state.plot.x_kind, state.plot.x_values = "sampler", "euler, no_such_sampler"
    assert state.make_plot() is None and "no_such_sampler" in state.error
    state.plot.x_kind, state.plot.x_values = "steps", ", ".join(str(n) for n in range(1, 12))
    state.plot.y_kind, state.plot.y_values = "seed", ", ".join(str(n) for n in range(10))
    assert state.make_plot() is None and "110 cells" in state.error
    assert window.lane.is_idle and state.results.rowCount() == 0


def test_cancelling_a_plot_stops_it_and_makes_no_grid(qtbot, window) -> None:
    state = window.create_state
    state.prompt, state.steps = "a lighthouse", 30
    state.plot.x_kind, state.plot.x_values = "seed", "1, 2, 3, 4, 5, 6"
    job = state.make_plot()
    assert job is not None, state.error
    qtbot.waitUntil(lambda: "cell 1/6" in state.progress_text, timeout=60_000)
    with qtbot.waitSignal(state.job_finished, timeout=60_000):
        state.jobs.cancel()
    assert state.progress_text == "Cancelled."
    assert state.results.rowCount() < 6 and all(item.grid is None for item in state.results.items)
