"""Per-host politeness: one request at a time per host, whoever is asking.

The client asks a `HostSlots` for the host's slot around every request. `LocalHostSlots` holds
the slots of one process (threads harvesting several sources of one host share it); a
distributed harvest plugs in an implementation backed by shared storage with the same shape.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol
from urllib.parse import urlsplit

POLL_SECONDS = 0.25


def host_key(url: str) -> str:
    """What counts as one host: scheme, host name (lower case) and port."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port or ''}"


class HostSlots(Protocol):
    def hold(self, url: str, check: Callable[[], None],
             interval: float = 0.0) -> AbstractContextManager[None]:
        """Hold the slot of `url`'s host while the block runs; `check` is called while
        waiting for it, so a stop request (it raises) is not held up by another source.
        `interval` is the source's minimum interval between requests: a shared
        implementation keeps it for the host across processes (in one process the client
        keeps it per source)."""
        ...


class LocalHostSlots:
    """The slots of this process: a lock per host."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, url: str) -> threading.Lock:
        key = host_key(url)
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    @contextmanager
    def hold(self, url: str, check: Callable[[], None] = lambda: None,
             interval: float = 0.0) -> Iterator[None]:
        lock = self.lock(url)
        while not lock.acquire(timeout=POLL_SECONDS):
            check()
        try:
            yield
        finally:
            lock.release()


PROCESS_SLOTS = LocalHostSlots()
