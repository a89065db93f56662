"""How a harvest shows itself while it runs: one live row per source on a terminal (records,
rate, ETA, state, retries waiting), JSON lines with --json, nothing otherwise (warnings are
logged as `warning:` lines either way)."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any, Protocol


class Reporter(Protocol):
    def __call__(self, event: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class JsonReporter:
    """Every event as one JSON line on stderr."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        line = json.dumps(event, ensure_ascii=False) + "\n"
        with self._lock:  # one write and one flush per line (click.echo also asked isatty)
            sys.stderr.write(line)
            sys.stderr.flush()

    def close(self) -> None:
        return None


class QuietReporter:
    def __call__(self, event: dict[str, Any]) -> None:
        return None

    def close(self) -> None:
        return None


class LiveReporter:
    """Rows drawn by rich (a well-kept library that redraws a table of progress bars in
    place and estimates rates and remaining time), one per source."""

    def __init__(self, names: list[str], console: Any = None) -> None:
        from rich.progress import (
            BarColumn,
            Progress,
            ProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class Rate(ProgressColumn):
            def render(self, task: Any) -> Text:
                speed = task.finished_speed or task.speed
                return Text(f"{speed:,.0f} rec/s" if speed else "", style="progress.data.speed")

        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(),
            TextColumn("{task.completed:,.0f}{task.fields[of]} records"), Rate(),
            TimeRemainingColumn(), TextColumn("{task.fields[state]}"),
            console=console or _console(), transient=False, refresh_per_second=4)
        self._tasks = {name: self._progress.add_task(name, total=None, of="", state="waiting")
                       for name in names}
        self._base: dict[str, float] = dict.fromkeys(names, 0.0)
        self._lock = threading.Lock()
        self._progress.start()

    def __call__(self, event: dict[str, Any]) -> None:
        name = event.get("source")
        if name not in self._tasks:
            return
        task = self._tasks[name]
        kind = event.get("event")
        with self._lock:
            current = self._progress.tasks[task].completed
            if kind == "page":
                size = event.get("size")
                completed = current + int(event.get("records") or 0)
                update: dict[str, Any] = {"completed": completed, "state": "harvesting"}
                if size:
                    total = self._base[name] + int(size)
                    update.update(total=max(total, completed), of=f"/{total:,.0f}")
                self._progress.update(task, **update)
            elif kind == "list":
                self._base[name] = current
                self._progress.update(task, state="listing")
            elif kind == "wait":
                self._progress.update(task, state=f"retrying in {event.get('seconds')} s")
            elif kind in ("start", "resume", "catch-up", "split"):
                self._progress.update(task, state={"start": "started", "resume": "resuming",
                                                   "catch-up": "catching up",
                                                   "split": "splitting a list"}[kind])
            elif kind == "end":
                self._progress.update(task, state=str(event.get("status")),
                                      total=current or 1, of="")

    def close(self) -> None:
        self._progress.stop()


def _console() -> Any:
    from rich.console import Console

    return Console(file=sys.stderr)


def make_reporter(names: list[str], as_json: bool) -> Reporter:
    if as_json:
        return JsonReporter()
    if sys.stderr.isatty():
        return LiveReporter(names)
    return QuietReporter()


class CountBar:
    """A bar with ETA on stderr for a long pass over a known number of items (publishing a
    source); nothing when stderr is not a terminal."""

    def __init__(self, label: str, total: int | None) -> None:
        self._progress: Any = None
        if sys.stderr.isatty() and total:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                                      TimeRemainingColumn(), console=_console(),
                                      transient=True)
            self._task = self._progress.add_task(label, total=total)

    def __enter__(self) -> CountBar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def advance(self, count: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, count)
