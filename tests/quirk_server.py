"""A small OAI-PMH server that misbehaves on demand, for harvester tests (a helper, not tests).

The quirk is chosen by the first path segment: `{base}/{quirk}/oai?verb=...`, so one server
plays them all and each test picks its own. `serve_quirks()` runs it on 127.0.0.1 (port 0) in a
thread and yields a `QuirkServer` with the base URL and what the server saw (`state`).
"""

from __future__ import annotations

import functools
import gzip
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from flask import Flask, Response, request

from tests.serving import serve_in_thread

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
MAX_SLEEP = 3.0  # a slow response never sleeps longer than this


@dataclass
class QuirkRecord:
    identifier: str
    datestamp: str
    title: str
    deleted: bool = False
    sets: tuple[str, ...] = ()


def make_records(n: int, prefix: str = "rec") -> list[QuirkRecord]:
    return [QuirkRecord(f"oai:quirks.example.org:{prefix}-{i:05d}", f"2024-01-{1 + i % 28:02d}"
                        f"T10:00:{i % 60:02d}Z", f"Title number {i}",
                        deleted=(i % 7 == 6), sets=("quirks",)) for i in range(n)]


@dataclass
class QuirkState:
    """What the server saw: hits per (quirk, verb), in-flight peak, request headers."""

    hits: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    leak_hits: int = 0
    headers: list[dict[str, str]] = field(default_factory=list)
    args: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


# --- rendering ---------------------------------------------------------------------------------


def _el(prefix: str, name: str) -> str:
    return f"{prefix}:{name}" if prefix else name


def render_record(rec: QuirkRecord, prefix: str = "", title_xml: str | None = None,
                  header_only: bool = False) -> str:
    p = prefix
    status = ' status="deleted"' if rec.deleted else ""
    sets = "".join(f"<{_el(p, 'setSpec')}>{escape(s)}</{_el(p, 'setSpec')}>" for s in rec.sets)
    header = (f"<{_el(p, 'header')}{status}><{_el(p, 'identifier')}>{escape(rec.identifier)}"
              f"</{_el(p, 'identifier')}><{_el(p, 'datestamp')}>{rec.datestamp}"
              f"</{_el(p, 'datestamp')}>{sets}</{_el(p, 'header')}>")
    if header_only:
        return header
    metadata = ""
    if not rec.deleted:
        title = title_xml if title_xml is not None else escape(rec.title)
        metadata = (f'<{_el(p, "metadata")}><oai_dc:dc xmlns:oai_dc='
                    f'"http://www.openarchives.org/OAI/2.0/oai_dc/" '
                    f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title>'
                    f"<dc:identifier>{escape(rec.identifier)}</dc:identifier></oai_dc:dc>"
                    f"</{_el(p, 'metadata')}>")
    return f"<{_el(p, 'record')}>{header}{metadata}</{_el(p, 'record')}>"


def envelope(verb: str, inner: str, *, prefix: str = "", namespaced: bool = True,
             encoding: str = "UTF-8", doctype: str = "") -> str:
    p = prefix
    xmlns = ""
    if namespaced:
        xmlns = f' xmlns:{p}="{OAI_NS}"' if p else f' xmlns="{OAI_NS}"'
    verb_el = f"<{_el(p, verb)}>{inner}</{_el(p, verb)}>" if verb else inner
    return (f'<?xml version="1.0" encoding="{encoding}"?>\n{doctype}'
            f"<{_el(p, 'OAI-PMH')}{xmlns}><{_el(p, 'responseDate')}>2024-02-01T00:00:00Z"
            f"</{_el(p, 'responseDate')}><{_el(p, 'request')} verb={quoteattr(verb)}>"
            f"http://quirks.example.org/oai</{_el(p, 'request')}>{verb_el}"
            f"</{_el(p, 'OAI-PMH')}>")


def error_body(code: str, message: str) -> str:
    return envelope("", f'<error code="{code}">{escape(message)}</error>')


def token_xml(value: str, cursor: int | None = None, size: int | None = None,
              prefix: str = "") -> str:
    attrs = ""
    if cursor is not None:
        attrs += f' cursor="{cursor}"'
    if size is not None:
        attrs += f' completeListSize="{size}"'
    name = _el(prefix, "resumptionToken")
    return f"<{name}{attrs}>{escape(value)}</{name}>"


FORMATS_XML = (
    "<metadataFormat><metadataPrefix>oai_dc</metadataPrefix>"
    "<schema>http://www.openarchives.org/OAI/2.0/oai_dc.xsd</schema>"
    "<metadataNamespace>http://www.openarchives.org/OAI/2.0/oai_dc/</metadataNamespace>"
    "</metadataFormat>")


