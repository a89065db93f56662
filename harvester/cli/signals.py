"""SIGINT and SIGTERM for long harvester commands: the first asks the work to stop after the
page in flight, the second leaves at once (after the command's own last words)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import click

from harvester.guard import StopRequest


class StopSignals:
    """Installed for the duration of a `with` block, on the main thread only. `at_once`
    runs on the second signal (recording runs interrupted, say) and returns the line that
    tells the user how to resume."""

    def __init__(self, stop: StopRequest, at_once: Callable[[str], str]) -> None:
        self.stop = stop
        self.at_once = at_once
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if not self.stop.is_set():
            self.signum = signum
            self.stop.request(name)
            click.echo(f"stopping after the page in flight ({name}); "
                       "press Ctrl-C again to stop at once", err=True)
            return
        click.echo(f"stopped at once ({name} twice){self.at_once(name)}", err=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(128 + (self.signum or signum))
