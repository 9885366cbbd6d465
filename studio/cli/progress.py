"""Progress of a long command on standard error: a tqdm bar at a terminal, a line per change of
step otherwise (a log, CI), nothing under --json. Fed by the studio's one progress shape,
``(fraction 0..1, a line for people)``: ``bar(fraction, text)`` (studio.cancel.ProgressCallback) or
``bar.report(report)`` for a report object (studio.cancel.Progress)."""
from __future__ import annotations

import sys
from typing import Any, TextIO

from studio.cancel import Progress
from studio.text import printable

_TICKS = 1000  # the bar's resolution: fractions are shown to a tenth of a percent


class ProgressBar:
    """``bar(fraction, text)`` as often as the work reports; ``close()`` (or ``with``) at the end."""

    def __init__(self, *, enabled: bool = True, stream: TextIO | None = None, unit: str = "") -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_text: str | None = None
        self._bar: Any = None
        self._unit = unit

    def __call__(self, fraction: float, text: str) -> None:
        if not self.enabled:
            return
        text = printable(text)
        if not self.tty:
            if text != self._last_text:
                print(text, file=self.stream, flush=True)
                self._last_text = text
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=_TICKS, file=self.stream, leave=True, dynamic_ncols=True,
                             bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")
        done = min(max(int(fraction * _TICKS), 0), _TICKS)
        self._bar.set_description_str(text[:60], refresh=False)
        self._bar.update(done - self._bar.n)

    def report(self, progress: Progress) -> None:
        """Show a progress report of the studio's shape (its fraction and its line)."""
        self(progress.fraction, progress.text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
