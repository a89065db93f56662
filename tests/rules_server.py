"""A small OAI-PMH repository that breaks one protocol rule on demand (a test helper).

The fault is the first path segment: `{base}/{fault}/oai`. Without one (`ok`) the repository
is correct in every respect: five records listed two per page with exact cursors, sizes and
an empty final token, one set, one format. Each fault changes as little as possible, so that
a validator walking it should report that one rule and nothing else. Every body is checked
against the schemas before it is sent; `Served.invalid` lists those that were not valid
(only the `empty-page` faults send such pages, on purpose).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from flask import Flask, Response, request

from oai.protocol.namespaces import OAI, OAI_DC, OAI_DC_SCHEMA_URL, OAI_SCHEMA_URL
from oai.protocol.schemas import SchemaViolation, validate_response
from tests.serving import serve_in_thread

DC = "http://purl.org/dc/elements/1.1/"
IDS = [f"oai:rules.example.org:{n}" for n in range(1, 6)]
FAULTS = ("ok", "empty-page", "empty-last-page", "no-final-token", "cursor-pages",
          "list-size", "repeated-identifier", "repeated-token", "deleted-metadata",
          "day-datestamps", "echo-granularity", "before-earliest", "oai-error", "http-status")


@dataclass
class Served:
    """What the server sent: (fault, query) of each response, and those not schema-valid."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)


def envelope(verb: str | None, echo: dict[str, str], inner: str) -> str:
    attrs = "".join(f" {k}={quoteattr(v)}" for k, v in echo.items())
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="{OAI}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="{OAI} {OAI_SCHEMA_URL}">\n'
            "<responseDate>2024-07-01T00:00:00Z</responseDate>\n"
            f"<request{attrs}>http://rules.example.org/oai</request>\n"
            + (f"<{verb}>{inner}</{verb}>" if verb else inner) + "\n</OAI-PMH>\n")


def _datestamp(fault: str, n: int) -> str:
    day = f"2024-01-{n:02d}"
    return day if fault in ("day-datestamps", "echo-granularity") else f"{day}T10:00:00Z"


def header(fault: str, n: int, identifier: str, deleted: bool = False) -> str:
    status = ' status="deleted"' if deleted else ""
    return (f"<header{status}><identifier>{identifier}</identifier>"
            f"<datestamp>{_datestamp(fault, n)}</datestamp><setSpec>all</setSpec></header>")


def record(fault: str, n: int, identifier: str, headers_only: bool) -> str:
    deleted = n == 3 and fault == "deleted-metadata"
    head = header(fault, n, identifier, deleted)
    if headers_only:
        return head
    payload = (f'<metadata><oai_dc:dc xmlns:oai_dc="{OAI_DC}" xmlns:dc="{DC}" '
               f'xsi:schemaLocation="{OAI_DC} {OAI_DC_SCHEMA_URL}">'
               f"<dc:title>Record {n}</dc:title><dc:identifier>{identifier}</dc:identifier>"
               "</oai_dc:dc></metadata>")
    return f"<record>{head}{payload}</record>"


def pages(fault: str) -> list[list[int]]:
    """Record numbers per page."""
    if fault == "empty-page":
        return [[1, 2], [], [3, 4], [5]]
    if fault == "empty-last-page":
        return [[1, 2], [3, 4], [5], []]
    return [[1, 2], [3, 4], [5]]


def token(fault: str, page: int, last: bool) -> str:
    before = sum(len(p) for p in pages(fault)[:page])
    if last and fault == "no-final-token":
        return ""
    cursor = page if fault == "cursor-pages" else before
    size = 9 if fault == "list-size" else sum(len(p) for p in pages(fault))
    value = "" if last else f"p{1 if fault == 'repeated-token' else page + 1}"
    return f'<resumptionToken cursor="{cursor}" completeListSize="{size}">{value}' \
           "</resumptionToken>"


def list_page(fault: str, verb: str, args: dict[str, str]) -> str:
    given = args.get("resumptionToken")
    page = int(given[1:]) if given else 0
    numbers = pages(fault)[page]
    last = page == len(pages(fault)) - 1
    ids = list(IDS)
    if fault == "repeated-identifier":
        ids[2] = ids[0]  # record 3 comes back under record 1's identifier
    items = "".join(record(fault, n, ids[n - 1], verb == "ListIdentifiers") for n in numbers)
    echo = {"verb": verb, **args}
    if fault == "echo-granularity" and "from" in echo:
        echo["from"] += "T00:00:00Z"
    return envelope(verb, echo, items + token(fault, page, last))


def identify(fault: str) -> str:
    granularity = "YYYY-MM-DD" if fault == "echo-granularity" else "YYYY-MM-DDThh:mm:ssZ"
    earliest = {"before-earliest": "2024-06-01T00:00:00Z",
                "echo-granularity": "2024-01-01"}.get(fault, "2024-01-01T00:00:00Z")
    return envelope("Identify", {"verb": "Identify"}, (
        "<repositoryName>Rules</repositoryName><baseURL>http://rules.example.org/oai</baseURL>"
        "<protocolVersion>2.0</protocolVersion><adminEmail>admin@rules.example.org</adminEmail>"
        f"<earliestDatestamp>{earliest}</earliestDatestamp>"
        f"<deletedRecord>persistent</deletedRecord><granularity>{granularity}</granularity>"))


def answer(fault: str, args: dict[str, str]) -> tuple[str, int]:
    verb = args.get("verb", "")
    rest = {k: v for k, v in args.items() if k != "verb"}
    if verb == "Identify":
        return identify(fault), 200
    if verb == "ListMetadataFormats":
        return envelope(verb, {"verb": verb}, (
            f"<metadataFormat><metadataPrefix>oai_dc</metadataPrefix><schema>"
            f"{OAI_DC_SCHEMA_URL}</schema><metadataNamespace>{OAI_DC}</metadataNamespace>"
            "</metadataFormat>")), 200
    if verb == "ListSets":
        if fault == "http-status":
            return envelope(None, {"verb": verb},
                            '<error code="noSetHierarchy">no sets here</error>'), 422
        return envelope(verb, {"verb": verb},
                        "<set><setSpec>all</setSpec><setName>All</setName></set>"), 200
    if verb in ("ListIdentifiers", "ListRecords"):
        return list_page(fault, verb, rest), 200
    if verb == "GetRecord":
        if fault == "oai-error":
            return envelope(None, {"verb": verb, **rest},
                            '<error code="idDoesNotExist">gone</error>'), 200
        n = IDS.index(rest["identifier"]) + 1
        return envelope(verb, {"verb": verb, **rest}, record(fault, n, IDS[n - 1], False)), 200
    return envelope(None, {}, f'<error code="badVerb">{escape(verb)}</error>'), 200


def create_app(served: Served) -> Flask:
    app = Flask(__name__)

    @app.route("/<fault>/oai")
    def oai(fault: str) -> Response:
        args = dict(request.args)
        body, status = answer(fault, args)
        key = (fault, request.query_string.decode())
        served.requests.append(key)
        try:
            validate_response(body.encode())
        except SchemaViolation:
            served.invalid.append(key)
        return Response(body, status=status, content_type="text/xml; charset=utf-8")

    return app


@dataclass
class RulesServer:
    base: str
    served: Served

    def url(self, fault: str) -> str:
        return f"{self.base}/{fault}/oai"


@contextmanager
def serve_rules() -> Iterator[RulesServer]:
    served = Served()
    with serve_in_thread(create_app(served)) as base:
        yield RulesServer(base, served)
