"""Client connections that give up on clients too slow to be served.

gunicorn's gthread worker reads a request on one of its threads with a blocking socket and no
timeout: a client that sends part of its request line or headers (or of a POST body) and then
nothing, or a byte now and then, holds that thread for as long as it likes. Four such
connections stopped a worker of four threads for good, whatever else was waiting.

`TimedSocket` bounds it. Reading a request, head and body together, gets `seconds` in all
from the moment its thread takes it up; writing an answer may stall for at most `seconds` at
a time (a slow but steady client takes as long as it needs). A client past either bound is
treated as one that left: reads end as at end of stream and writes fail as on a closed
connection, which gunicorn handles quietly (the connection closes; no error in the log).
"""

from __future__ import annotations

import errno
import socket
import time
from typing import Any

#: Seconds a client gets to send a request, and to take each part of an answer.
DEFAULT_SECONDS = 30.0


class TimedSocket(socket.socket):
    """A connected socket whose blocking reads share a deadline and whose writes time out.
    Non-blocking use (gunicorn's poller, peeks) is unchanged."""

    seconds: float = DEFAULT_SECONDS
    _deadline: float | None = None
    _limit: float | None = None  # the timeout last asked for, None: blocking without one

    @classmethod
    def adopt(cls, sock: socket.socket, seconds: float) -> TimedSocket:
        """The same connection (its descriptor moves over; `sock` is left detached)."""
        blocking = sock.getblocking()
        timeout = sock.gettimeout()
        timed = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        timed.seconds = seconds
        if blocking:
            timed.settimeout(timeout)
        else:
            timed.setblocking(False)
        return timed

    def setblocking(self, flag: bool) -> None:
        """Blocking (gunicorn says so as it takes up each request): the request's clock
        starts."""
        if flag:
            self._deadline = time.monotonic() + self.seconds
            self.settimeout(self.seconds)
        else:
            super().setblocking(False)

    def settimeout(self, value: float | None) -> None:
        self._limit = value
        super().settimeout(value)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        left = self._read_timeout()
        if left is None:
            return super().recv(bufsize, flags)
        try:
            return super().recv(bufsize, flags) if left > 0 else b""
        except TimeoutError:
            return b""  # too slow: as if the client had left

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        left = self._read_timeout()
        if left is None:
            return super().recv_into(buffer, nbytes, flags)
        try:
            return super().recv_into(buffer, nbytes, flags) if left > 0 else 0
        except TimeoutError:
            return 0

    def sendall(self, data: Any, flags: int = 0) -> None:
        """All of `data`, each wait for the client to take more bounded by `seconds` (the
        socket's own sendall bounds the whole call, which a large answer to a slow but
        steady client may rightly exceed)."""
        if self.gettimeout() == 0.0:
            return super().sendall(data, flags)
        limit = self._limit
        super().settimeout(self.seconds if limit is None else min(limit, self.seconds))
        with memoryview(data) as view, view.cast("B") as octets:
            sent = 0
            while sent < len(octets):
                try:
                    sent += self.send(octets[sent:], flags)
                except TimeoutError as error:
                    raise BrokenPipeError(errno.EPIPE, "the client stopped reading") \
                        from error
        return None

    def _read_timeout(self) -> float | None:
        """Set the timeout of a blocking read to what is left of the request's time (within
        the timeout asked for) and return it; None for a non-blocking socket."""
        if self.gettimeout() == 0.0:
            return None
        left = self.seconds if self._deadline is None else self._deadline - time.monotonic()
        limit = self._limit
        if limit is not None:
            left = min(limit, left)
        if left > 0:
            super().settimeout(left)
        return left
