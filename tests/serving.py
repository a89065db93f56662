"""Test helpers for real HTTP: a WSGI app served in a thread, `oai serve` in a subprocess on a
free loopback port, a raw socket client that can send any bytes at all, and a TCP proxy whose
plug can be pulled."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

OAI = str(Path(sys.executable).with_name("oai"))


@contextmanager
def serve_in_thread(app: Any, on_accept: Callable[[], None] | None = None) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 (a free port) in a thread: yields `http://host:port`;
    `on_accept` is called for every connection the server accepts."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    if on_accept is not None:
        accept = server.get_request

        def counted() -> Any:
            accepted = accept()
            on_accept()
            return accepted

        server.get_request = counted  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes


def raw_request(port: int, data: bytes, timeout: float = 30) -> RawResponse:
    """Send `data` as it is, read until the server closes, parse what came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)  # the server may answer and stop reading before the end
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    received = b"".join(chunks)
    head, sep, body = received.partition(b"\r\n\r\n")
    assert sep, f"no complete HTTP response: {received[:200]!r}"
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers and not data.startswith(b"HEAD "):
        assert len(body) == int(headers["content-length"]), "truncated body"
    return RawResponse(int(status_line.split()[1]), headers, body)


def request_bytes(method: str, target: str | bytes, body: bytes | None = None,
                  headers: dict[str, str] | None = None) -> bytes:
    """A well-formed HTTP/1.1 request that asks the server to close afterwards."""
    if isinstance(target, str):
        target = target.encode("latin-1")
    lines = [method.encode("latin-1") + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1",
             b"Connection: close"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}".encode("latin-1"))
    if body is not None:
        lines += [b"Content-Type: application/x-www-form-urlencoded",
                  b"Content-Length: %d" % len(body)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


@dataclass
class Served:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/oai"

    def request(self, method: str, target: str | bytes, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> RawResponse:
        return raw_request(self.port, request_bytes(method, target, body, headers))


@contextmanager
def oai_serve(database_url: str, log: Path, workers: int = 1, threads: int = 4,
              **settings: str) -> Iterator[Served]:
    """`oai serve` on a free port until the block ends; `settings` become OAI_* variables."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env.update({"OAI_DATABASE_URL": database_url, "OAI_SAFETY_LAG": "0",
                "OAI_REPOSITORY_IDENTIFIER": "test.example.org"})
    env.update({f"OAI_{k.upper()}": v for k, v in settings.items()})
    with log.open("wb") as out:
        proc = subprocess.Popen([OAI, "serve", "--port", str(port), "--workers", str(workers),
                                 "--threads", str(threads)], env=env, stdout=out, stderr=out)
    served = Served(port, proc, log)
    try:
        _wait_until_up(served)
        yield served
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _wait_until_up(served: Served, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.proc.poll() is not None:
            raise AssertionError(f"oai serve exited: {served.log.read_text()[-2000:]}")
        try:
            if served.request("GET", "/oai?verb=Identify").status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("oai serve did not come up")


@dataclass
class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target address; `down()` closes the listener and every
    forwarded connection (the database is gone), `up()` listens again on the same port."""

    target: tuple[str, int]
    port: int = field(default_factory=free_port)
    _listener: socket.socket | None = None
    _sockets: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        with self._lock:
            doomed, self._sockets = self._sockets, []
            if self._listener is not None:
                doomed.append(self._listener)
                self._listener = None
        for sock in doomed:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
                upstream = socket.create_connection(self.target)
            except OSError:
                return
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
