"""A list's requests made ahead in a child process, while this one parses and commits.

Why: a harvest of a fast server is bound by one core's worth of Python (the GIL): the
requests, the parsing and the page's transaction take turns. A forked child that only makes
the requests of the resumption chain takes the first of the three to the other core.

What the child does, and nothing more: it follows the tokens it reads from each body's tail
with the client's own transport (`OAIClient._attempt`: timeouts, deadline, redirects, byte
cap, decoding) and sends every outcome, an answer or a transport error, over a pipe. It stops
at the first answer that is not a clean one (an error status, a failure), at the end of the
list, at the run's request or time budget, or when this process goes away. Every policy stays
here: each outcome is handed to `OAIClient.harvest_params` as the first attempt of its
request, which counts it, checks the budgets, the breaker and the stop signal, and retries it
(in this process) as it would any attempt. Where the child's chain parts from ours (it read
another token than the parser did, or stopped), a new child starts at our token; a child that
died or fell silent past the request deadline: the request is made here, as without one.

Only where a fork is safe and changes nothing a server sees (see `available`): Linux, one
source at a time on its host, no minimum interval between requests.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import queue
import select
import signal
import struct
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harvester.answers import FetchResult
from harvester.parsing import scan_token

if TYPE_CHECKING:
    from harvester.client import OAIClient

_HEADER = struct.Struct("<QQ")  # sizes of the frame's pickled metadata and of its body
_POLL_SECONDS = 0.2
_PR_SET_PDEATHSIG = 1
_FORKING = threading.Lock()  # one fork at a time: a pipe's write end goes to one child only
_PIPE_BYTES = 1 << 20
_SILENCE_MARGIN = 5.0  # seconds beyond the request deadline before a child counts as stuck


class Closed(Exception):
    """The fetcher was closed (the pager is done with it)."""


@dataclass(frozen=True)
class Outcome:
    """One attempt made by the child: its answer, or the transport error it raised."""

    params: dict[str, str]
    result: FetchResult | None = None
    error: BaseException | None = None

    def unwrap(self) -> FetchResult:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def available(client: OAIClient) -> bool:
    """Whether a child may make this client's requests: a fork is safe here, the client uses
    its own session, and nothing spaces its requests (a minimum interval is kept here)."""
    return (sys.platform.startswith("linux") and hasattr(os, "fork")
            and client.min_interval <= 0 and client.owns_session)


class ChainFetcher:
    """The child of one resumption chain, from its first request on (see the module doc).

    A reader thread drains the child's pipe into a queue of at most `AHEAD` outcomes, so the
    child runs that far ahead of the parsing; `take` hands them out in order."""

    AHEAD = 4

    def __init__(self, client: OAIClient, params: dict[str, str]) -> None:
        self.client = client
        self.first = dict(params)
        self._read_fd: int | None = None
        self._pid: int | None = None
        self._queue: queue.Queue[Outcome | None] = queue.Queue(self.AHEAD)
        self._reader: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._ended = False

    # -- parent ---------------------------------------------------------------------------

    def start(self) -> None:
        guard = self.client.guard
        limit = guard.limits.max_requests
        budget = None if limit is None else max(0, limit - guard.requests)
        seconds = guard.limits.max_seconds
        until = None if seconds is None else time.monotonic() + seconds - guard.elapsed
        with _FORKING, warnings.catch_warnings():
            # (Python 3.12 warns about any fork of a threaded process: the child here runs
            # only code that takes no lock another thread may hold, see `_detach`)
            warnings.simplefilter("ignore", DeprecationWarning)
            read_fd, write_fd = os.pipe()
            _widen(write_fd)
            try:
                pid = os.fork()
            except OSError:
                os.close(read_fd)
                os.close(write_fd)
                raise
            if pid == 0:  # the child: never returns
                _child(self.client, self.first, write_fd, budget, until)
            os.close(write_fd)  # before any other fork: no other child may hold it open
        self._read_fd, self._pid = read_fd, pid
        self._reader = threading.Thread(target=self._drain, daemon=True, name="oai-chain")
        self._reader.start()

    def take(self, params: dict[str, str]) -> Outcome | None:
        """The child's outcome for `params`, if it is the next one it made; None when the
        caller must make the request itself. Raises Closed once the fetcher is closed."""
        with self._lock:
            if self._closed:
                raise Closed
            if self._ended:
                return None
            outcome = self._queue.get()
            if self._closed:
                raise Closed
            if outcome is None or outcome.params != params:
                self._end()
                return None
            if outcome.error is not None or outcome.result is None \
                    or outcome.result.status >= 300:
                self._end()  # the child stopped there: what follows is made here
            return outcome

    def close(self) -> None:
        """Stop the child at once (a `take` waiting for it returns) and reap it."""
        self._closed = True
        self._kill()
        if self._reader is not None:
            self._reader.join()  # it ends at the pipe's end, which the kill brings
        with self._lock:
            if self._pid is not None:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(self._pid, 0)
                self._pid = None  # reaped only here, after the kill: its pid stays ours

    def _end(self) -> None:
        self._ended = True
        self._kill()

    def _kill(self) -> None:
        pid = self._pid
        if pid is not None:  # not reaped yet, so the pid cannot belong to anyone else
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _drain(self) -> None:
        """The reader thread: outcomes into the queue until the pipe ends (then None)."""
        assert self._read_fd is not None
        try:
            while True:
                outcome = self._next()
                if not self._put(outcome) or outcome is None:
                    return
        except BaseException:  # (whatever broke, `take` must not wait forever)
            self._put(None)
        finally:
            os.close(self._read_fd)
            self._read_fd = None

    def _put(self, outcome: Outcome | None) -> bool:
        while not self._closed:
            try:
                self._queue.put(outcome, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        with contextlib.suppress(queue.Full):  # a `take` waiting must wake up
            self._queue.put_nowait(None)
        return False

    def _next(self) -> Outcome | None:
        """The next frame, or None at the child's end, on a broken frame, or when the child
        has been silent longer than any request of its may take."""
        silence = self.client.connect_timeout + self.client.deadline + _SILENCE_MARGIN
        header = self._read(_HEADER.size, silence)
        if header is None:
            return None
        meta_size, body_size = _HEADER.unpack(header)
        meta = self._read(meta_size, silence)
        body = self._read(body_size, silence)
        if meta is None or body is None:
            return None
        try:
            params, status, headers, url, elapsed, error = pickle.loads(meta)
        except Exception:
            return None
        if error is not None:
            return Outcome(params, error=_rebuild(*error))
        return Outcome(params, FetchResult(url=url, status=status, headers=headers, body=body,
                                           elapsed=elapsed, attempts=1, params=dict(params)))

    def _read(self, size: int, silence: float) -> bytes | None:
        """`size` bytes of the pipe, or None at its end or after `silence` seconds without
        any. A page the child wrote whole (the pipe holds one) comes in one read, into the
        bytes object returned: no buffer to fill and copy."""
        assert self._read_fd is not None
        parts: list[bytes] = []
        got = 0
        while got < size:
            ready, _, _ = select.select([self._read_fd], [], [], silence)
            if not ready:
                return None
            part = os.read(self._read_fd, size - got)
            if not part:
                return None
            parts.append(part)
            got += len(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)


# -- child ----------------------------------------------------------------------------------


def _child(client: OAIClient, params: dict[str, str], write_fd: int, budget: int | None,
           until: float | None) -> None:
    """Follow the chain from `params`, one frame per attempt; always ends the process."""
    try:
        parent = os.getppid()
        # what the parent's threads left is never collected here: a socket object finalized
        # in the child would close a descriptor number the child has reused
        gc.freeze()
        # nothing of the parent's stays open here but the pipe: its database connections,
        # sockets and other children's pipes (closing them here changes nothing for it)
        _close_inherited(write_fd)
        _detach(client)
        if os.getppid() != parent:
            return  # the parent died before the death signal was asked for
        made = 0
        while (budget is None or made < budget) and (until is None or time.monotonic() < until):
            if os.getppid() != parent:
                return  # the parent is gone (killed): no request for nobody
            made += 1
            try:
                result = client._attempt(params, 1)
            except Exception as exc:
                _send(write_fd, (params, None, None, None, None, _flatten(exc)), b"")
                return
            _send(write_fd, (params, result.status, dict(result.headers), result.url,
                             result.elapsed, None), result.body)
            if result.status >= 300:
                return
            found = scan_token(result.body, tail_only=True)
            if found is None or not found.value:
                return
            params = {"verb": params["verb"], "resumptionToken": found.value}
    except BaseException:
        pass
    finally:
        os._exit(0)


def _detach(client: OAIClient) -> None:
    """What the child needs of its own: it dies with the thread that forked it (the list's
    reading thread, which outlives the child's use; and with the whole process, SIGKILLed or
    not), leaves Ctrl-C to its parent, never writes to the terminal, and shares no lock or
    connection with the parent's threads."""
    with contextlib.suppress(Exception):  # no libc prctl: the parent check below remains
        import ctypes

        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    import logging

    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    # a session, host slots, lock and guard of its own; the parent's session is kept
    # referenced (its pooled sockets, closed above, must not be finalized here)
    import requests

    from harvester.guard import RunGuard
    from harvester.politeness import LocalHostSlots

    parent_session = client.session
    client.session = requests.Session()
    client.session.trust_env = False
    client.session.headers.clear()
    client.session.headers.update(parent_session.headers)
    client._parent_session = parent_session
    client.slots = LocalHostSlots()
    client._source_lock = threading.Lock()
    client.guard = RunGuard()


