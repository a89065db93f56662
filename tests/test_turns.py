"""Answers in turn (`oai.provider.turns`): a fair semaphore, the WSGI middleware around the
app, and `oai serve` over real HTTP, where a client sending its POST body slowly must not hold
the turn of the requests behind it."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from sqlalchemy import text

from oai.protocol.schemas import validate_response
from oai.provider.app import create_app
from oai.provider.turns import AnswersInTurn, FairSlots, buffer_body
from oai.store.repository import Store
from tests.conftest import (
    NS,
    Clock,
    OAIClient,
    error_codes,
    make_config,
    put,
    record,
    serve_records,
)
from tests.serving import OAI, Served, free_port


def wait_until(condition: Any, what: str) -> None:
    for _ in range(1000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


class Occupancy:
    """Counts the threads inside a `with` block, and the most there were at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self._lock = threading.Lock()

    def __enter__(self) -> Occupancy:
        with self._lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.inside -= 1


def test_waiters_are_admitted_in_arrival_order() -> None:
    slots = FairSlots(1)
    admitted: list[int] = []
    slots.acquire()

    def take(index: int) -> None:
        with slots:
            admitted.append(index)

    threads = []
    for index in range(8):  # each queued before the next one starts
        thread = threading.Thread(target=take, args=(index,))
        thread.start()
        threads.append(thread)
        wait_until(lambda n=index + 1: slots.waiting == n, f"{index + 1} waiters")
    slots.release()
    for thread in threads:
        thread.join(timeout=10)
    assert admitted == list(range(8))
    assert slots.waiting == 0


@pytest.mark.parametrize("count", [1, 3])
def test_no_more_than_the_slots_hold_at_once(count: int) -> None:
    slots = FairSlots(count)
    occupancy = Occupancy()
    barrier = threading.Barrier(12)

    def work() -> None:
        barrier.wait()
        for _ in range(50):
            with slots, occupancy:
                time.sleep(0.0005)

    threads = [threading.Thread(target=work) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert occupancy.most == count


def test_a_pause_hands_the_slot_over_and_queues_again() -> None:
    slots = FairSlots(1)
    order: list[str] = []
    slots.acquire()  # the pausing request's turn

    def other() -> None:
        with slots:
            order.append("other")

    thread = threading.Thread(target=other)
    thread.start()
    wait_until(lambda: slots.waiting == 1, "the other request to queue")
    slots.pause(0.05)  # the other request is answered meanwhile
    order.append("paused")
    slots.release()
    thread.join(timeout=10)
    assert order == ["other", "paused"]
    assert slots.waiting == 0


def test_at_least_one_slot() -> None:
    with pytest.raises(ValueError):
        FairSlots(0)


def test_the_middleware_answers_one_request_at_a_time() -> None:
    occupancy = Occupancy()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with occupancy:
            time.sleep(0.002)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["wsgi.input"].read()]

    wrapped = AnswersInTurn(app, FairSlots(1), 1024)
    bodies: list[bytes] = []

    def call(index: int) -> None:
        data = b"verb=Identify&n=%d" % index
        environ = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(data)),
                   "wsgi.input": io.BytesIO(data)}
        bodies.append(b"".join(wrapped(environ, lambda *a: None)))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert occupancy.most == 1
    assert sorted(bodies) == sorted(b"verb=Identify&n=%d" % i for i in range(10))


def test_a_body_is_buffered_only_when_it_is_posted_and_within_the_limit() -> None:
    def environ(method: str, data: bytes, length: str | None) -> dict[str, Any]:
        found: dict[str, Any] = {"REQUEST_METHOD": method, "wsgi.input": io.BytesIO(data)}
        if length is not None:
            found["CONTENT_LENGTH"] = length
        return found

    posted = environ("POST", b"verb=Identify", "13")
    buffer_body(posted, 100)
    assert posted["wsgi.input"].read() == b"verb=Identify"
    chunked = environ("POST", b"x" * 500, None)  # no length: read up to the limit, plus one
    buffer_body(chunked, 100)
    assert chunked["wsgi.input"].read() == b"x" * 101
    for unread in (environ("GET", b"abc", "3"), environ("POST", b"x" * 500, "500"),
                   environ("POST", b"abc", "three")):
        stream = unread["wsgi.input"]
        buffer_body(unread, 100)
        assert unread["wsgi.input"] is stream and stream.tell() == 0


