"""A small, honest OAI-PMH repository that turns hostile on demand (a test helper, not tests).

Unlike the quirk server it filters lists by from/until/set (its tokens carry them), so a
harvester's planning can be watched: every request is recorded in `Hostile.requests` and
every connection in `Hostile.connections`. The behaviour is the first path segment
(`{base}/{behaviour}/oai`); `None` of them is the well-behaved repository.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from flask import Flask, Response, redirect, request

from tests.quirk_server import FORMATS_XML, envelope, error_body
from tests.serving import serve_in_thread

OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
YEAR = 365 * 86400


@dataclass
class Item:
    identifier: str
    datestamp: str  # YYYY-MM-DDThh:mm:ssZ
    sets: tuple[str, ...] = ()
    deleted: bool = False
    metadata: str | None = None  # the payload's exact text; a default oai_dc one if None

    def payload(self) -> str:
        if self.metadata is not None:
            return self.metadata
        return (f'<oai_dc:dc xmlns:oai_dc="{OAI_DC}" xmlns:dc="{DC}">'
                f"<dc:title>{escape(self.identifier)}</dc:title></oai_dc:dc>")


@dataclass
class Hostile:
    """The repository's content and what it saw."""

    items: list[Item]
    earliest: str = "2020-01-01T00:00:00Z"
    page_size: int = 10
    max_window: int | None = None  # lists holding more records than this fail with 503
    delay: float = 0.1  # trickle: seconds between bytes
    root_declarations: str = ""  # extra xmlns on <OAI-PMH>
    requests: list[dict[str, str]] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def list_requests(self) -> list[dict[str, str]]:
        return [r for r in self.requests if r.get("verb") in ("ListRecords", "ListIdentifiers")]


def _epoch(text: str | None, default: int) -> int:
    if not text:
        return default
    if len(text) == 10:
        text += "T00:00:00Z"
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def _until_epoch(text: str | None) -> int:
    value = _epoch(text, 10**12)
    return value + 86399 if text and len(text) == 10 else value