def _widen(fd: int) -> None:
    """A pipe that holds a whole page or more (1 MiB where the system allows, not the
    default 64 KiB): the child writes a page in one go and makes its next request at once,
    instead of waiting for the reader to take the page in pieces, each after its turn for
    the GIL here."""
    size = _PIPE_BYTES
    with contextlib.suppress(OSError, ValueError), open("/proc/sys/fs/pipe-max-size") as limit:
        size = min(size, int(limit.read()))
    with contextlib.suppress(OSError, AttributeError):  # F_SETPIPE_SZ: Linux only
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)


def _close_inherited(keep: int) -> None:
    """Close every descriptor above stderr but `keep`, as listed in /proc (a range up to
    the descriptor limit could be a billion close calls where close_range is missing)."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd != keep:
            with contextlib.suppress(OSError):  # (the listing's own descriptor, gone)
                os.close(fd)


def _send(fd: int, meta: tuple[Any, ...], body: bytes) -> None:
    data = pickle.dumps(meta, protocol=pickle.HIGHEST_PROTOCOL)
    for part in (_HEADER.pack(len(data), len(body)) + data, body):
        view = memoryview(part)
        while view:
            view = view[os.write(fd, view):]


def _flatten(exc: BaseException) -> tuple[Any, ...]:
    """An exception as (its class, args, attributes), rebuilt without calling __init__ (our
    errors' constructors take other arguments than their args)."""
    state = {k: v for k, v in vars(exc).items() if _picklable(v)}
    return type(exc), exc.args, state


def _picklable(value: Any) -> bool:
    try:
        pickle.dumps(value)
    except Exception:
        return False
    return True


def _rebuild(cls: type[BaseException], args: tuple[Any, ...],
             state: dict[str, Any]) -> BaseException:
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc
