"""Bounds on one run: a request budget, a wall-clock budget, a circuit breaker, and the stop
signal (Ctrl-C, SIGTERM). The client consults its guard before every request and reports
every failed one; the sync loop reports progress (a page it could use).

A run that meets a bound stops with a clear reason and stays resumable: nothing here loses
what was harvested, it only decides when to stop asking.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harvester.errors import BudgetExhausted, CircuitOpen, Interrupted


class StopRequest(threading.Event):
    """The stop signal, saying what asked for it (for the run's recorded reason)."""

    reason = "a stop request"

    def request(self, reason: str) -> None:
        self.reason = reason
        self.set()


@dataclass(frozen=True)
class Limits:
    """The bounds of one run; None means unbounded."""

    max_requests: int | None = None
    max_seconds: float | None = None
    breaker: int | None = None  # consecutive failed requests without progress


class RunGuard:
    def __init__(self, limits: Limits = Limits(), stop: threading.Event | None = None,
                 sleep: Callable[[float], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.stop = stop
        self._sleep = sleep
        self._clock = clock
        self._started = clock()
        self.requests = 0
        self.failures = 0
        self.notify: Callable[[dict[str, Any]], None] | None = None  # progress events

    @property
    def elapsed(self) -> float:
        return self._clock() - self._started

    def check(self) -> None:
        """Raise if the run must stop now (stop requested, time budget spent)."""
        if self.stop is not None and self.stop.is_set():
            raise Interrupted(f"interrupted by {getattr(self.stop, 'reason', 'a stop request')}")
        limit = self.limits.max_seconds
        if limit is not None and self.elapsed >= limit:
            raise BudgetExhausted(f"the time budget of {limit:g} s is spent")

    def before_request(self) -> None:
        self.check()
        limit = self.limits.max_requests
        if limit is not None and self.requests >= limit:
            raise BudgetExhausted(f"the budget of {limit} requests is spent")
        self.requests += 1

    def failed(self, why: str) -> None:
        """A request failed; open the breaker after too many in a row without progress."""
        self.failures += 1
        limit = self.limits.breaker
        if limit is not None and self.failures >= limit:
            raise CircuitOpen(f"{self.failures} consecutive failed requests without "
                              f"progress (last: {why})")

    def progressed(self) -> None:
        self.failures = 0

    def wait(self, seconds: float) -> None:
        """Sleep, but wake at once for a stop request, and never past the time budget."""
        limit = self.limits.max_seconds
        if limit is not None and self.elapsed + seconds > limit:
            raise BudgetExhausted(f"waiting {seconds:.0f} s more would pass the time budget "
                                  f"of {limit:g} s")
        if self.notify is not None:
            self.notify({"event": "wait", "seconds": round(seconds, 1)})
        if self._sleep is not None:
            self._sleep(seconds)
        elif self.stop is not None:
            self.stop.wait(seconds)
        else:
            time.sleep(seconds)
        self.check()
