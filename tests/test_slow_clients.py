"""Slow clients (`oai.provider.slow_clients`): a client that sends part of a request and
then nothing, or a byte now and then, is cut off rather than holding a serving thread; and
over real HTTP, `oai serve` keeps answering while such clients hang on."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from lxml import etree

from oai.protocol.schemas import validate_response
from oai.provider.slow_clients import TimedSocket
from tests.conftest import NS, error_codes, serve_records
from tests.serving import Served

GUARD = 30  # seconds a call may take before the test calls it hung (no timing is asserted)


def finishes(call: Callable[[], Any]) -> Any:
    """The result of `call`, which must return (not hang) within GUARD seconds."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = call()
        except BaseException as error:  # handed to the test
            box["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(GUARD)
    assert not thread.is_alive(), "the call hung"
    if "error" in box:
        raise box["error"]
    return box["result"]


@pytest.fixture
def pair() -> Iterator[tuple[TimedSocket, socket.socket]]:
    ours, peer = socket.socketpair()
    timed = TimedSocket.adopt(ours, 0.3)
    try:
        yield timed, peer
    finally:
        timed.close()
        peer.close()


def test_a_silent_client_reads_as_gone(pair: tuple[TimedSocket, socket.socket]) -> None:
    timed, peer = pair
    timed.setblocking(True)  # gunicorn, taking the request up
    peer.sendall(b"GET / HTTP/1.1\r\n")
    assert finishes(lambda: timed.recv(100)) == b"GET / HTTP/1.1\r\n"
    assert finishes(lambda: timed.recv(100)) == b""  # then nothing: as if it had left
    assert finishes(lambda: timed.recv_into(bytearray(100))) == 0  # the same, into a buffer


def test_a_trickling_client_is_cut_off_at_the_deadline(
        pair: tuple[TimedSocket, socket.socket]) -> None:
    timed, peer = pair
    stop = threading.Event()

    def trickle() -> None:
        while not stop.is_set():
            try:
                peer.sendall(b"a")
            except OSError:
                return
            time.sleep(0.02)

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        timed.setblocking(True)

        def read_all() -> int:
            received = 0
            while chunk := timed.recv(100):
                received += len(chunk)
            return received

        assert finishes(read_all) > 0  # what came before the deadline; then the end
    finally:
        stop.set()
        sender.join(timeout=10)


def test_each_request_gets_its_own_time(pair: tuple[TimedSocket, socket.socket]) -> None:
    timed, peer = pair
    timed.setblocking(True)
    assert finishes(lambda: timed.recv(10)) == b""  # the first request's time ran out
    timed.setblocking(False)  # kept alive, back in the poller
    timed.setblocking(True)  # the next request
    peer.sendall(b"next")
    assert finishes(lambda: timed.recv(10)) == b"next"


def test_a_client_that_stops_reading_fails_the_write(
        pair: tuple[TimedSocket, socket.socket]) -> None:
    timed, _peer = pair
    timed.setblocking(True)
    with pytest.raises(BrokenPipeError):
        finishes(lambda: timed.sendall(b"x" * (64 << 20)))  # far more than the buffers hold


def test_non_blocking_use_is_unchanged(pair: tuple[TimedSocket, socket.socket]) -> None:
    timed, peer = pair
    timed.setblocking(False)
    with pytest.raises(BlockingIOError):
        timed.recv(10)
    peer.sendall(b"x")
    assert finishes(lambda: timed.recv(10, socket.MSG_PEEK)) == b"x"


@pytest.mark.parametrize("blocking", [True, False])
def test_adopting_keeps_the_connection_and_its_mode(blocking: bool) -> None:
    ours, peer = socket.socketpair()
    ours.setblocking(blocking)
    timed = TimedSocket.adopt(ours, 0.3)
    try:
        assert ours.fileno() == -1  # the descriptor moved over
        assert timed.getblocking() is blocking
        timed.setblocking(True)
        timed.sendall(b"ping")
        assert peer.recv(10) == b"ping"
    finally:
        timed.close()
        peer.close()


# -- over real HTTP ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve_records(tmp_path_factory, 3, client_timeout="1") as server:
        yield server


def connect(served: Served) -> socket.socket:
    return socket.create_connection(("127.0.0.1", served.port), timeout=GUARD)


def read_to_end(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_clients_that_stall_in_their_headers_do_not_stop_the_server(served: Served) -> None:
    stalled = [connect(served) for _ in range(4)]  # twice the worker's threads
    try:
        for sock in stalled:
            sock.sendall(b"GET /oai?verb=Identify HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: ")
        answer = requests.get(served.url, params={"verb": "Identify"}, timeout=GUARD)
        assert answer.status_code == 200
        validate_response(answer.content)
        for sock in stalled:
            assert read_to_end(sock) == b""  # cut off, unanswered
    finally:
        for sock in stalled:
            sock.close()
    assert "Traceback" not in served.log.read_text()


def test_a_post_body_that_stops_short_is_bad_argument(served: Served) -> None:
    body = b"verb=ListIdentifiers&metadataPrefix=oai_dc"
    with connect(served) as sock:
        sock.sendall(b"POST /oai HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body[:12]))
        received = read_to_end(sock)
    head, _, answer = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    validate_response(answer)
    root = etree.fromstring(answer)
    assert error_codes(root) == ["badArgument"]
    assert root.find("o:request", NS).attrib == {}


def test_a_slow_but_steady_reader_gets_the_whole_answer(
        pair: tuple[TimedSocket, socket.socket]) -> None:
    """Each wait is bounded, not the whole write: an answer taking several times `seconds`
    to drain, a little at a time, arrives whole."""
    timed, peer = pair
    answer = bytes(range(256)) * 16384  # 4 MiB: far more than the socket buffers
    received = bytearray()

    def slow_reader() -> None:
        while len(received) < len(answer):
            chunk = peer.recv(256 * 1024)
            if not chunk:
                return
            received.extend(chunk)
            time.sleep(0.05)

    reader = threading.Thread(target=slow_reader, daemon=True)
    reader.start()
    timed.setblocking(True)
    finishes(lambda: timed.sendall(answer))
    reader.join(timeout=GUARD)
    assert bytes(received) == answer
