"""A small OAI-PMH repository that changes under the harvester's feet (a test helper).

Its records live in a dict the test edits: `delete` makes a record vanish without a trace
(deletedRecord `no`), `edit(..., bump=False)` changes a payload but not its datestamp (as OJS
does), `add` may backdate a record (an import an incremental harvest cannot see). Lists are
in identifier order, paged by offset; from/until filter on datestamps. Every payload declares
the namespaces it uses, so the harvester stores it byte for byte as `payload()` writes it.
Every body is checked against the schemas before it is sent (`invalid` lists failures).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from flask import Flask, Response, request

from oai.protocol.datestamps import InvalidDate, format_datestamp, parse_protocol_date
from oai.protocol.namespaces import OAI, OAI_DC, OAI_DC_SCHEMA_URL, OAI_SCHEMA_URL
from oai.protocol.schemas import SchemaViolation, validate_response
from tests.serving import serve_in_thread

DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
START = 1_700_000_000


@dataclass
class Item:
    datestamp: int
    title: str


@dataclass
class ChangingSource:
    deleted_record: str = "no"
    page_size: int = 10
    items: dict[str, Item] = field(default_factory=dict)
    now: int = START
    requests: int = 0
    invalid: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- what a test does to it -----------------------------------------------------------

    def tick(self, seconds: int = 60) -> int:
        self.now += seconds
        return self.now

    def add(self, identifier: str, title: str | None = None, when: int | None = None) -> None:
        with self.lock:
            self.items[identifier] = Item(self.now if when is None else when,
                                          title or f"Title of {identifier}")

    def edit(self, identifier: str, title: str, bump: bool = True) -> None:
        with self.lock:
            item = self.items[identifier]
            self.items[identifier] = Item(self.now if bump else item.datestamp, title)

    def delete(self, identifier: str) -> None:
        with self.lock:
            del self.items[identifier]

    def state(self) -> dict[str, tuple[str, str]]:
        """identifier -> (datestamp, payload) as served."""
        with self.lock:
            return {i: (format_datestamp(it.datestamp), payload(i, it.title))
                    for i, it in self.items.items()}

    # -- answering ------------------------------------------------------------------------

    def answer(self, args: dict[str, str]) -> str:
        verb = args.get("verb", "")
        rest = {k: v for k, v in args.items() if k != "verb"}
        with self.lock:
            self.requests += 1
            return self._answer(verb, rest).replace(
                f"<responseDate>{format_datestamp(START)}<",
                f"<responseDate>{format_datestamp(self.now)}<", 1)

    def _answer(self, verb: str, rest: dict[str, str]) -> str:
        if verb == "Identify":
            return envelope(verb, {"verb": verb}, identify(self.deleted_record))
        if verb == "ListMetadataFormats":
            return envelope(verb, {"verb": verb}, (
                f"<metadataFormat><metadataPrefix>oai_dc</metadataPrefix><schema>"
                f"{OAI_DC_SCHEMA_URL}</schema><metadataNamespace>{OAI_DC}"
                "</metadataNamespace></metadataFormat>"))
        if verb == "ListSets":
            return envelope(None, {"verb": verb},
                            '<error code="noSetHierarchy">no sets</error>')
        if verb == "GetRecord":
            return self._get(rest)
        if verb in ("ListIdentifiers", "ListRecords"):
            return self._list(verb, rest)
        return envelope(None, {}, f'<error code="badVerb">{escape(verb)}</error>')

    def _get(self, args: dict[str, str]) -> str:
        echo = {"verb": "GetRecord", **args}
        if args.get("metadataPrefix") != "oai_dc":
            return envelope(None, echo, '<error code="cannotDisseminateFormat"/>')
        item = self.items.get(args.get("identifier", ""))
        if item is None:
            return envelope(None, echo, '<error code="idDoesNotExist"/>')
        return envelope("GetRecord", echo, entry(args["identifier"], item, False))

    def _list(self, verb: str, args: dict[str, str]) -> str:
        echo = {"verb": verb, **args}
        if "resumptionToken" in args:
            try:
                state = json.loads(base64.urlsafe_b64decode(args["resumptionToken"]))
                offset, since, until = state["o"], state["f"], state["u"]
            except (ValueError, KeyError):
                return envelope(None, echo, '<error code="badResumptionToken"/>')
        else:
            if args.get("metadataPrefix") != "oai_dc":
                return envelope(None, echo, '<error code="cannotDisseminateFormat"/>')
            if "set" in args:
                return envelope(None, echo, '<error code="noSetHierarchy"/>')
            try:
                since = parse_protocol_date(args["from"]).epoch if "from" in args else None
                until = parse_protocol_date(args["until"]).epoch if "until" in args else None
            except InvalidDate:
                return envelope(None, echo, '<error code="badArgument"/>')
            offset = 0
        chosen = sorted(i for i, it in self.items.items()
                        if (since is None or it.datestamp >= since)
                        and (until is None or it.datestamp <= until))
        if not chosen:
            return envelope(None, echo, '<error code="noRecordsMatch"/>')
        page = chosen[offset:offset + self.page_size]
        body = "".join(entry(i, self.items[i], verb == "ListIdentifiers") for i in page)
        after = offset + len(page)
        value = "" if after >= len(chosen) else base64.urlsafe_b64encode(json.dumps(
            {"o": after, "f": since, "u": until}).encode()).decode()
        token = (f'<resumptionToken completeListSize="{len(chosen)}" cursor="{offset}">'
                 f"{value}</resumptionToken>")
        return envelope(verb, echo, body + token)


def payload(identifier: str, title: str) -> str:
    return (f'<oai_dc:dc xmlns:oai_dc="{OAI_DC}" xmlns:dc="{DC}" xmlns:xsi="{XSI}" '
            f'xsi:schemaLocation="{OAI_DC} {OAI_DC_SCHEMA_URL}">'
            f"<dc:title>{escape(title)}</dc:title><dc:identifier>{escape(identifier)}"
            "</dc:identifier></oai_dc:dc>")


def entry(identifier: str, item: Item, header_only: bool) -> str:
    head = (f"<header><identifier>{escape(identifier)}</identifier>"
            f"<datestamp>{format_datestamp(item.datestamp)}</datestamp></header>")
    if header_only:
        return head
    return f"<record>{head}<metadata>{payload(identifier, item.title)}</metadata></record>"


def identify(deleted_record: str) -> str:
    return ("<repositoryName>Changing</repositoryName>"
            "<baseURL>http://changing.example.org/oai</baseURL>"
            "<protocolVersion>2.0</protocolVersion>"
            "<adminEmail>admin@changing.example.org</adminEmail>"
            "<earliestDatestamp>2000-01-01T00:00:00Z</earliestDatestamp>"
            f"<deletedRecord>{deleted_record}</deletedRecord>"
            "<granularity>YYYY-MM-DDThh:mm:ssZ</granularity>")


def envelope(verb: str | None, echo: dict[str, str], inner: str) -> str:
    attrs = "".join(f" {k}={quoteattr(v)}" for k, v in echo.items())
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="{OAI}" '
            f'xmlns:xsi="{XSI}" xsi:schemaLocation="{OAI} {OAI_SCHEMA_URL}">'
            f"<responseDate>{format_datestamp(START)}</responseDate>"
            f"<request{attrs}>http://changing.example.org/oai</request>"
            + (f"<{verb}>{inner}</{verb}>" if verb else inner) + "</OAI-PMH>")


@contextmanager
def serve_changing(source: ChangingSource) -> Iterator[str]:
    """Serve `source`; yields its base URL."""
    app = Flask(__name__)

    @app.route("/oai")
    def oai() -> Response:
        body = source.answer(dict(request.args))
        try:
            validate_response(body.encode())
        except SchemaViolation as exc:
            source.invalid.append(f"{request.query_string.decode()}: {exc}")
        return Response(body, content_type="text/xml; charset=utf-8")

    with serve_in_thread(app) as base:
        yield f"{base}/oai"
