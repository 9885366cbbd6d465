"""The Create tab's prompt helpers (``CreateState.prompts``): saved styles, the prompt history, PNG Info
and the token counter beside the prompt.

They edit the prompt boxes of the :class:`~studio.ui.state.create.CreateState` that owns them and say
what went wrong in its ``error``; PNG Info only reads, and the state's ``send_to_create`` fills the
form from what it read.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal

from studio.errors import StudioError
from studio.generation.request import GenerationRequest
from studio.ui.binding import observed
from studio.ui.workers import FunctionJob, Job, error_message

if TYPE_CHECKING:
    from studio.ui.state.create import CreateState

log = logging.getLogger(__name__)

T = TypeVar("T")


class PromptLibrary(QObject):
    """Styles, history, PNG Info and the token count of one Create tab's prompt."""

    #: The saved prompt styles (a list of PromptStyle) and the prompt history (newest first) changed.
    styles_changed = Signal(object)
    history_changed = Signal(object)

    #: PNG Info: the parameters read from an image, as text; ``png_info_ready``: Send to Create can fill the form.
    png_info_text_changed, png_info_text = observed("", str)
    png_info_ready_changed, png_info_ready = observed(False, bool)
    #: The token counter beside the prompt, A1111's "12/75" (a second chunk of 75 past 75 tokens); "" when empty.
    token_count_changed, token_count = observed("", str)

    def __init__(self, state: "CreateState") -> None:
        super().__init__(state)
        self._state = state
        #: What PNG Info read last (None: nothing to send), and what it could not take.
        self.png_request: GenerationRequest | None = None
        self.png_notes: tuple[str, ...] = ()
        self._token_timer = QTimer(self)
        self._token_timer.setSingleShot(True)
        self._token_timer.setInterval(300)  # counted once typing pauses, in the background
        self._token_timer.timeout.connect(self.count_tokens)

    @property
    def data_dir(self) -> Path:
        return Path(self._state.config.paths.data_dir)

    def _shown(self, action: Callable[[], T]) -> T | None:
        """``action()``, or None with its error shown on the state."""
        try:
            return action()
        except StudioError as exc:
            self._state.error = str(exc)
            return None

    # -- styles and history -------------------------------------------------------------

    @property
    def styles(self) -> list[Any]:
        from studio.workflows.prompt_library import load_styles

        return self._shown(lambda: load_styles(self.data_dir)) or []

    def apply_style(self, name: str) -> None:
        """Put the saved style ``name`` into the prompt and negative prompt (at ``{prompt}``, else after)."""
        from studio.workflows.prompt_library import apply_style, find_style

        style = self._shown(lambda: find_style(name, self.data_dir))
        if style is not None:
            state = self._state
            state.prompt, state.negative_prompt = apply_style(state.prompt, state.negative_prompt, style)

    def save_style(self, name: str) -> None:
        """Save the current prompt and negative prompt as the style ``name`` (replacing one of that name)."""
        from studio.workflows.prompt_library import PromptStyle, save_style

        style = PromptStyle(name.strip(), self._state.prompt, self._state.negative_prompt)
        styles = self._shown(lambda: save_style(style, self.data_dir))
        if styles is not None:
            self._state.error = ""
            self.styles_changed.emit(styles)

    def delete_style(self, name: str) -> None:
        from studio.workflows.prompt_library import delete_style

        styles = self._shown(lambda: delete_style(name, self.data_dir))
        if styles is not None:
            self.styles_changed.emit(styles)

    @property
    def history(self) -> list[Any]:
        """Recent prompts (HistoryEntry), newest first."""
        from studio.workflows.prompt_library import prompt_history

        try:
            return prompt_history(self.data_dir)
        except StudioError as exc:
            log.warning("Could not read the prompt history: %s", exc)
            return []

    def use_history(self, index: int) -> None:
        """Put the history's entry ``index`` (0: newest) back into the prompt boxes."""
        entries = self.history
        if 0 <= index < len(entries):
            self._state.prompt, self._state.negative_prompt = entries[index].prompt, entries[index].negative_prompt

    # -- PNG Info -----------------------------------------------------------------------

    def read_png_info(self, path: str | Path) -> Job:
        """PNG Info: read the generation parameters ``path`` carries, in the background; the text shows
        in ``png_info_text`` and the state's ``send_to_create`` fills the form from them."""
        path = Path(path)
        self.png_request, self.png_notes = None, ()
        self.png_info_ready = False
        self.png_info_text = f"Reading {path.name}…"
        job = self.parameters_job(path)
        job.to(self).succeeded.connect(self._on_png_info)
        job.to(self).failed.connect(self._on_png_info_failed)
        return self._state.background.start(job)

    def parameters_job(self, path: Path) -> Job:
        """A job reading the parameters ``path`` carries (``workflows.pnginfo.read_parameters``: the
        studio's manifest or another tool's), the models and weights it names looked up here."""
        catalog = self._state.catalog
        weights = list(self._state.config.model_folders())  # where LoRAs, VAEs and embeddings named in it are looked up

        def read(_progress: Callable[[Any], None], _cancel: Any) -> Any:
            from studio.workflows.pnginfo import read_parameters

            return read_parameters(path, catalog=catalog, weights=weights)

        return FunctionJob(f"Reading {path.name}", read)

    def _on_png_info(self, found: Any) -> None:
        from studio.text import printable
        from studio.workflows.pnginfo import parameter_lines

        self.png_request, self.png_notes = found.request, tuple(found.notes)
        self.png_info_text = "\n".join(printable(line) for line in parameter_lines(found))  # a line a setting
        self.png_info_ready = found.request is not None

    def _on_png_info_failed(self, exc: BaseException) -> None:
        self.png_request = None
        self.png_info_ready = False
        self.png_info_text = ""
        self._state.error = error_message(exc)

    # -- token counter ------------------------------------------------------------------

    def count_soon(self) -> None:
        """Count again once typing pauses (the prompt or the model changed)."""
        self._token_timer.start()

    def count_tokens(self) -> Job | None:
        """Count the prompt's tokens with the model's tokenizer (no weights are read) in the background."""
        state = self._state
        text, info = state.prompt, state.model
        if not text.strip() or info is None:
            self.token_count = ""
            return None

        def count(_progress: Callable[[Any], None], _cancel: Any) -> Any:
            from studio.generation.prompts import count_prompt_tokens

            return count_prompt_tokens(info.path, text)

        def show(found: Any) -> None:
            from shiboken6 import isValid

            if not isValid(self) or not isValid(state):  # the tab closed while the count ran
                return
            if state.prompt == text:  # a count for text typed since is dropped
                self.token_count = f"{found.tokens}/{found.limit}"

        job = FunctionJob("Counting tokens", count)
        job.to(self).succeeded.connect(show)
        job.to(self).failed.connect(lambda exc: log.warning("Could not count the prompt's tokens: %s", exc))
        return state.background.start(job)
