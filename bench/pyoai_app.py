"""pyoai 2.5.0's server over the benchmark corpus, held in memory, as a WSGI app.

Run by `bench/provider.py` as ``gunicorn --pythonpath bench pyoai_app:app``. Each worker reads
the corpus (the same SQLite file our provider serves) once at import and keeps every record as
pyoai ``Header``/``Metadata`` objects; requests are then answered from memory by
``oaipmh.server.BatchingServer`` with the given batch (page) size.

Environment: BENCH_PYOAI_DB (SQLite file), BENCH_PYOAI_BASE_URL, BENCH_PYOAI_PAGE_SIZE,
BENCH_PYOAI_REPOSITORY_IDENTIFIER, and optionally BENCH_PYOAI_READY_DIR (a file named after
the worker's pid is created there once its records are loaded).
"""

from __future__ import annotations

import json
import os
import sqlite3
import warnings
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from lxml import etree

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import cgi

# pyoai decodes its resumption tokens with cgi.parse_qs, which Python 3.8 removed.
cgi.parse_qs = parse_qs  # type: ignore[attr-defined]

from oaipmh import common, error, metadata, server  # noqa: E402

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC_FIELDS = ("title", "creator", "subject", "description", "publisher", "contributor", "date",
             "type", "format", "identifier", "source", "language", "relation", "coverage",
             "rights")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)

Entry = tuple[Any, Any, None]  # (common.Header, common.Metadata, about)


def dc_map(fragment: str) -> dict[str, list[str]]:
    """Our rendered oai_dc fragment as pyoai's metadata map: {element: [values]}."""
    root = etree.fromstring(fragment.encode("utf-8"), _PARSER)
    found: dict[str, list[str]] = {}
    for child in root:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name in DC_FIELDS:
            found.setdefault(name, []).append(child.text or "")
    return found


def _datestamp(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def load_entries(db_path: str, repository_identifier: str) -> list[Entry]:
    """Every oai_dc record of the corpus, oldest first, as pyoai objects."""
    prefix = f"oai:{repository_identifier}:"
    query = ("SELECT r.id, r.datestamp, r.deleted, r.set_specs, x.xml FROM records r "
             "JOIN renditions x ON x.record_id = r.id AND x.prefix = 'oai_dc' "
             "ORDER BY r.datestamp, r.id")
    entries: list[Entry] = []
    connection = sqlite3.connect(db_path)
    try:
        for rid, stamp, deleted, specs, xml in connection.execute(query):
            header = common.Header(None, prefix + rid, _datestamp(int(stamp)),
                                   json.loads(specs) if specs else [], bool(deleted))
            meta = None if deleted or xml is None else common.Metadata(None, dc_map(xml))
            entries.append((header, meta, None))
    finally:
        connection.close()
    return entries


class InMemoryOAI:
    """pyoai's IBatchingOAI over a list of records held in memory."""

    def __init__(self, entries: list[Entry], base_url: str, repository_identifier: str) -> None:
        self._entries = entries
        self._by_id = {entry[0].identifier(): entry for entry in entries}
        earliest = min((e[0].datestamp() for e in entries), default=datetime(2000, 1, 1))
        self._identify = common.Identify(
            repositoryName=f"pyoai bench ({repository_identifier})", baseURL=base_url,
            protocolVersion="2.0", adminEmails=["admin@example.org"],
            earliestDatestamp=earliest, deletedRecord="persistent",
            granularity="YYYY-MM-DDThh:mm:ssZ", compression=["identity"])
        self._sets = sorted({spec for e in entries for spec in e[0].setSpec()})

    def identify(self) -> Any:
        return self._identify

    def listMetadataFormats(self, identifier: str | None = None) -> list[tuple[str, str, str]]:
        if identifier is not None and identifier not in self._by_id:
            raise error.IdDoesNotExistError(f"unknown identifier {identifier}")
        return [("oai_dc", OAI_DC_SCHEMA, OAI_DC_NS)]

    def listSets(self, cursor: int = 0, batch_size: int = 10) -> list[tuple[str, str, None]]:
        if not self._sets:
            raise error.NoSetHierarchyError("no sets")
        return [(spec, spec, None) for spec in self._sets[cursor:cursor + batch_size]]

    def getRecord(self, metadataPrefix: str, identifier: str) -> Entry:
        _check_prefix(metadataPrefix)
        entry = self._by_id.get(identifier)
        if entry is None:
            raise error.IdDoesNotExistError(f"unknown identifier {identifier}")
        return entry

    def listRecords(self, metadataPrefix: str, set: str | None = None,
                    from_: datetime | None = None, until: datetime | None = None,
                    cursor: int = 0, batch_size: int = 10) -> list[Entry]:
        _check_prefix(metadataPrefix)
        return self._select(set, from_, until)[cursor:cursor + batch_size]

    def listIdentifiers(self, metadataPrefix: str, set: str | None = None,
                        from_: datetime | None = None, until: datetime | None = None,
                        cursor: int = 0, batch_size: int = 10) -> list[Any]:
        return [e[0] for e in self.listRecords(metadataPrefix, set, from_, until, cursor,
                                               batch_size)]

    def _select(self, set_spec: str | None, from_: datetime | None,
                until: datetime | None) -> list[Entry]:
        if set_spec is None and from_ is None and until is None:
            return self._entries
        return [e for e in self._entries if _matches(e[0], set_spec, from_, until)]


def _check_prefix(prefix: str) -> None:
    if prefix != "oai_dc":
        raise error.CannotDisseminateFormatError(f"unknown metadata format {prefix}")


def _matches(header: Any, set_spec: str | None, from_: datetime | None,
             until: datetime | None) -> bool:
    stamp = header.datestamp()
    if from_ is not None and stamp < from_:
        return False
    if until is not None and stamp > until:
        return False
    return set_spec is None or any(s == set_spec or s.startswith(set_spec + ":")
                                   for s in header.setSpec())


def build_server(db_path: str, base_url: str, page_size: int,
                 repository_identifier: str) -> Any:
    registry = metadata.MetadataRegistry()
    registry.registerWriter("oai_dc", server.oai_dc_writer)
    implementation = InMemoryOAI(load_entries(db_path, repository_identifier), base_url,
                                 repository_identifier)
    return server.BatchingServer(implementation, metadata_registry=registry,
                                 resumption_batch_size=page_size)


def _request_arguments(environ: dict[str, Any]) -> dict[str, str]:
    raw = environ.get("QUERY_STRING", "")
    if environ.get("REQUEST_METHOD") == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length).decode("latin-1")
    return {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}


def make_app(oai_server: Any) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    def wsgi_app(environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterator[bytes]:
        body: bytes = oai_server.handleRequest(_request_arguments(environ))
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        yield body

    return wsgi_app


def _from_environment() -> Any:
    oai_server = build_server(
        os.environ["BENCH_PYOAI_DB"], os.environ["BENCH_PYOAI_BASE_URL"],
        int(os.environ.get("BENCH_PYOAI_PAGE_SIZE", "100")),
        os.environ.get("BENCH_PYOAI_REPOSITORY_IDENTIFIER", "bench.example.org"))
    ready_dir = os.environ.get("BENCH_PYOAI_READY_DIR")
    if ready_dir:
        (Path(ready_dir) / str(os.getpid())).touch()
    return make_app(oai_server)


app = _from_environment() if "BENCH_PYOAI_DB" in os.environ else None