def test_a_body_that_cannot_be_read_fails_again_when_the_app_reads_it() -> None:
    class Broken(io.RawIOBase):
        def read(self, *args: Any) -> bytes:
            raise ValueError("invalid chunk size")

    posted: dict[str, Any] = {"REQUEST_METHOD": "POST", "wsgi.input": Broken()}
    buffer_body(posted, 100)
    with pytest.raises(ValueError, match="invalid chunk size"):
        posted["wsgi.input"].read(10)


def test_an_answer_that_waits_for_the_clock_waits_with_the_sleep_it_is_given(
        store: Store, clock: Clock) -> None:
    """`oai serve` hands `create_app` its turns' pause, so that this wait (a token whose
    records are all gone) is spent outside the answer's turn."""
    put(store, *[record(f"r{i}") for i in range(4)])
    slept: list[float] = []
    oai = OAIClient(create_app(make_config(page_size=2), store, sleep=slept.append).test_client())
    token = oai(verb="ListIdentifiers", metadataPrefix="oai_dc").findtext(
        "o:ListIdentifiers/o:resumptionToken", namespaces=NS)
    assert token
    with store.engine.begin() as conn:  # the records after the token vanish (a purge)
        conn.execute(text("DELETE FROM records WHERE id IN ('r2', 'r3')"))
    root = oai(verb="ListIdentifiers", resumptionToken=token)
    assert error_codes(root) == ["badResumptionToken"]
    assert slept == [1, 1]  # twice, the safety lag (0) plus a second


# -- over real HTTP ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve_records(tmp_path_factory, 3, concurrent_answers="1") as server:
        yield server


def test_a_slow_post_body_does_not_hold_the_turn(served: Served) -> None:
    body = b"verb=ListIdentifiers&metadataPrefix=oai_dc"
    with socket.create_connection(("127.0.0.1", served.port), timeout=60) as slow:
        slow.sendall(b"POST /oai HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body[:5]))
        time.sleep(0.5)  # the slow request is in a thread, waiting for the rest of its body
        # the other thread answers meanwhile; were the turn held by the slow request, this
        # would wait for it (and time out)
        other = requests.get(served.url, params={"verb": "Identify"}, timeout=10)
        assert other.status_code == 200
        validate_response(other.content)
        slow.sendall(body[5:])
        received = b""
        while chunk := slow.recv(65536):
            received += chunk
    head, _, answer = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    validate_response(answer)
    assert len(etree.fromstring(answer).findall(".//o:header", NS)) == 3


def test_requests_in_parallel_are_all_answered(served: Served) -> None:
    answers: list[requests.Response] = []

    def harvest() -> None:
        with requests.Session() as session:
            for verb in ("Identify", "ListSets", "ListMetadataFormats"):
                answers.append(session.get(served.url, params={"verb": verb}, timeout=60))

    threads = [threading.Thread(target=harvest) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == 18
    for answer in answers:
        assert answer.status_code == 200
        validate_response(answer.content)


@pytest.mark.parametrize("option", ["--concurrent-answers", "--threads", "--workers"])
def test_serve_refuses_zero_in_one_line(tmp_path: Path, option: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = f"sqlite:///{tmp_path / 'store.sqlite'}"
    subprocess.run([OAI, "init"], env=env, check=True, capture_output=True, timeout=60)
    done = subprocess.run([OAI, "serve", option, "0", "--port", str(free_port())], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    name = option.removeprefix("--").replace("-", "_")
    assert done.stderr.strip().splitlines() == [f"Error: {name} must be at least 1"]
