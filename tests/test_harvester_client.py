"""The network client against a misbehaving server on loopback (real HTTP, no mocks)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from lxml import etree

from harvester.client import OAIClient, backoff_delay, parse_retry_after
from harvester.errors import (
    ConnectFailed,
    HarvestError,
    HTTPStatusError,
    LoopDetected,
    NotOAIResponse,
    OAIProtocolError,
    RequestTimeout,
    ResponseTooLarge,
    RetriesExhausted,
    RetryAfterTooLong,
    SuspiciousPaging,
)
from harvester.parsing import parse_page
from oai.protocol.datestamps import parse_lenient
from tests.quirk_server import QuirkServer, serve_quirks

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def quirks() -> Iterator[QuirkServer]:
    with serve_quirks() as server:
        yield server


class Sleeps(list[float]):
    """An injectable sleep that records instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(server: QuirkServer, quirk: str, **kw: object) -> tuple[OAIClient, Sleeps]:
    sleeps = Sleeps()
    kw.setdefault("sleep", sleeps)
    kw.setdefault("backoff_base", 0.01)
    kw.setdefault("max_attempts", 3)
    return OAIClient(server.url(quirk), **kw), sleeps  # type: ignore[arg-type]


def identifiers(pages: object) -> list[str]:
    return [r.identifier for p in pages for r in p.records]  # type: ignore[attr-defined]


# --- politeness and headers -------------------------------------------------------------------


def test_descriptive_user_agent_and_compression_offered(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "ok", contact="harvest@example.org")
    c.request("Identify")
    headers = quirks.state.headers[-1]
    assert headers["User-Agent"].startswith("oai-toolkit-harvester/")
    assert headers["From"] == "harvest@example.org"
    assert "gzip" in headers["Accept-Encoding"] and "deflate" in headers["Accept-Encoding"]


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_compressed_responses_are_decoded(quirks: QuirkServer, coding: str) -> None:
    c, _ = client(quirks, coding)
    result = c.request("ListRecords", metadataPrefix="oai_dc")
    assert result.headers["Content-Encoding"] == coding
    assert len(parse_page(result.body, "ListRecords").records) == 10


@pytest.mark.parametrize("quirk", ["raw-deflate", "gzip-members"])
def test_compressed_bodies_as_servers_really_send_them(quirks: QuirkServer, quirk: str) -> None:
    c, _ = client(quirks, quirk)
    page = c.fetch_page("ListRecords", metadataPrefix="oai_dc")
    assert len(page.records) == 10 and page.next_token == "p10"


