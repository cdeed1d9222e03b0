"""Progress bars for long jobs: a bar with count, rate and ETA (rich).

API functions take an optional ``progress`` callback ``advance(n)``; the command
line passes the one :func:`progress_bar` yields. Library users can pass their
own or nothing.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn,
)
from rich.text import Text

Advance = Callable[[int], None]


class _RateColumn(ProgressColumn):
    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-" if speed is None else f"{speed:.2f} {self.unit}/s")


@contextmanager
def progress_bar(total: int, description: str, unit: str = "it", completed: int = 0,
                 disable: bool = False) -> Iterator[Advance]:
    """Yields ``advance(n=1)``; draws on stderr (plain lines when it is not a terminal)."""
    if disable:
        yield lambda n=1: None
        return
    console = Console(stderr=True, force_terminal=None)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(unit),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=False, refresh_per_second=2) as bar:
        task = bar.add_task(description, total=total, completed=completed)
        yield lambda n=1: bar.advance(task, n)
    if not console.is_terminal:
        sys.stderr.flush()
