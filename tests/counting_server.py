"""OAI-PMH providers that record overlap (a test helper for distributed harvesting).

Each `CountingProvider` is our provider over its own SQLite store, served on its own loopback
address (127.0.0.2, .3, ...: distinct hosts for politeness), mounted once per source at
`/{source}/oai` so every request can be told apart. It counts requests in flight (the
largest count seen must stay 1: one request at a time per host), logs (source, User-Agent)
of every request in order, holds each response `delay` seconds (so that overlapping
requests would be caught) and validates every response against the OAI-PMH schemas.
"""

from __future__ import annotations

import gzip
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from oai.protocol.datestamps import format_datestamp
from oai.protocol.schemas import validate_response
from oai.provider.app import create_app
from oai.store.repository import Store
from tests.conftest import make_config, put, record

REPO = "dist.example.org"


@dataclass
class Counting:
    in_flight: int = 0
    max_in_flight: int = 0
    log: list[tuple[str, str]] = field(default_factory=list)  # (source, user agent)
    invalid: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class CountingProvider:
    def __init__(self, host: str, store: Store, delay: float) -> None:
        self.host = host
        self.store = store
        self.delay = delay
        self.counting = Counting()
        self.app = create_app(make_config(repository_identifier=REPO, page_size=10,
                                          base_url=None), store)
        self.url = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        source, _, rest = environ.get("PATH_INFO", "").lstrip("/").partition("/")
        environ = {**environ, "SCRIPT_NAME": f"/{source}", "PATH_INFO": f"/{rest}"}
        c = self.counting
        with c.lock:
            c.in_flight += 1
            c.max_in_flight = max(c.max_in_flight, c.in_flight)
            c.log.append((source, environ.get("HTTP_USER_AGENT", "")))
        try:
            time.sleep(self.delay)
            captured: dict[str, Any] = {}

            def capture(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
                captured["status"], captured["headers"] = status, headers
                return lambda data: None

            body = b"".join(self.app(environ, capture))
            try:
                encoding = dict((k.lower(), v) for k, v in captured["headers"])
                gzipped = encoding.get("content-encoding") == "gzip"
                validate_response(gzip.decompress(body) if gzipped else body)
            except Exception as exc:
                c.invalid.append(f"{source}: {exc}")
        finally:
            with c.lock:
                c.in_flight -= 1
        start_response(captured["status"], captured["headers"])
        return [body]

    def source_url(self, source: str) -> str:
        return f"{self.url}/{source}/oai"

    def state(self, set_spec: str) -> dict[str, tuple[Any, ...]]:
        """Each record of the set as served (header fields, the stored fragment's text)."""
        rows = self.store.list_page("oai_dc", set_spec, None, 2**40, None, 1_000_000, True)
        return {f"oai:{REPO}:{r.id}": (format_datestamp(r.datestamp), r.deleted,
                                       r.set_specs, bytes(r.xml).decode() if r.xml else None)
                for r in rows}


@contextmanager
def counting_providers(tmp: Path, hosts: int, sets: int, records: int,
                       delay: float) -> Iterator[list[CountingProvider]]:
    """`hosts` providers on 127.0.0.2 onwards, each with sets s0.. of `records` records
    (a few deleted)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    providers, servers, threads = [], [], []
    try:
        for h in range(hosts):
            store = Store.open(f"sqlite:///{tmp / f'provider{h}.sqlite'}", create=True)
            put(store, *[record(f"h{h}s{s}r{i:04d}", f"Host {h} set {s} record {i}",
                                sets=[f"s{s}"]) for s in range(sets) for i in range(records)])
            store.delete([f"h{h}s{s}r{i:04d}" for s in range(sets) for i in range(0, records, 9)])
            provider = CountingProvider(f"127.0.0.{h + 2}", store, delay)
            server = make_server(provider.host, 0, provider, threaded=True)
            provider.url = f"http://{provider.host}:{server.port}"
            thread = threading.Thread(target=server.serve_forever,
                                      kwargs={"poll_interval": 0.05}, daemon=True)
            thread.start()
            providers.append(provider)
            servers.append(server)
            threads.append(thread)
        yield providers
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
        for provider in providers:
            provider.store.close()