def identify_body(granularity: str = "YYYY-MM-DDThh:mm:ssZ") -> str:
    return envelope("Identify", (
        "<repositoryName>Quirks</repositoryName><baseURL>http://quirks.example.org/oai</baseURL>"
        "<protocolVersion>2.0</protocolVersion><adminEmail>admin@quirks.example.org</adminEmail>"
        "<earliestDatestamp>2024-01-01T00:00:00Z</earliestDatestamp>"
        f"<deletedRecord>persistent</deletedRecord><granularity>{granularity}</granularity>"
        "<compression>gzip</compression><compression>deflate</compression>"))


# --- the app -----------------------------------------------------------------------------------


@functools.cache
def gzip_bomb() -> bytes:
    """256 MB of zeros after an XML start, gzipped into a quarter of a megabyte."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(b"<OAI-PMH>")]
    zeros = bytes(1024 * 1024)
    parts.extend(packer.compress(zeros) for _ in range(256))
    return b"".join(parts) + packer.flush()


def _xml(body: str | bytes, status: int = 200, charset: str = "utf-8",
         headers: dict[str, str] | None = None) -> Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Response(data, status=status, headers=headers or {},
                    content_type=f"text/xml; charset={charset}")


def create_quirk_app(records: list[QuirkRecord] | None = None, page_size: int = 10,
                     state: QuirkState | None = None) -> Flask:
    """The Flask app; `records` are the repository's content, served `page_size` per page."""
    records = records if records is not None else make_records(25)
    state = state or QuirkState()
    app = Flask(__name__)
    app.config["QUIRK_STATE"] = state

    def paged(args: dict[str, str], *, prefix: str = "", namespaced: bool = True,
              verb: str | None = None) -> str:
        verb = verb or args.get("verb", "ListRecords")
        token = args.get("resumptionToken")
        offset = int(token[1:]) if token and token.startswith("p") else 0
        listed = records
        if args.get("set"):  # (the token does not carry the set: tests page unfiltered)
            listed = [r for r in records if args["set"] in r.sets]
        chunk = listed[offset:offset + page_size]
        if not chunk:
            return error_body("noRecordsMatch", "no records")
        nxt = offset + page_size
        inner = "".join(render_record(r, prefix, header_only=verb == "ListIdentifiers")
                        for r in chunk)
        if nxt < len(listed) or token:
            inner += token_xml(f"p{nxt}" if nxt < len(listed) else "", offset, len(listed),
                               prefix)
        return envelope(verb, inner, prefix=prefix, namespaced=namespaced)

    def standard(args: dict[str, str]) -> Response:
        verb = args.get("verb")
        if verb == "Identify":
            return _xml(identify_body())
        if verb == "GetRecord":
            for r in records:
                if r.identifier == args.get("identifier"):
                    return _xml(envelope("GetRecord", render_record(r)))
            return _xml(error_body("idDoesNotExist", "no such record"))
        if verb in ("ListRecords", "ListIdentifiers"):
            return _xml(paged(args))
        if verb == "ListMetadataFormats":
            return _xml(envelope("ListMetadataFormats", FORMATS_XML))
        if verb == "ListSets":
            specs = sorted({s for r in records for s in r.sets})
            if not specs:
                return _xml(error_body("noSetHierarchy", "no sets"))
            return _xml(envelope("ListSets", "".join(
                f"<set><setSpec>{escape(s)}</setSpec><setName>Set {escape(s)}</setName></set>"
                for s in specs)))
        return _xml(error_body("badVerb", "unknown verb"))

    def quirk_response(quirk: str, args: dict[str, str], n: int) -> Response:
        verb = args.get("verb", "")
        if quirk == "ok":
            return standard(args)
        if quirk == "html":
            return Response("<!DOCTYPE html>\n<html><body><h1>Down for maintenance</h1>"
                            "</body></html>", content_type="text/html")
        if quirk == "json":
            return Response('{"error": "use the REST API"}', content_type="application/json")
        if quirk == "retry-seconds" and n <= int(args.get("fail", "1")):
            return Response("busy", status=503, headers={"Retry-After": "1"})
        if quirk == "retry-date" and n <= 1:
            when = datetime.now(UTC) + timedelta(seconds=int(args.get("in", "30")))
            return Response("busy", status=503,
                            headers={"Retry-After": format_datetime(when, usegmt=True)})
        if quirk == "too-many" and n <= 1:
            return Response("slow down", status=429, headers={"Retry-After": "2"})
        if quirk == "empty-500":
            return Response(b"", status=500)
        if quirk == "flaky-500" and n <= 2:
            return Response(b"", status=500)
        if quirk == "http-422":
            if verb == "GetRecord":
                return _xml(error_body("idDoesNotExist", "No matching identifier"), 422)
            return _xml(error_body("badArgument", "metadataPrefix does not exist"), 422)
        if quirk == "not-found":
            return Response("<html><body>Not Found</body></html>", status=404,
                            content_type="text/html")
        if quirk == "no-records":
            return _xml(error_body("noRecordsMatch", "nothing here"))
        if quirk == "same-token":
            inner = "".join(render_record(r) for r in records[:page_size])
            return _xml(envelope("ListRecords", inner + token_xml("same")))
        if quirk == "same-page":
            inner = "".join(render_record(r) for r in records[:page_size])
            return _xml(envelope("ListRecords", inner + token_xml(f"t{n}")))
        if quirk == "cursor-backwards":
            cursor = 10 if n == 1 else 0
            chunk = records[(n - 1) * page_size:n * page_size]
            inner = "".join(render_record(r) for r in chunk)
            return _xml(envelope("ListRecords", inner + token_xml(f"c{n}", cursor)))
        if quirk == "empty-pages":
            return _xml(envelope("ListRecords", token_xml(f"e{n}")))
        if quirk == "ctrl-char":
            inner = (render_record(records[0], title_xml="Vertical\x0btab")
                     + render_record(records[1], title_xml="Char&#11;ref&#x0B;")
                     + render_record(records[2]))
            return _xml(envelope("ListRecords", inner))
        if quirk == "latin1-as-utf8":
            inner = render_record(records[0], title_xml="Café Ørsted São Paulo")
            return _xml(envelope("ListRecords", inner).encode("latin-1"))
        if quirk == "utf8-as-latin1":
            inner = render_record(records[0], title_xml="Café Ørsted São Paulo")
            body = envelope("ListRecords", inner, encoding="ISO-8859-1").encode("utf-8")
            return _xml(body, charset="iso-8859-1")
        if quirk == "wrong-encoding":
            inner = render_record(records[0], title_xml="Café Ørsted")
            body = envelope("ListRecords", inner, encoding="UTF-16").encode("utf-8")
            return _xml(body)
        if quirk == "bad-record":
            if args.get("resumptionToken"):
                return _xml(paged(args))
            inner = (render_record(records[0])
                     + render_record(records[1], title_xml="broken</dc:titel>")
                     + render_record(records[2]) + token_xml("p3", 0, 9))
            return _xml(envelope("ListRecords", inner))
        if quirk == "huge":
            big = "x" * (11 * 1024 * 1024)
            inner = render_record(records[0], title_xml=big) + token_xml("p1", 0, 2)
            return _xml(envelope("ListRecords", inner))
        if quirk == "streamed":
            body = paged(args).encode("utf-8")
            return Response((body[i:i + 1000] for i in range(0, len(body), 1000)),
                            content_type="text/xml; charset=utf-8")
        if quirk in ("gzip", "deflate"):
            data = paged(args).encode("utf-8")
            accepted = request.headers.get("Accept-Encoding", "")
            if quirk not in accepted:
                return Response("compression required", status=406)
            data = gzip.compress(data) if quirk == "gzip" else zlib.compress(data)
            return _xml(data, headers={"Content-Encoding": quirk})
        if quirk == "raw-deflate":  # a bare deflate stream, sent as deflate all the same
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            data = packer.compress(paged(args).encode("utf-8")) + packer.flush()
            return _xml(data, headers={"Content-Encoding": "deflate"})
        if quirk == "gzip-members":  # the page in two concatenated gzip members
            data = paged(args).encode("utf-8")
            half = len(data) // 2
            return _xml(gzip.compress(data[:half]) + gzip.compress(data[half:]),
                        headers={"Content-Encoding": "gzip"})
        if quirk == "gzip-bomb":
            return _xml(gzip_bomb(), headers={"Content-Encoding": "gzip"})
        if quirk == "gzip-corrupt":
            data = bytearray(gzip.compress(paged(args).encode("utf-8")))
            data[20:40] = b"\xff" * 20
            return _xml(bytes(data), headers={"Content-Encoding": "gzip"})
        if quirk == "prefixed":
            return _xml(paged(args, prefix="oai"))
        if quirk == "no-namespace":
            return _xml(paged(args, namespaced=False))
        if quirk == "slow":
            time.sleep(min(float(args.get("delay", "1")), MAX_SLEEP))
            return standard(args)
        if quirk == "slow-body":
            def trickle() -> Iterator[bytes]:
                body = paged(args).encode("utf-8")
                yield body[:100]
                time.sleep(min(float(args.get("delay", "1")), MAX_SLEEP))
                yield body[100:]
            return Response(trickle(), content_type="text/xml")
        if quirk == "expired-token":
            token = args.get("resumptionToken")
            if token and int(token[1:]) >= int(args.get("k", "2")) * page_size:
                return _xml(error_body("badResumptionToken", "expired"), 422)
            return _xml(paged(args))
        if quirk == "day-granularity":
            if verb == "Identify":
                return _xml(identify_body("YYYY-MM-DD"))
            if "T" in args.get("from", "") or "T" in args.get("until", ""):
                return _xml(error_body("badArgument", "granularity is YYYY-MM-DD"))
            return _xml(paged(args))
        if quirk == "lying-granularity":  # advertises seconds, refuses them
            if verb == "Identify":
                return _xml(identify_body())
            if "T" in args.get("from", "") or "T" in args.get("until", ""):
                return _xml(error_body("badArgument", "granularity is YYYY-MM-DD"))
            return _xml(paged(args))
        if quirk == "narrow-only":  # times out (503) when a window holds too many records
            if verb == "ListRecords" and not args.get("resumptionToken"):
                low = _day_epoch(args.get("from") or "1970-01-01")
                high = _day_epoch(args.get("until") or "2999-12-31")
                chosen = [r for r in records
                          if low <= _day_epoch(r.datestamp) <= high + 86399]
                if len(chosen) > int(args.get("max_records", "8")):
                    return _xml("<html>gateway timeout</html>", 503)
                if not chosen:
                    return _xml(error_body("noRecordsMatch", "none"))
                return _xml(envelope("ListRecords", "".join(render_record(r) for r in chosen)))
            return standard(args)
        if quirk == "entity":
            base = request.host_url.rstrip("/")
            secret = args.get("secret", "/nonexistent")
            doctype = (f'<!DOCTYPE OAI-PMH SYSTEM "{base}/leak.dtd" [\n'
                       f'<!ENTITY ext SYSTEM "{base}/leak">\n'
                       f'<!ENTITY file SYSTEM "file://{secret}">\n'
                       '<!ENTITY lol "lol">\n]>\n')
            inner = render_record(records[0], title_xml="before &ext;&file;&lol; after")
            return _xml(envelope("ListRecords", inner, doctype=doctype))
        if quirk == "wrong-root":
            return _xml('<?xml version="1.0"?><rss version="2.0"><channel/></rss>')
        return standard(args)

    @app.route("/<quirk>/oai", methods=["GET", "POST"])
    def oai(quirk: str) -> Response:
        args = {k: v for k, v in request.values.items()}
        with state.lock:
            # Identify is counted apart so that page-numbered quirks see only list requests
            key = f"{quirk}:Identify" if args.get("verb") == "Identify" else quirk
            state.hits[key] += 1
            n = state.hits[key]
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            state.headers.append(dict(request.headers))
            state.args.append(args)
        try:
            if quirk == "busy":
                time.sleep(min(float(args.get("delay", "0.1")), MAX_SLEEP))
            return quirk_response(quirk, args, n)
        finally:
            with state.lock:
                state.in_flight -= 1

    @app.route("/leak", defaults={"rest": ""})
    @app.route("/leak<path:rest>")
    def leak(rest: str) -> Response:
        with state.lock:
            state.leak_hits += 1
        return Response("LEAKED", content_type="text/plain")

    return app


def _day_epoch(value: str) -> int:
    return int(datetime.strptime(value[:10], "%Y-%m-%d").replace(tzinfo=UTC).timestamp())


# --- runner ------------------------------------------------------------------------------------


@dataclass
class QuirkServer:
    base: str
    state: QuirkState

    def url(self, quirk: str) -> str:
        return f"{self.base}/{quirk}/oai"


@contextmanager
def serve_quirks(records: list[QuirkRecord] | None = None,
                 page_size: int = 10) -> Iterator[QuirkServer]:
    """Run the quirk app on 127.0.0.1 (free port) in a thread; yield it; shut it down."""
    state = QuirkState()
    with serve_in_thread(create_quirk_app(records, page_size, state)) as base:
        yield QuirkServer(base, state)