def test_gzip_bomb_stops_at_the_cap_not_in_memory(quirks: QuirkServer) -> None:
    """256 MB of zeros in a quarter of a megabyte: refused once a megabyte is inflated."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    c, _ = client(quirks, "gzip-bomb", max_bytes=1024 * 1024)
    with pytest.raises(ResponseTooLarge):
        c.request("ListRecords", metadataPrefix="oai_dc")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 64


def test_corrupt_gzip_is_a_transport_failure_retried(quirks: QuirkServer) -> None:
    c, sleeps = client(quirks, "gzip-corrupt")
    with pytest.raises(RetriesExhausted) as caught:
        c.request("ListRecords", metadataPrefix="oai_dc")
    assert "invalid gzip data" in str(caught.value) and len(sleeps) == 2


def test_post_only_when_configured(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "ok", http_method="POST")
    page = c.fetch_page("ListRecords", metadataPrefix="oai_dc")
    assert len(page.records) == 10
    assert quirks.state.args[-1]["metadataPrefix"] == "oai_dc"


def test_one_request_at_a_time_per_host(quirks: QuirkServer) -> None:
    clients = [OAIClient(quirks.url("busy")), OAIClient(quirks.base + "/busy/oai?x=1")]

    def work(c: OAIClient) -> None:
        for _ in range(3):
            c.request("Identify", delay="0.1")

    threads = [threading.Thread(target=work, args=(c,)) for c in clients * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (quirks.state.hits["busy"] + quirks.state.hits["busy:Identify"]) == 12
    assert quirks.state.max_in_flight == 1


def test_min_interval_between_requests(quirks: QuirkServer) -> None:
    c, sleeps = client(quirks, "ok", min_interval=0.3)
    for _ in range(3):
        c.request("Identify")
    assert len(sleeps) == 2
    assert all(0.1 < s <= 0.3 for s in sleeps)


def test_min_interval_really_spaces_requests(quirks: QuirkServer) -> None:
    c = OAIClient(quirks.url("ok"), min_interval=0.15)
    start = time.monotonic()
    for _ in range(3):
        c.request("Identify")
    assert time.monotonic() - start >= 0.3


# --- retries and Retry-After ------------------------------------------------------------------


def test_503_retry_after_seconds(quirks: QuirkServer) -> None:
    c, sleeps = client(quirks, "retry-seconds")
    result = c.request("Identify")
    assert result.status == 200 and result.attempts == 2
    assert sleeps == [1.0]


def test_503_retry_after_http_date(quirks: QuirkServer) -> None:
    c, sleeps = client(quirks, "retry-date")
    result = c.request("Identify", **{"in": "30"})
    assert result.status == 200 and result.attempts == 2
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 30


def test_retry_after_beyond_the_cap_gives_up_at_once(quirks: QuirkServer) -> None:
    """A server asking for an hour gets no second request now (and no capped wait repeated
    attempt after attempt): the run stops, to be resumed later."""
    c, sleeps = client(quirks, "retry-date", max_retry_after=5)
    with pytest.raises(RetryAfterTooLong) as info:
        c.request("Identify", **{"in": "3600"})
    assert sleeps == [] and quirks.state.hits["retry-date:Identify"] == 1
    assert "more than the 5 s" in str(info.value) and "\n" not in str(info.value)


def test_429_is_retried_after_its_retry_after(quirks: QuirkServer) -> None:
    c, sleeps = client(quirks, "too-many")
    assert c.request("Identify").status == 200
    assert sleeps == [2.0]


def test_500_empty_body_retried_with_backoff_then_gives_up(quirks: QuirkServer) -> None:
    c, sleeps = client(quirks, "empty-500", backoff_base=0.5, backoff_cap=0.7,
                       rng=lambda: 1.0)
    with pytest.raises(RetriesExhausted) as info:
        c.request("GetRecord", identifier="x", metadataPrefix="oai_dc")
    assert info.value.status == 500 and info.value.attempts == 3
    assert quirks.state.hits["empty-500"] == 3
    assert sleeps == [0.5, 0.7]
    assert "gave up after 3 attempts" in str(info.value)


def test_transient_500_recovers(quirks: QuirkServer) -> None:
    c, sleeps = client(quirks, "flaky-500")
    result = c.request("Identify")
    assert result.status == 200 and result.attempts == 3 and len(sleeps) == 2


def test_full_jitter_backoff() -> None:
    assert backoff_delay(0, 1.0, 60.0, lambda: 1.0) == 1.0
    assert backoff_delay(3, 1.0, 60.0, lambda: 1.0) == 8.0
    assert backoff_delay(10, 1.0, 60.0, lambda: 1.0) == 60.0
    assert backoff_delay(10, 1.0, 60.0, lambda: 0.0) == 0.0


def test_parse_retry_after_forms() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("-5") is None  # not delta-seconds
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, now=now) == 90.0
    earlier = format_datetime(now - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(earlier, now=now) is None  # backoff, not "retry now"
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_slow_response_times_out(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "slow", read_timeout=0.2, max_attempts=2)
    start = time.monotonic()
    with pytest.raises(RetriesExhausted) as info:
        c.request("Identify", delay="2")
    assert isinstance(info.value.last_error, RequestTimeout)
    assert (quirks.state.hits["slow"] + quirks.state.hits["slow:Identify"]) == 2
    assert time.monotonic() - start < 1.5


def test_body_that_stalls_mid_way_times_out(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "slow-body", read_timeout=0.2, max_attempts=1)
    with pytest.raises(RetriesExhausted) as info:
        c.request("ListRecords", metadataPrefix="oai_dc", delay="2")
    assert isinstance(info.value.last_error, RequestTimeout)


def test_connection_refused() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    c = OAIClient(f"http://127.0.0.1:{port}/oai", max_attempts=2, sleep=lambda s: None)
    with pytest.raises(RetriesExhausted) as info:
        c.request("Identify")
    assert isinstance(info.value.last_error, ConnectFailed)


# --- error statuses and non-OAI bodies ----------------------------------------------------------


def test_oai_error_in_http_422_is_read_not_raised(quirks: QuirkServer) -> None:
    c, sleeps = client(quirks, "http-422")
    result = c.request("GetRecord", identifier="nope", metadataPrefix="oai_dc")
    assert result.status == 422 and result.attempts == 1 and not sleeps
    page = parse_page(result.body, "GetRecord")
    assert page.errors == [("idDoesNotExist", "No matching identifier")]
    with pytest.raises(OAIProtocolError) as info:
        list(c.iter_pages("ListRecords", metadata_prefix="XXX"))
    assert info.value.codes == ["badArgument"]


def test_non_xml_4xx_raises_status_error(quirks: QuirkServer) -> None:
    c, sleeps = client(quirks, "not-found")
    with pytest.raises(HTTPStatusError) as info:
        c.request("Identify")
    assert info.value.status == 404 and not sleeps
    assert (quirks.state.hits["not-found"] + quirks.state.hits["not-found:Identify"]) == 1


@pytest.mark.parametrize("quirk", ["html", "json", "wrong-root"])
def test_non_oai_200_is_an_error_never_zero_records(quirks: QuirkServer, quirk: str) -> None:
    c, _ = client(quirks, quirk)
    with pytest.raises(NotOAIResponse):
        c.fetch_page("ListRecords", metadataPrefix="oai_dc")
    with pytest.raises(NotOAIResponse):
        list(c.iter_pages())


def test_no_records_match_is_a_successful_empty_result(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "no-records")
    pages = list(c.iter_pages(from_="2030-01-01"))
    assert len(pages) == 1
    assert pages[0].no_records_match and pages[0].records == [] and pages[0].errors == []


# --- size -----------------------------------------------------------------------------------------


def test_response_over_cap_is_an_error(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "ok", max_bytes=2000)
    with pytest.raises(ResponseTooLarge):
        c.request("ListRecords", metadataPrefix="oai_dc")


def test_streamed_response_over_cap_is_an_error_not_truncated(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "streamed", max_bytes=2000)
    with pytest.raises(ResponseTooLarge):
        c.request("ListRecords", metadataPrefix="oai_dc")
    full, _ = client(quirks, "streamed")
    assert len(full.fetch_page("ListRecords", metadataPrefix="oai_dc").records) == 10


def test_response_over_10mb_parses_whole_with_its_token(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "huge")
    result = c.request("ListRecords", metadataPrefix="oai_dc")
    assert len(result.body) > 10 * 1024 * 1024
    with pytest.raises(etree.XMLSyntaxError):  # what libxml2 does without huge_tree
        etree.fromstring(result.body)
    page = parse_page(result.body, "ListRecords")
    assert len(page.records) == 1 and page.next_token == "p1"
    assert page.records[0].metadata is not None
    assert len(page.records[0].metadata) > 11 * 1024 * 1024


# --- paging ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("quirk", ["ok", "prefixed", "no-namespace", "gzip"])
def test_full_list_is_harvested(quirks: QuirkServer, quirk: str) -> None:
    c, _ = client(quirks, quirk)
    pages = list(c.iter_pages())
    assert len(pages) == 3
    ids = identifiers(pages)
    assert len(ids) == 25 and len(set(ids)) == 25
    assert sum(r.deleted for p in pages for r in p.records) == 3


def test_list_identifiers(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "ok")
    pages = list(c.iter_pages("ListIdentifiers"))
    assert len(identifiers(pages)) == 25
    assert all(r.metadata is None for p in pages for r in p.records)


def test_repeated_token_is_a_loop(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "same-token")
    with pytest.raises(LoopDetected, match="same resumptionToken"):
        list(c.iter_pages())
    assert quirks.state.hits["same-token"] == 2


def test_repeated_page_with_new_tokens_is_a_loop(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "same-page")
    with pytest.raises(LoopDetected, match="same page"):
        list(c.iter_pages())
    assert quirks.state.hits["same-page"] == 2


def test_cursor_going_backwards(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "cursor-backwards")
    with pytest.raises(SuspiciousPaging, match="backwards") as info:
        list(c.iter_pages())
    assert not isinstance(info.value, LoopDetected)


def test_endless_empty_pages_stop(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "empty-pages", max_empty_pages=4)
    with pytest.raises(SuspiciousPaging, match="empty pages"):
        list(c.iter_pages())
    assert quirks.state.hits["empty-pages"] == 5


def test_expired_token_after_k_pages(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "expired-token")
    pages = []
    with pytest.raises(OAIProtocolError) as info:
        for page in c.iter_pages():
            pages.append(page)
    assert len(pages) == 2
    assert info.value.codes == ["badResumptionToken"]
    assert "badResumptionToken" in str(info.value)


def test_day_granularity_from_identify(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "day-granularity")
    assert c.identify().granularity.value == "YYYY-MM-DD"
    pages = list(c.iter_pages(from_=parse_lenient("2024-01-02T12:34:56Z")))
    assert len(identifiers(pages)) == 25
    assert quirks.state.args[1]["from"] == "2024-01-02"


def test_day_granularity_fallback_on_bad_argument(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "day-granularity")
    pages = list(c.iter_pages(from_="2024-01-02T12:34:56Z", until="2024-03-01T00:00:00Z"))
    assert len(identifiers(pages)) == 25
    assert quirks.state.args[0]["from"] == "2024-01-02T12:34:56Z"
    assert quirks.state.args[1]["from"] == "2024-01-02"
    assert quirks.state.args[1]["until"] == "2024-03-01"


def test_sickle_verbs_still_work_through_our_transport(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "prefixed")
    assert len(list(c.ListIdentifiers(metadataPrefix="oai_dc"))) == 25


def test_every_error_has_a_one_line_message(quirks: QuirkServer) -> None:
    c, _ = client(quirks, "empty-500", max_attempts=1)
    with pytest.raises(HarvestError) as info:
        c.request("Identify")
    assert "\n" not in str(info.value) and quirks.base in str(info.value)


def test_the_environment_proxy_is_honoured(quirks: QuirkServer,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment is read once per origin (not on every request), but it is read: a
    host that does not resolve is reached through HTTP_PROXY, which sees the absolute URL."""
    port = quirks.base.rsplit(":", 1)[1]
    monkeypatch.setenv("HTTP_PROXY", quirks.base)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    c = OAIClient(f"http://oai.invalid:{port}/day-granularity/oai", max_attempts=1)
    assert c.identify().granularity.value == "YYYY-MM-DD"
    assert c.identify().granularity.value == "YYYY-MM-DD"
    assert [h.get("Host") for h in quirks.state.headers] == [f"oai.invalid:{port}"] * 2


def test_no_proxy_is_honoured(quirks: QuirkServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_PROXY (per origin) sends the request straight to the host, not to the proxy."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # the discard port: nothing there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    c, _ = client(quirks, "day-granularity", max_attempts=1)
    assert c.identify().granularity.value == "YYYY-MM-DD"
