"""End to end: `oai serve` (gunicorn, 2 workers) over loopback HTTP, harvested with Sickle,
returns exactly the store's records, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sickle import Sickle

from oai.protocol.datestamps import format_datestamp
from oai.protocol.schemas import validate_response
from oai.store.repository import Store
from tests.conftest import put, record

OAI = str(Path(sys.executable).with_name("oai"))


class ValidatingSickle(Sickle):  # type: ignore[misc]
    """Sickle that schema-validates every response it receives."""

    responses = 0

    def harvest(self, **kwargs: Any) -> Any:
        response = super().harvest(**kwargs)
        validate_response(response.http_response.content)
        ValidatingSickle.responses += 1
        return response


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stderr.read().decode() if proc.stderr else ""
            raise AssertionError(f"server exited: {output}")
        try:
            if requests.get(url, params={"verb": "Identify"}, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError("server did not come up")


@pytest.fixture
def served(database_url: str) -> Iterator[tuple[str, Store]]:
    """A store with 257 records (some deleted, some in sets) served by `oai serve`."""
    store = Store.open(database_url, create=True)
    put(store, *[record(f"e{i:04d}", sets=["school:x"] if i % 4 == 0 else None)
                 for i in range(257)])
    store.delete([f"e{i:04d}" for i in range(0, 257, 17)])
    port = free_port()
    env = {**os.environ, "OAI_DATABASE_URL": database_url, "OAI_SAFETY_LAG": "0",
           "OAI_PAGE_SIZE": "50", "OAI_REPOSITORY_IDENTIFIER": "e2e.example.org"}
    proc = subprocess.Popen([OAI, "serve", "--port", str(port), "--workers", "2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/oai"
    try:
        wait_until_up(url, proc)
        yield url, store
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        store.close()


def test_sickle_harvests_exactly_the_store(served: tuple[str, Store]) -> None:
    url, store = served
    ValidatingSickle.responses = 0
    harvested = {}
    for rec in ValidatingSickle(url).ListRecords(metadataPrefix="oai_dc",
                                                 ignore_deleted=False):
        header = rec.header
        assert header.identifier not in harvested, "an identifier came twice"
        harvested[header.identifier] = (header.datestamp, header.deleted,
                                        tuple(header.setSpecs))
    assert ValidatingSickle.responses == 6  # 257 records, 50 a page
    expected = {
        f"oai:e2e.example.org:{row.id}": (format_datestamp(row.datestamp), row.deleted,
                                          row.set_specs)
        for row in store.list_page("oai_dc", None, None, 2**40, None, 10_000, False)
    }
    assert harvested == expected
    assert sum(1 for v in harvested.values() if v[1]) == 16

    in_set = {h.identifier for h in Sickle(url).ListIdentifiers(
        metadataPrefix="oai_dc", set="school", ignore_deleted=False)}
    assert in_set == {k for k, v in expected.items() if v[2] == ("school:x",)}