def _token(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()


def _untoken(token: str) -> dict[str, Any]:
    return dict(json.loads(base64.urlsafe_b64decode(token.encode())))


def create_app(repo: Hostile) -> Flask:
    app = Flask(__name__)

    def body(verb: str, inner: str) -> str:
        text = envelope(verb, inner)
        if repo.root_declarations:
            text = text.replace("<OAI-PMH ", f"<OAI-PMH {repo.root_declarations} ", 1)
        return text

    def identify() -> str:
        return body("Identify", (
            "<repositoryName>Hostile</repositoryName>"
            "<baseURL>http://hostile.example.org/oai</baseURL>"
            "<protocolVersion>2.0</protocolVersion><adminEmail>a@hostile.example.org"
            f"</adminEmail><earliestDatestamp>{repo.earliest}</earliestDatestamp>"
            "<deletedRecord>persistent</deletedRecord>"
            "<granularity>YYYY-MM-DDThh:mm:ssZ</granularity>"))

    def listing(args: dict[str, str]) -> tuple[str, int]:
        verb = args["verb"]
        if "resumptionToken" in args:
            state = _untoken(args["resumptionToken"])
        else:
            state = {"from": args.get("from"), "until": args.get("until"),
                     "set": args.get("set"), "offset": 0}
        low, high = _epoch(state["from"], -10**12), _until_epoch(state["until"])
        chosen = [i for i in repo.items if low <= _epoch(i.datestamp, 0) <= high
                  and (state["set"] is None or state["set"] in i.sets)]
        if repo.max_window is not None and len(chosen) > repo.max_window:
            return "<html>the list is too long for us</html>", 503
        if not chosen:
            return error_body("noRecordsMatch", "none"), 200
        offset = state["offset"]
        page = chosen[offset:offset + repo.page_size]
        inner = []
        for item in page:
            status = ' status="deleted"' if item.deleted else ""
            specs = "".join(f"<setSpec>{escape(s)}</setSpec>" for s in item.sets)
            header = (f"<header{status}><identifier>{escape(item.identifier)}</identifier>"
                      f"<datestamp>{item.datestamp}</datestamp>{specs}</header>")
            if verb == "ListIdentifiers":
                inner.append(header)
            elif item.deleted:
                inner.append(f"<record>{header}</record>")
            else:
                inner.append(f"<record>{header}<metadata>{item.payload()}</metadata></record>")
        following = offset + repo.page_size
        if following < len(chosen):
            token = _token({**state, "offset": following})
            inner.append(f'<resumptionToken cursor="{offset}" completeListSize="{len(chosen)}">'
                         f"{token}</resumptionToken>")
        elif offset:
            inner.append(f'<resumptionToken cursor="{offset}" '
                         f'completeListSize="{len(chosen)}"/>')
        return body(verb, "".join(inner)), 200

    def honest(args: dict[str, str]) -> Response:
        verb = args.get("verb")
        if verb == "Identify":
            return _xml(identify())
        if verb == "ListMetadataFormats":
            return _xml(body("ListMetadataFormats", FORMATS_XML))
        if verb == "ListSets":
            specs = sorted({s for i in repo.items for s in i.sets})
            if not specs:
                return _xml(error_body("noSetHierarchy", "no sets"))
            return _xml(body("ListSets", "".join(
                f"<set><setSpec>{escape(s)}</setSpec><setName>{escape(s)}</setName></set>"
                for s in specs)))
        if verb in ("ListRecords", "ListIdentifiers"):
            text, status = listing(args)
            return _xml(text, status)
        return _xml(error_body("badVerb", "unknown verb"))

    def hostile(behaviour: str, args: dict[str, str]) -> Response:
        is_list = args.get("verb") in ("ListRecords", "ListIdentifiers")
        if behaviour == "always-500" and is_list:
            return Response(b"", status=500)
        if behaviour == "retry-year" and is_list:
            return Response("come back next year", status=503,
                            headers={"Retry-After": str(YEAR)})
        if behaviour == "retry-past" and is_list and len(repo.list_requests()) == 1:
            return Response("busy", status=503,
                            headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
        if behaviour == "redirect-loop":
            return redirect(request.full_path, 302)  # type: ignore[return-value]
        if behaviour == "redirect-pingpong":
            other = "pong" if "/ping/" in request.path else "ping"
            return redirect(f"/redirect-pingpong/{other}/oai?{request.query_string.decode()}",
                            302)  # type: ignore[return-value]
        if behaviour == "redirect-file":
            return redirect("file:///etc/passwd", 302)  # type: ignore[return-value]
        if behaviour == "redirect-once":
            return redirect(f"/ok/oai?{request.query_string.decode()}",
                            301)  # type: ignore[return-value]
        if behaviour == "trickle" and is_list:
            text, status = listing(args)

            def drip() -> Iterator[bytes]:
                for byte in text.encode():
                    yield bytes([byte])
                    time.sleep(repo.delay)
            return Response(drip(), status=status, content_type="text/xml; charset=utf-8")
        if behaviour == "slow" and is_list:
            time.sleep(repo.delay)
        if behaviour == "silent":
            time.sleep(3.0)  # longer than any read timeout the tests give
        return honest(args)

    @app.route("/<behaviour>/oai", methods=["GET", "POST"])
    @app.route("/<behaviour>/<hop>/oai", methods=["GET", "POST"])
    def oai(behaviour: str, hop: str | None = None) -> Response:
        args = {k: v for k, v in request.values.items()}
        with repo.lock:
            repo.requests.append({**args, "_behaviour": behaviour})
        return hostile(behaviour, args)

    return app


def _xml(text: str, status: int = 200) -> Response:
    return Response(text.encode("utf-8"), status=status, content_type="text/xml; charset=utf-8")


@dataclass
class Running:
    base: str
    repo: Hostile

    def url(self, behaviour: str = "ok") -> str:
        return f"{self.base}/{behaviour}/oai"


@contextmanager
def serve_hostile(repo: Hostile) -> Iterator[Running]:
    """Run the app on 127.0.0.1 (free port) in a thread, counting connections."""
    def accepted() -> None:
        with repo.lock:
            repo.connections += 1

    with serve_in_thread(create_app(repo), accepted) as base:
        yield Running(base, repo)


def items(n: int, start: str = "2024-01-01", sets: tuple[str, ...] = ()) -> list[Item]:
    """n records, one a day from `start`."""
    first = _epoch(start, 0)
    return [Item(f"oai:hostile.example.org:{i}",
                 datetime.fromtimestamp(first + i * 86400, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 sets) for i in range(n)]


__all__ = ["Hostile", "Item", "items", "serve_hostile"]
