"""Answers in turn: a worker process computes `concurrent_answers` answers at once (one by
default); the other requests wait for their turn in arrival order.

Python runs one thread's bytecode at a time (the GIL). When a gthread worker's threads all
compute answers at once, each one, back from every database round trip, waits for the GIL
(up to the 5 ms switch interval while another thread computes), and which waiting thread
gets it is left to chance: some answers wait through many others' work, and the slowest
percentile grows while throughput does not. Answered in turn, each request waits only for
those that came before it. `bench/load.py`, 64 harvesters on two processes: p99 265-303 ms
with four threads interleaving, 145-192 ms in turn, at the same throughput.

The threads still do what they are for: reading requests, writing answers and keeping
connections alive, so a slow client never holds the turn. A POST body is read before its
request queues for the turn, since the app would otherwise read it (from the client, at the
client's pace) while holding it. An answer that has to wait (a list whose records all
changed under its token waits for the clock, `Provider._resume`) waits outside its turn
(`FairSlots.pause`), or one request could stop its whole worker.
"""

from __future__ import annotations

import io
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class FairSlots:
    """A semaphore that admits its waiters in arrival order: a leaving holder hands its slot
    to the longest-waiting thread (threading's own primitives promise no order)."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("at least one slot")
        self._free = slots
        self._lock = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()

    def acquire(self) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the holder that hands its slot over

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._free += 1

    def pause(self, seconds: float) -> None:
        """Sleep without holding a slot (the caller holds one): the slot goes to the next
        waiter, and the caller queues again afterwards, behind those who came meanwhile."""
        self.release()
        try:
            time.sleep(seconds)
        finally:
            self.acquire()

    @property
    def waiting(self) -> int:
        """Threads queued for a slot (for tests and metrics)."""
        with self._lock:
            return len(self._waiting)

    def __enter__(self) -> FairSlots:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class _FailingInput:
    """Stands for a request body that could not be read: the app's own read raises the same
    error, so the answer is what it would have been (badArgument for a broken chunked
    body)."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    def read(self, *args: Any) -> bytes:
        raise self._error

    readline = read

    def __iter__(self) -> Any:
        raise self._error


def buffer_body(environ: dict[str, Any], limit: int) -> None:
    """Read a POST body of at most `limit` bytes into memory now. A longer declared body is
    left unread: the app refuses it without reading it (413, answered as badArgument)."""
    if environ.get("REQUEST_METHOD") != "POST" or "wsgi.input" not in environ:
        return
    try:
        declared = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        return  # Werkzeug judges the header
    if declared > limit:
        return
    stream = environ["wsgi.input"]
    try:
        data = stream.read(declared) if declared >= 0 else stream.read(limit + 1)
    except Exception as error:  # a broken chunked coding, a reset...
        environ["wsgi.input"] = _FailingInput(error)
        return
    if 0 <= declared != len(data):  # the client left (or was too slow) before the end
        environ["wsgi.input"] = _FailingInput(EOFError(
            f"the body ended after {len(data)} of its {declared} bytes"))
        return
    environ["wsgi.input"] = io.BytesIO(data)


class AnswersInTurn:
    """WSGI middleware: `app` answers at most `slots` requests at once, in arrival order.

    The app must build its whole body before returning (ours does: a page is bounded), so
    that the turn ends before the server writes the answer to the client."""

    def __init__(self, app: WSGIApp, slots: FairSlots, body_limit: int) -> None:
        self.app = app
        self.slots = slots
        self.body_limit = body_limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        buffer_body(environ, self.body_limit)
        with self.slots:
            return self.app(environ, start_response)
