"""Who is harvesting a source: a lease with an expiry that a heartbeat thread keeps renewing,
independently of page writes (a request retrying for minutes cannot outlive it).

This works across processes and machines: a run that dies stops renewing and its lease
lapses. On the machine that ran it, a dead holder is recognised at once (same boot, same pid
namespace, no such process), so a harvest restarted after a crash does not wait for the
expiry.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading

from oai.store.errors import StoreError
from oai.store.harvest import HarvestStore

log = logging.getLogger(__name__)

DEFAULT_SECONDS = 60


def machine_identity() -> str:
    """This machine's boot and pid namespace: pids mean the same thing only within both."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            boot = fh.read().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return f"{socket.gethostname()}:unknown"  # no way to tell: rely on the expiry
    return f"{boot}:{namespace}"


def process_owner(label: str | None = None) -> str:
    """This lease holder, as shown to people: host (or a worker's name, such as Celery's
    `worker@host`) and pid, plus a random token (two runs of one process differ)."""
    name = (label or socket.gethostname()).replace(":", "_")
    return f"{name}:{os.getpid()}:{secrets.token_hex(4)}"


def abandoned(owner: str, node: str | None) -> bool:
    """Whether a holder certainly died: it ran on this machine and its process is gone."""
    if node is None or node != machine_identity() or node.endswith(":unknown"):
        return False
    parts = owner.split(":")
    if len(parts) < 3 or not parts[-2].isdigit():
        return False
    try:
        os.kill(int(parts[-2]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Lease:
    """Holds one source for this process while a run lasts."""

    def __init__(self, hstore: HarvestStore, source_id: int,
                 seconds: int = DEFAULT_SECONDS, label: str | None = None) -> None:
        self.hstore = hstore
        self.source_id = source_id
        self.seconds = max(3, seconds)
        self.owner = process_owner(label)
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> str | None:
        """None when the source is now ours (the heartbeat runs), else who holds it."""
        holder = self.hstore.acquire_lease(self.source_id, self.owner, machine_identity(),
                                           self.seconds, abandoned)
        if holder is None:
            self._thread = threading.Thread(target=self._beat, daemon=True,
                                            name=f"lease-{self.source_id}")
            self._thread.start()
        return holder

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                if not self.hstore.renew_lease(self.source_id, self.owner, self.seconds):
                    self.lost = True
                    return
            except StoreError as exc:  # keep trying: the lease lasts a while
                log.warning("lease of source %s not renewed: %s", self.source_id, exc)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.hstore.release_lease(self.source_id, self.owner)
        except StoreError as exc:  # it expires on its own
            log.warning("lease of source %s not released: %s", self.source_id, exc)
