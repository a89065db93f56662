"""The network client: fetches OAI-PMH responses politely and robustly, writes nothing.

Built on `sickle.Sickle` so its verb methods keep working, but `harvest` is replaced with our
transport policy, because Sickle's (plain `requests.get`, retry only on 503, integer-only
Retry-After, 4xx/5xx raised before the OAI error in the body can be read, no byte cap):
- (connect, read) timeouts; retries on transport errors, 5xx and 429 with full-jitter
  exponential backoff; Retry-After as delta-seconds or HTTP-date, capped;
- a streaming body read that stops at a byte cap (never a silent truncation);
- 4xx/5xx bodies that look like XML are returned so the parser can read the OAI errors
  (Zenodo answers errors with HTTP 422);
- one request at a time per host (across threads), an optional minimum interval between
  requests per source, a descriptive User-Agent, gzip/deflate.
`iter_pages` follows resumption tokens and refuses to loop (see `PagingGuard`).
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from lxml import etree
from requests.structures import CaseInsensitiveDict
from sickle import Sickle
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from oai.protocol.datestamps import (
    Granularity,
    InvalidDate,
    format_datestamp,
    parse_protocol_date,
)

from .errors import (
    ConnectFailed,
    HarvestError,
    HTTPStatusError,
    LoopDetected,
    RequestTimeout,
    ResponseTooLarge,
    RetriesExhausted,
    SuspiciousPaging,
    TransportError,
)
from .parsing import IdentifyInfo, Page, parse_identify, parse_page, parse_tree

log = logging.getLogger(__name__)

__version__ = "0.1"
DEFAULT_USER_AGENT = (
    f"oai-toolkit-harvester/{__version__} (OAI-PMH 2.0 harvester; "
    f"python-requests/{requests.__version__})"
)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_XML_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<[?!A-Za-z_]")
_OAI_ERROR = re.compile(rb"<(?:[\w.-]+:)?error\s[^>]*code\s*=")


@dataclass(frozen=True)
class FetchResult:
    """One HTTP answer: the final attempt's status, headers and (decoded) body.

    `elapsed` is the final attempt's duration in seconds including the body read; `attempts`
    counts every request made. `xml`, `raw` and `params` make it usable where Sickle expects
    its OAIResponse (its iterators and models).
    """

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed: float
    attempts: int
    params: dict[str, str] = field(default_factory=dict)

    @property
    def xml(self) -> etree._Element:
        """The body parsed securely (strict, then repaired)."""
        return parse_tree(self.body)

    @property
    def raw(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def looks_like_xml(body: bytes) -> bool:
    """Whether a body starts like an XML document, not HTML (so an error status may carry
    OAI errors worth reading)."""
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<html", b"<!doctype html")):
        return False
    return _XML_START.match(head) is not None


def parse_retry_after(value: str | None, cap: float,
                      now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), within [0, cap];
    None if absent or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, min(seconds, cap))


def backoff_delay(attempt: int, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)] (attempt counts from 0)."""
    return rng() * min(cap, base * (2 ** attempt))


# --- one request at a time per host -------------------------------------------------------------

_host_locks: dict[str, threading.Lock] = {}
_host_locks_guard = threading.Lock()


def host_lock(url: str) -> threading.Lock:
    """The process-wide lock for a URL's scheme://host:port."""
    parts = urlsplit(url)
    key = f"{parts.scheme}://{(parts.hostname or '').lower()}:{parts.port or ''}"
    with _host_locks_guard:
        return _host_locks.setdefault(key, threading.Lock())


# --- paging sanity --------------------------------------------------------------------------------


class PagingGuard:
    """Watches a resumption sequence and raises when the server loops or goes astray."""

    def __init__(self, max_empty_pages: int = 10) -> None:
        self.max_empty_pages = max_empty_pages
        self._tokens: set[str] = set()
        self._digests: set[bytes] = set()
        self._cursor: int | None = None
        self._empty_run = 0

    def check(self, page: Page) -> None:
        token = page.next_token
        if token is not None:
            if token in self._tokens:
                raise LoopDetected(f"the server sent the same resumptionToken twice: {token!r}")
            self._tokens.add(token)
        if page.records:
            self._empty_run = 0
            h = hashlib.blake2b(digest_size=16)
            for r in page.records:
                h.update(r.identifier.encode() + b"\0" + r.datestamp.encode() + b"\n")
            digest = h.digest()
            if digest in self._digests:
                raise LoopDetected("the server sent the same page of records again")
            self._digests.add(digest)
        elif token is not None and not page.quarantined:
            self._empty_run += 1
            if self._empty_run > self.max_empty_pages:
                raise SuspiciousPaging(
                    f"{self._empty_run} empty pages in a row, each with a new resumptionToken")
        cursor = page.token.cursor if page.token is not None else None
        if cursor is not None:
            if self._cursor is not None and cursor < self._cursor:
                raise SuspiciousPaging(
                    f"the resumptionToken cursor went backwards ({self._cursor} -> {cursor})")
            self._cursor = cursor


