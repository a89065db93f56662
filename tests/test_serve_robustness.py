"""`oai serve` over real HTTP: requests gunicorn refuses itself, any method, any bytes, and
a database that loses its connections or goes away. Every answer must be HTTP 200 (or 503
with Retry-After) and a schema-valid OAI-PMH document."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from oai.protocol.schemas import validate_response
from oai.provider.server import LIMIT_REQUEST_LINE
from oai.store.repository import Store
from tests.conftest import NS, error_codes, put, record
from tests.serving import RawResponse, Served, TcpProxy, oai_serve, raw_request, request_bytes
from tests.token_forgery import bad_tokens

ID = "oai:test.example.org:"


@pytest.fixture(scope="module")
def served_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(URL, token secret) of a SQLite store with a few records and sets."""
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.sqlite'}"
    store = Store.open(url, create=True)
    put(store, *[record(f"r{i}", sets=[f"s{i % 4}", "t:u"]) for i in range(9)])
    store.delete(["r3"])
    secret = store.setting("token_secret")
    store.close()
    assert secret
    return url, secret


@pytest.fixture(scope="module")
def served(served_store: tuple[str, str],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    log = tmp_path_factory.mktemp("served") / "serve.log"
    with oai_serve(served_store[0], log, page_size="3", sets_page_size="2") as server:
        yield server


@pytest.fixture(scope="module")
def real_tokens(served: Served) -> list[str]:
    found = []
    for query in ("verb=ListRecords&metadataPrefix=oai_dc",
                  "verb=ListIdentifiers&metadataPrefix=oai_dc&set=t", "verb=ListSets"):
        root = check(served.request("GET", "/oai?" + query))
        assert root is not None
        token = root.findtext(".//o:resumptionToken", namespaces=NS)
        assert token
        found.append(token)
    return found


def check(resp: RawResponse, method: str = "GET") -> etree._Element | None:
    """200, or 503 with Retry-After; XML; schema-valid unless HEAD."""
    assert resp.status in (200, 503), (resp.status, resp.body[:300])
    if resp.status == 503:
        assert int(resp.headers["retry-after"]) > 0
    assert resp.headers["content-type"] == "text/xml; charset=utf-8"
    if method == "HEAD":
        assert resp.body == b""
        return None
    validate_response(resp.body)
    return etree.fromstring(resp.body)


def bad_argument(resp: RawResponse) -> None:
    assert resp.status == 200
    root = check(resp)
    assert root is not None and error_codes(root) == ["badArgument"]
    assert root.find("o:request", NS).attrib == {}


GET = b"GET /oai?verb=Identify HTTP/1.1\r\nHost: x\r\n"
REFUSED_BY_GUNICORN = {
    "over-long request line": b"GET /oai?verb=Identify&x=" + b"a" * 20_000
                              + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "far over-long request line": b"GET /oai?verb=Identify&x=" + b"a" * 300_000
                                  + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "garbage request line": b"GARBAGE\r\n\r\n",
    "lower-case method": b"get /oai?verb=Identify HTTP/1.1\r\nHost: x\r\n\r\n",
    "unknown HTTP version": b"GET /oai?verb=Identify HTTP/9.9\r\nHost: x\r\n\r\n",
    "NUL in the target": b"GET /oai?verb=Identify\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    "HTTP/0.9": b"GET /oai?verb=Identify\r\n\r\n",
    "invalid header name": GET + b"Bad Name: x\r\n\r\n",
    "too many headers": GET + b"".join(b"X-%d: y\r\n" % i for i in range(300)) + b"\r\n",
    "over-long header": GET + b"X-Big: " + b"y" * 20_000 + b"\r\n\r\n",
    "unsupported transfer coding": b"POST /oai HTTP/1.1\r\nHost: x\r\n"
                                   b"Transfer-Encoding: gzip\r\n\r\n",
    "broken chunked body": b"POST /oai HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                           b"\r\n\r\nZZ\r\nverb=Identify\r\n0\r\n\r\n",
    "binary noise": bytes(range(1, 256)) + b"\r\n\r\n",
}


@pytest.mark.parametrize("data", REFUSED_BY_GUNICORN.values(), ids=REFUSED_BY_GUNICORN.keys())
def test_requests_gunicorn_refuses_get_bad_argument(served: Served, data: bytes) -> None:
    bad_argument(raw_request(served.port, data))
    assert served.request("GET", "/oai?verb=Identify").status == 200


def test_a_refused_head_gets_no_body(served: Served) -> None:
    resp = raw_request(served.port, b"HEAD /oai?verb=Identify\x00 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert resp.status == 200 and resp.body == b""
    assert int(resp.headers["content-length"]) > 0


def test_the_request_line_limit_is_kept_but_generous(served: Served) -> None:
    identifier = ID + "x" * 7_900
    root = check(served.request("GET", "/oai?" + urlencode(
        {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": identifier})))
    assert root is not None and error_codes(root) == ["idDoesNotExist"]  # the app answered
    assert root.find("o:request", NS).get("identifier") == identifier
    longer = "/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=" + "x" * 9_000
    bad_argument(served.request("GET", longer))  # refused before the app, in OAI-PMH
    # a POST body carries what a request line cannot
    root = check(served.request("POST", "/oai", urlencode(
        {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": ID + "x" * 20_000})
        .encode()))
    assert root is not None and error_codes(root) == ["idDoesNotExist"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND",
                                    "FOO", "HEAD"])
def test_every_method(served: Served, method: str) -> None:
    body = b"verb=Identify" if method in ("PUT", "PATCH") else None
    resp = served.request(method, "/oai?verb=Identify", body)
    root = check(resp, method)
    if method != "HEAD":
        assert root is not None and error_codes(root) == ["badArgument"]
        assert resp.headers["allow"] == "GET, HEAD, POST"


def test_unknown_paths_may_404_but_not_500(served: Served) -> None:
    for path in ("/nope", "/oai/", "/oai/..%2f", "/%ff%fe", "/oai%00"):
        assert served.request("GET", path + "?verb=Identify").status == 404


def test_a_full_harvest(served: Served) -> None:
    assert len(harvest(served, "ListRecords", "o:record")) == 9
    assert len(harvest(served, "ListSets", "o:set")) == 6


def harvest(served: Served, verb: str, item: str, **params: str) -> list[etree._Element]:
    """Every item of a list over real HTTP; a 503 is retried, as a harvester would."""
    if verb != "ListSets":
        params = {"metadataPrefix": "oai_dc", **params}
    query = {"verb": verb, **params}
    items: list[etree._Element] = []
    retries = 0
    while True:
        resp = served.request("GET", "/oai?" + urlencode(query))
        root = check(resp)
        assert root is not None
        if resp.status == 503:
            retries += 1
            assert retries < 200, "the database never came back"
            continue
        assert error_codes(root) == []
        items += root.findall(f"o:{verb}/{item}", NS)
        token = root.findtext(f"o:{verb}/o:resumptionToken", namespaces=NS)
        if not token:
            return items
        query = {"verb": verb, "resumptionToken": token}


# -- properties over real HTTP ---------------------------------------------------------------

_TARGET_BYTES = st.binary(max_size=200).map(
    lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
_PAIRS = st.lists(st.tuples(
    st.sampled_from(["verb", "metadataPrefix", "identifier", "from", "until", "set",
                     "resumptionToken", "x"]),
    st.one_of(st.sampled_from(["Identify", "ListRecords", "ListIdentifiers", "GetRecord",
                               "ListSets", "ListMetadataFormats", "oai_dc", "t", "t:u",
                               ID + "r1", "2001-01-01", ""]),
              st.text(max_size=20), st.text(max_size=3).map(lambda t: t * 1500))),
    max_size=5)
_METHODS = st.one_of(st.sampled_from(["GET", "POST", "HEAD", "PUT", "OPTIONS", "get"]),
                     st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126),
                             min_size=1, max_size=10))


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=_METHODS, pairs=_PAIRS, raw=st.one_of(st.none(), _TARGET_BYTES),
       in_body=st.booleans())
def test_any_request_over_http(served: Served, method: str, pairs: list[tuple[str, str]],
                               raw: bytes | None, in_body: bool) -> None:
    query = urlencode(pairs, errors="surrogatepass").encode() if raw is None else raw
    target = b"/oai" if in_body else b"/oai?" + query
    resp = raw_request(served.port, request_bytes(method, target, query if in_body else None))
    # a request line over the limit is refused before its method is read: even a HEAD then
    # gets the document (with Connection: close), which a HEAD client does not read
    unread = len(method) + len(target) + 10 > LIMIT_REQUEST_LINE
    check(resp, "GET" if unread else method)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), verb=st.sampled_from(["ListRecords", "ListIdentifiers", "ListSets"]),
       method=st.sampled_from(["GET", "POST"]))
def test_any_token_over_http(served: Served, served_store: tuple[str, str],
                             real_tokens: list[str], data: st.DataObject, verb: str,
                             method: str) -> None:
    """Random, truncated, tampered and re-signed-with-the-real-key tokens, raw bytes too."""
    token = data.draw(st.one_of(
        bad_tokens(served_store[1], real_tokens),
        st.binary(max_size=60).map(lambda b: quote(b).replace("%2E", "."))))
    query = f"verb={verb}&resumptionToken={quote(token, safe='%.')}"
    if method == "GET":
        resp = served.request("GET", "/oai?" + query)
    else:
        resp = served.request("POST", "/oai", query.encode())
    root = check(resp)
    assert root is not None
    codes = error_codes(root)
    assert codes in ([], ["badResumptionToken"], ["badArgument"])
    if not codes:  # a real token, or one that decodes to a legal position
        assert root.find(f"o:{verb}", NS) is not None


# -- the database under the server -----------------------------------------------------------


def with_query(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


class Terminator:
    """Terminates, in a loop, the PostgreSQL backends of one application_name: the server
    under test and nothing else (other engineers' tests share the server)."""

    def __init__(self, admin_url: str, application_name: str) -> None:
        self.engine = create_engine(admin_url)
        self.name = application_name
        self.killed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.engine.connect() as conn:
            while not self._stop.is_set():
                self.killed += len(conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"),
                    {"name": self.name}).all())
                conn.commit()
                time.sleep(0.01)

    def __enter__(self) -> Terminator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.engine.dispose()


@pytest.mark.postgresql
def test_a_harvest_while_backends_are_terminated(postgres_url: str, tmp_path: Path) -> None:
    """Each response of a full harvest is 200, or 503 with Retry-After; none is a 500."""
    store = Store.open(postgres_url, create=True)
    put(store, *[record(f"r{i:02d}", sets=[f"s{i % 5}"]) for i in range(40)])
    store.close()
    name = f"oai_kill_{uuid.uuid4().hex[:12]}"
    with oai_serve(with_query(postgres_url, application_name=name), tmp_path / "serve.log",
                   workers=2, page_size="2", sets_page_size="1") as server, \
            Terminator(postgres_url, name) as terminator:
        # rounds until enough backends died under it (how many a round sees depends on the
        # machine's speed), at least two
        for rounds in range(1, 41):
            assert len(harvest(server, "ListRecords", "o:record")) == 40
            assert len(harvest(server, "ListIdentifiers", "o:header", set="s1")) == 8
            assert len(harvest(server, "ListSets", "o:set")) == 5
            for i in range(0, 40, 3):
                resp = server.request("GET", "/oai?" + urlencode(
                    {"verb": "GetRecord", "metadataPrefix": "oai_dc",
                     "identifier": f"{ID}r{i:02d}"}))
                check(resp)
            if rounds >= 2 and terminator.killed > 50:
                break
    assert terminator.killed > 50, "the test terminated too few backends to mean anything"


@pytest.mark.postgresql
def test_database_gone_then_back(postgres_url: str, tmp_path: Path) -> None:
    """The database's address stops answering (a TCP proxy is unplugged): 503 with
    Retry-After and a valid body; plugged back in, the same server answers 200 again."""
    store = Store.open(postgres_url, create=True)
    put(store, *[record(f"r{i}") for i in range(5)])
    store.close()
    target = make_url(postgres_url)
    proxy = TcpProxy((target.host or "127.0.0.1", target.port or 5432))
    proxy.up()
    proxied = postgres_url.replace(f":{target.port or 5432}/", f":{proxy.port}/", 1)
    assert proxied != postgres_url
    queries = ["verb=Identify", "verb=ListRecords&metadataPrefix=oai_dc",
               f"verb=GetRecord&metadataPrefix=oai_dc&identifier={ID}r1"]
    try:
        with oai_serve(proxied, tmp_path / "serve.log", workers=1) as server:
            for query in queries:
                assert server.request("GET", "/oai?" + query).status == 200
            proxy.down()
            for query in queries * 3:
                resp = server.request("GET", "/oai?" + query)
                assert resp.status == 503
                check(resp)
            proxy.up()
            for query in queries:
                resp = server.request("GET", "/oai?" + query)
                assert resp.status == 200, resp.body[:300]
                check(resp)
    finally:
        proxy.down()
