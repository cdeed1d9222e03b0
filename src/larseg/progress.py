"""Progress for long jobs: a bar with count, rate and ETA.

API functions take an optional ``progress`` callback ``advance(n)``; the command
line passes the one :func:`progress_bar` yields. On a terminal it is a live
rich bar; otherwise (batch jobs, logs) a plain line is printed every
``log_every`` seconds and at the end, with the same count, rate and ETA.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
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


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class _LogLines:
    """Plain progress lines for non-terminal output."""

    def __init__(self, total: int, description: str, unit: str, completed: int, log_every: float, stream):
        self.total, self.description, self.unit = total, description, unit
        self.done = completed
        self.start_done = completed
        self.log_every = log_every
        self.stream = stream
        self.t0 = self.last = time.monotonic()

    def line(self) -> str:
        elapsed = time.monotonic() - self.t0
        rate = (self.done - self.start_done) / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        pct = 100.0 * self.done / self.total if self.total else 100.0
        eta = _clock(left) if left == left else "-"
        return (f"{self.description}: {self.done}/{self.total} ({pct:.0f}%) {rate:.2f} {self.unit}/s "
                f"elapsed {_clock(elapsed)} ETA {eta}")

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.log_every:
            self.last = now
            print(self.line(), file=self.stream, flush=True)


@contextmanager
def progress_bar(total: int, description: str, unit: str = "it", completed: int = 0,
                 disable: bool = False, log_every: float = 30.0) -> Iterator[Advance]:
    """Yields ``advance(n=1)``; draws on stderr."""
    if disable:
        yield lambda n=1: None
        return
    console = Console(stderr=True)
    if not console.is_terminal:
        log = _LogLines(total, description, unit, completed, log_every, sys.stderr)
        yield log.advance
        print(log.line(), file=sys.stderr, flush=True)
        return
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(unit),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=False, refresh_per_second=2) as bar:
        task = bar.add_task(description, total=total, completed=completed)
        yield lambda n=1: bar.advance(task, n)