# --- the client ---------------------------------------------------------------------------------


class OAIClient(Sickle):
    """A polite, robust OAI-PMH client for one source (base URL)."""

    def __init__(
        self,
        endpoint: str,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        contact: str | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        max_attempts: int = 5,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        max_retry_after: float = 600.0,
        min_interval: float = 0.0,
        max_bytes: int | None = 256 * 1024 * 1024,
        max_empty_pages: int = 10,
        http_method: str = "GET",
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(endpoint, http_method=http_method, max_retries=0)
        self.timeout = (connect_timeout, read_timeout)
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_retry_after = max_retry_after
        self.min_interval = min_interval
        self.max_bytes = max_bytes
        self.max_empty_pages = max_empty_pages
        self.granularity: Granularity | None = None
        self._sleep = sleep
        self._rng = rng
        self._last_start: float | None = None
        self._source_lock = threading.Lock()
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.session.headers["Accept-Encoding"] = "gzip, deflate"
        self.session.headers["Accept"] = "text/xml, application/xml;q=0.9, */*;q=0.1"
        if contact:
            self.session.headers["From"] = contact

    # -- transport ------------------------------------------------------------------------------

    def harvest(self, **kwargs: Any) -> FetchResult:
        """Make the HTTP request for these OAI arguments with retries; see the module doc."""
        params = {k: str(v) for k, v in kwargs.items() if v is not None}
        last_error: HarvestError | None = None
        last_status: int | None = None
        for attempt in range(self.max_attempts):
            final = attempt + 1 == self.max_attempts
            wait: float | None = None
            try:
                result = self._attempt(params, attempt + 1)
            except (RequestTimeout, ConnectFailed) as exc:
                last_error, last_status = exc, None
                log.warning("attempt %d/%d failed: %s", attempt + 1, self.max_attempts, exc)
            else:
                status = result.status
                if status < 400:
                    return result
                is_xml = looks_like_xml(result.body)
                retryable = status in RETRY_STATUSES or status >= 500
                oai_error = is_xml and _OAI_ERROR.search(result.body[:65536]) is not None
                if not retryable or oai_error or (final and is_xml):
                    if is_xml:
                        return result
                    if not retryable:
                        raise HTTPStatusError(status, url=result.url)
                last_error, last_status = None, status
                wait = parse_retry_after(result.headers.get("Retry-After"),
                                         self.max_retry_after)
                log.warning("attempt %d/%d: HTTP %d", attempt + 1, self.max_attempts, status)
            if not final:
                if wait is None:
                    wait = backoff_delay(attempt, self.backoff_base, self.backoff_cap, self._rng)
                self._sleep(wait)
        raise RetriesExhausted(self.max_attempts, last_error, status=last_status,
                               url=self.endpoint)

    def _attempt(self, params: dict[str, str], attempt: int) -> FetchResult:
        """One request, holding the host's lock, after the source's minimum interval."""
        with host_lock(self.endpoint), self._source_lock:
            if self.min_interval > 0 and self._last_start is not None:
                gap = self.min_interval - (time.monotonic() - self._last_start)
                if gap > 0:
                    self._sleep(gap)
            self._last_start = start = time.monotonic()
            try:
                if self.http_method == "POST":
                    resp = self.session.post(self.endpoint, data=params, timeout=self.timeout,
                                             stream=True)
                else:
                    resp = self.session.get(self.endpoint, params=params, timeout=self.timeout,
                                            stream=True)
                with resp:
                    body = self._read_body(resp)
            except requests.Timeout as exc:
                raise RequestTimeout(f"timed out: {_reason(exc)}", url=self.endpoint) from exc
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError, ProtocolError) as exc:
                if _is_read_timeout(exc):
                    raise RequestTimeout(f"read timed out after {self.timeout[1]} s",
                                         url=self.endpoint) from exc
                raise ConnectFailed(f"connection failed: {_reason(exc)}",
                                    url=self.endpoint) from exc
            return FetchResult(
                url=resp.url, status=resp.status_code, headers=CaseInsensitiveDict(resp.headers),
                body=body,
                elapsed=time.monotonic() - start, attempts=attempt, params=dict(params))

    def _read_body(self, resp: requests.Response) -> bytes:
        """Read the decoded body in chunks, giving up as soon as it passes the cap."""
        cap = self.max_bytes
        if cap is not None and not resp.headers.get("Content-Encoding"):
            length = resp.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > cap:
                raise ResponseTooLarge(cap, size=int(length), url=resp.url)
        chunks: list[bytes] = []
        total = 0
        for chunk in resp.iter_content(chunk_size=256 * 1024):
            total += len(chunk)
            if cap is not None and total > cap:
                raise ResponseTooLarge(cap, url=resp.url)
            chunks.append(chunk)
        return b"".join(chunks)

    # -- conveniences ---------------------------------------------------------------------------

    def request(self, verb: str, **args: Any) -> FetchResult:
        """Fetch one response for `verb` and its arguments (None values are left out)."""
        return self.harvest(verb=verb, **args)

    def identify(self) -> IdentifyInfo:
        """Fetch and parse Identify; remembers the repository's granularity for `from`."""
        info = parse_identify(self.request("Identify").body)
        self.granularity = info.granularity
        return info

    def fetch_page(self, verb: str, **args: Any) -> Page:
        """Fetch and parse one page; OAI errors stay in `Page.errors`."""
        result = self.request(verb, **args)
        return parse_page(result.body, verb, self.max_bytes)

    def iter_pages(
        self,
        verb: str = "ListRecords",
        *,
        metadata_prefix: str | None = "oai_dc",
        set_spec: str | None = None,
        from_: int | str | None = None,
        until: int | str | None = None,
        resumption_token: str | None = None,
    ) -> Iterator[Page]:
        """Yield the pages of a list request, following resumption tokens.

        `from_`/`until` may be epoch seconds, written at the repository's granularity (call
        `identify()` first to learn it); a seconds-granularity date refused with badArgument is
        retried once at day granularity. noRecordsMatch yields one empty page. Raises
        OAIProtocolError for other OAI errors (e.g. badResumptionToken: restart the harvest),
        and LoopDetected/SuspiciousPaging when the sequence goes wrong.
        """
        guard = PagingGuard(self.max_empty_pages)
        gran = self.granularity or Granularity.SECONDS
        args: dict[str, str | None]
        if resumption_token:
            args = {"resumptionToken": resumption_token}
        else:
            args = {"metadataPrefix": metadata_prefix if verb != "ListSets" else None,
                    "set": set_spec, "from": _date_arg(from_, gran),
                    "until": _date_arg(until, gran)}
        first = True
        while True:
            result = self.request(verb, **args)
            page = parse_page(result.body, verb, self.max_bytes)
            if first and refused_seconds(page, args):
                log.warning("%s refused a seconds-granularity date: retrying by day",
                            self.endpoint)
                self.granularity = Granularity.DAY
                args["from"] = _date_arg(from_, Granularity.DAY)
                args["until"] = _date_arg(until, Granularity.DAY)
                first = False
                continue
            first = False
            page.raise_for_errors(result.url)
            guard.check(page)
            yield page
            token = page.next_token
            if token is None:
                return
            args = {"resumptionToken": token}


