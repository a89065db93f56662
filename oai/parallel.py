"""An ordered, bounded map over worker processes, for the CPU-bound part of loading and
rebuilding (validating, rendering and schema-checking records).

Why not `ProcessPoolExecutor.map` or `Pool.imap`: both consume their whole input before the
first result comes back, so memory would grow with the input. Here at most `workers * AHEAD`
chunks are in flight, results come back in input order, and the caller writes them from one
process (SQLite allows one writer; PostgreSQL gains nothing from several on two cores).

Workers start from a fork server that has already imported `preload`, so each starts in
milliseconds without inheriting the caller's threads, locks or database connections. Inputs
too small to pay for that are handled in the calling process.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Chunks queued per worker: enough to keep every worker busy while results are written.
AHEAD = 3


def available_cpus() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def ordered_map(work: Callable[[list[T]], list[R]], items: Iterable[T], *, jobs: int,
                chunk: int = 64, inline_below: int = 256,
                initializer: Callable[..., Any] | None = None,
                initargs: Sequence[Any] = (), preload: Sequence[str] = ()
                ) -> Iterator[tuple[T, R]]:
    """`work` applied to consecutive chunks of `items` (one result per item): each item with
    its result, in input order.

    `work`, `initializer` and their arguments must be picklable (module-level functions).
    With `jobs` <= 1, or fewer than `inline_below` items, everything runs in this process
    (after `initializer`, so both paths see the same state)."""
    source = iter(items)
    head = list(islice(source, max(inline_below, chunk)))
    if jobs <= 1 or len(head) < inline_below:
        if initializer is not None:
            initializer(*initargs)
        yield from _inline(work, head, source, chunk)
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker,
                             initargs=(os.getpid(), initializer, tuple(initargs))) as pool:
        pending: deque[tuple[list[T], Future[list[R]]]] = deque()
        chunks = _chunks(head, source, chunk)
        try:
            for part in islice(chunks, jobs * AHEAD):
                pending.append((part, pool.submit(work, part)))
            while pending:
                part, future = pending.popleft()
                results = future.result()
                following = next(chunks, None)
                if following is not None:
                    pending.append((following, pool.submit(work, following)))
                yield from zip(part, results, strict=True)
        finally:  # stopped early (an error, Ctrl-C, a consumer that gave up): drop the rest
            for _part, future in pending:
                future.cancel()


def _start_worker(owner: int, initializer: Callable[..., Any] | None,
                  initargs: tuple[Any, ...]) -> None:
    """Runs first in each worker: exit when the owner dies (a SIGKILLed load would otherwise
    leave its workers waiting forever on a queue they themselves keep open), leave Ctrl-C to
    the owner (which stops the pool), then the caller's initializer."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(owner,), daemon=True,
                     name="owner-watch").start()
    if initializer is not None:
        initializer(*initargs)


def _exit_with(owner: int) -> None:
    try:
        handle = os.pidfd_open(owner)
    except (AttributeError, OSError):  # no pidfd (old kernel, not Linux): poll instead
        while _alive(owner):
            time.sleep(1.0)
    else:
        select.select([handle], [], [])  # readable once the owner has exited
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _inline(work: Callable[[list[T]], list[R]], head: list[T], source: Iterator[T],
            chunk: int) -> Iterator[tuple[T, R]]:
    for part in _chunks(head, source, chunk):
        yield from zip(part, work(part), strict=True)


def _chunks(head: list[T], source: Iterator[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(head), size):
        yield head[start:start + size]
    while part := list(islice(source, size)):
        yield part
