"""Per-host politeness held across all workers, and "already queued" marks for sources.

A `Coordinator` gives the client its host slots (`harvester.politeness.HostSlots`) and lets
the enqueuer mark a source as queued so that a periodic tick does not pile up copies of it
behind a long queue. `LocalCoordinator` is one process (today's politeness dictionary);
`RedisCoordinator` holds, per host, a lock with an expiry (a worker that dies frees the host
within seconds; a live holder renews it) and a "next allowed time" key that keeps the
source's minimum interval between requests, whichever worker sends the next one. Times are
Redis's clock, so workers on machines whose clocks disagree still agree on the interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from harvester.politeness import POLL_SECONDS, PROCESS_SLOTS, HostSlots, host_key

log = logging.getLogger(__name__)

LOCK_SECONDS = 15.0  # a dead holder frees the host after this; a live one renews it


class Coordinator(Protocol):
    slots: HostSlots

    def mark_queued(self, source: str, seconds: float) -> bool:
        """Mark `source` queued for `seconds`; False if it already is (do not send it)."""
        ...

    def unmark_queued(self, source: str) -> None:
        """The task for `source` has started: the next tick may queue it again."""
        ...

    def close(self) -> None: ...


class LocalCoordinator:
    """One process: the process's host locks; nothing is remembered as queued."""

    def __init__(self) -> None:
        self.slots: HostSlots = PROCESS_SLOTS

    def mark_queued(self, source: str, seconds: float) -> bool:
        return True

    def unmark_queued(self, source: str) -> None:
        return None

    def close(self) -> None:
        return None


class RedisHostSlots:
    """Host slots in Redis: `{prefix}host:{host}:lock` (redis-py's Lock, token-checked
    release, renewed while held) and `{prefix}host:{host}:next` (epoch milliseconds before
    which the host must not be asked again)."""

    def __init__(self, client: Any, prefix: str, lock_seconds: float = LOCK_SECONDS) -> None:
        self.client = client
        self.prefix = prefix
        self.lock_seconds = lock_seconds
        self._held: set[Any] = set()
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._renewer = threading.Thread(target=self._renew, daemon=True,
                                         name="politeness-renewer")
        self._renewer.start()

    def _key(self, url: str) -> str:
        return f"{self.prefix}host:{host_key(url)}"

    def _now_ms(self) -> int:
        seconds, micros = self.client.time()
        return int(seconds) * 1000 + int(micros) // 1000

    @contextmanager
    def hold(self, url: str, check: Callable[[], None] = lambda: None,
             interval: float = 0.0) -> Iterator[None]:
        key = self._key(url)
        lock = self.client.lock(f"{key}:lock", timeout=self.lock_seconds, sleep=0.02,
                                blocking_timeout=POLL_SECONDS, thread_local=False)
        while not lock.acquire():
            check()
        with self._guard:
            self._held.add(lock)
        try:
            while True:  # the interval of whoever asked this host last
                wait = (int(self.client.get(f"{key}:next") or 0) - self._now_ms()) / 1000
                if wait <= 0:
                    break
                check()
                time.sleep(min(wait, POLL_SECONDS))
            if interval > 0:
                self.client.set(f"{key}:next", self._now_ms() + int(interval * 1000),
                                px=int(interval * 1000) + 1000)
            yield
        finally:
            with self._guard:
                self._held.discard(lock)
            try:
                lock.release()
            except Exception as exc:  # expired and taken: the renewer could not reach Redis
                log.warning("politeness lock of %s was lost while held: %s", host_key(url), exc)

    def _renew(self) -> None:
        while not self._stop.wait(self.lock_seconds / 3):
            with self._guard:
                held = list(self._held)
            for lock in held:
                try:
                    lock.reacquire()
                except Exception as exc:  # released meanwhile, or Redis unreachable
                    log.debug("politeness lock not renewed: %s", exc)

    def close(self) -> None:
        self._stop.set()


class RedisCoordinator:
    """Politeness and queued marks in one Redis database, under a key prefix."""

    def __init__(self, url: str, prefix: str = "oai:",
                 lock_seconds: float = LOCK_SECONDS) -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.prefix = prefix
        self.redis_slots = RedisHostSlots(self.client, prefix, lock_seconds)
        self.slots: HostSlots = self.redis_slots

    def mark_queued(self, source: str, seconds: float) -> bool:
        return bool(self.client.set(f"{self.prefix}queued:{source}", "1",
                                    nx=True, px=max(1, int(seconds * 1000))))

    def unmark_queued(self, source: str) -> None:
        self.client.delete(f"{self.prefix}queued:{source}")

    def close(self) -> None:
        self.redis_slots.close()
        self.client.close()