def _date_arg(value: int | str | None, gran: Granularity) -> str | None:
    """A from/until argument at the given granularity."""
    if value is None:
        return None
    if isinstance(value, int):
        return format_datestamp(value, gran)
    try:
        parsed = parse_protocol_date(value)
    except InvalidDate:
        return value
    if gran is Granularity.DAY and parsed.granularity is Granularity.SECONDS:
        return format_datestamp(parsed.epoch, Granularity.DAY)
    return value


def refused_seconds(page: Page, args: Mapping[str, str | None]) -> bool:
    """True when a request with a seconds-granularity from/until got badArgument: the
    repository really accepts days only, whatever its Identify says."""
    return any(code == "badArgument" for code, _ in page.errors) and any(
        "T" in (args.get(k) or "") for k in ("from", "until"))


def _is_read_timeout(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ReadTimeoutError | TimeoutError):
            return True
        nxt = cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else None
        cur = nxt or cur.__cause__ or cur.__context__
    return False


def _reason(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:197] + "..."


__all__ = [
    "DEFAULT_USER_AGENT",
    "FetchResult",
    "OAIClient",
    "PagingGuard",
    "TransportError",
    "backoff_delay",
    "host_lock",
    "looks_like_xml",
    "parse_retry_after",
    "refused_seconds",
]
