"""Three small OAI-PMH sources on loopback sharing works in planted ways (a test helper for
duplicate matching): `{base}/{source}/oai`, each in its own metadata format, two records a
page. Records can be edited, deleted (reported as deleted) or dropped (no longer listed)
between harvests. Every response is checked against the schemas before it is sent."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from flask import Flask, Response, request

from oai.formats import registry
from oai.protocol.rendering import prepare_record
from oai.protocol.schemas import SchemaViolation, validate_response
from tests.rules_server import envelope
from tests.serving import serve_in_thread

DC_HEAD = ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
           'xmlns:dc="http://purl.org/dc/elements/1.1/" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai_dc/ '
           'http://www.openarchives.org/OAI/2.0/oai_dc.xsd">')


def dc(title: str, creator: str, date: str, *identifiers: str) -> str:
    """An oai_dc payload written by hand: the identifiers exactly as given."""
    ids = "".join(f"<dc:identifier>{escape(i)}</dc:identifier>" for i in identifiers)
    return (f"{DC_HEAD}<dc:title>{escape(title)}</dc:title><dc:creator>{escape(creator)}"
            f"</dc:creator><dc:date>{date}</dc:date>{ids}</oai_dc:dc>")


def rendered(prefix: str, rid: str, title: str, creator: str, published: str,
             **extra: object) -> str:
    """A payload in `prefix` made by the toolkit's own crosswalk (schema-valid)."""
    record = {"id": rid, "titles": [{"text": title}], "type": "article",
              "creators": [{"name": creator}], "dates": {"published": published},
              "publisher": "Example Press", "access": {"status": "open"},
              "url": f"https://repository.example.org/{rid}", **extra}
    return prepare_record(record).renditions[prefix]


@dataclass
class Item:
    identifier: str
    metadata: str | None  # None: reported deleted
    datestamp: str = "2024-01-01T00:00:00Z"


@dataclass
class Source:
    prefix: str
    items: list[Item] = field(default_factory=list)

    def put(self, identifier: str, metadata: str | None,
            datestamp: str = "2024-01-01T00:00:00Z") -> None:
        self.items = [i for i in self.items if i.identifier != identifier]
        self.items.append(Item(identifier, metadata, datestamp))

    def drop(self, identifier: str) -> None:
        self.items = [i for i in self.items if i.identifier != identifier]


@dataclass
class DupServer:
    base: str
    sources: dict[str, Source]
    invalid: list[str]

    def url(self, name: str) -> str:
        return f"{self.base}/{name}/oai"


def _record(item: Item) -> str:
    status = ' status="deleted"' if item.metadata is None else ""
    head = (f"<header{status}><identifier>{escape(item.identifier)}</identifier>"
            f"<datestamp>{item.datestamp}</datestamp></header>")
    body = "" if item.metadata is None else f"<metadata>{item.metadata}</metadata>"
    return f"<record>{head}{body}</record>"


def _answer(name: str, source: Source, args: dict[str, str]) -> str:
    verb = args.get("verb", "")
    if verb == "Identify":
        return envelope(verb, {"verb": verb}, (
            f"<repositoryName>{name}</repositoryName><baseURL>http://{name}.example.org/oai"
            "</baseURL><protocolVersion>2.0</protocolVersion>"
            "<adminEmail>admin@example.org</adminEmail>"
            "<earliestDatestamp>2024-01-01T00:00:00Z</earliestDatestamp>"
            "<deletedRecord>persistent</deletedRecord>"
            "<granularity>YYYY-MM-DDThh:mm:ssZ</granularity>"))
    if verb == "ListMetadataFormats":
        fmt = registry()[source.prefix]
        return envelope(verb, {"verb": verb}, (
            f"<metadataFormat><metadataPrefix>{fmt.prefix}</metadataPrefix><schema>"
            f"{fmt.schema_location}</schema><metadataNamespace>{fmt.namespace}"
            "</metadataNamespace></metadataFormat>"))
    if verb == "ListRecords":
        token = args.get("resumptionToken")
        page = int(token) if token else 0
        items = sorted(source.items, key=lambda i: i.identifier)
        chunk = items[page * 2:page * 2 + 2]
        last = page * 2 + 2 >= len(items)
        following = "" if last else str(page + 1)
        size = f'<resumptionToken cursor="{page * 2}" completeListSize="{len(items)}">' \
               f"{following}</resumptionToken>"
        echo = {"verb": verb, **{k: v for k, v in args.items() if k != "verb"}}
        if not items:
            return envelope(None, echo, '<error code="noRecordsMatch">none</error>')
        return envelope(verb, echo, "".join(_record(i) for i in chunk) + size)
    return envelope(None, {}, f'<error code="badVerb">{escape(verb)}</error>')


@contextmanager
def serve_sources(sources: dict[str, Source]) -> Iterator[DupServer]:
    invalid: list[str] = []
    app = Flask(__name__)

    @app.route("/<name>/oai")
    def oai(name: str) -> Response:
        body = _answer(name, sources[name], dict(request.args))
        try:
            validate_response(body.encode())
        except SchemaViolation as exc:
            invalid.append(f"{name} {request.query_string.decode()}: {exc}")
        return Response(body, content_type="text/xml; charset=utf-8")

    with serve_in_thread(app) as base:
        yield DupServer(base, sources, invalid)
