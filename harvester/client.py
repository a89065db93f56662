"""The network client: fetches OAI-PMH responses politely and within bounds, writes nothing.

Built on `sickle.Sickle` so its verb methods keep working, but `harvest` is replaced with our
transport policy, because Sickle's (plain `requests.get`, retry only on 503, integer-only
Retry-After, 4xx/5xx raised before the OAI error in the body can be read, no byte cap):
- a connect timeout, a read timeout (the longest silence) and a deadline for the whole
  request, body included, so a server trickling a byte at a time cannot hold a run;
- retries on transport errors, 5xx and 429 with full-jitter exponential backoff, but a
  timeout only once more (a server that did not answer in time rarely does on the next try);
- Retry-After as delta-seconds or HTTP date; longer than the cap, the request gives up at
  once (the run resumes later) rather than waiting the cap again and again; a date in the
  past means "retry with backoff", not "retry now";
- redirects followed by hand: http(s) only, a few hops, loops refused;
- a streaming body read that stops at a byte cap (never a silent truncation);
- 4xx/5xx bodies that look like XML are returned so the parser can read the OAI errors
  (Zenodo answers errors with HTTP 422);
- one request at a time per host (`politeness`), an optional minimum interval between
  requests per source, a descriptive User-Agent, gzip/deflate;
- a `RunGuard` consulted before every request (budgets, breaker, stop signal).
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from requests.structures import CaseInsensitiveDict
from sickle import Sickle
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError

from oai import __version__
from oai.protocol.datestamps import Granularity
from oai.protocol.deflate import Decoder, DecodingError

from .answers import (
    FetchResult,
    backoff_delay,
    is_read_timeout,
    looks_like_xml,
    parse_retry_after,
    root_cause,
)
from .errors import (
    ConnectFailed,
    DeadlineExceeded,
    HarvestError,
    HTTPStatusError,
    RedirectRefused,
    RequestTimeout,
    ResponseTooLarge,
    RetriesExhausted,
    RetryAfterTooLong,
    TransportError,
)
from .guard import RunGuard
from .paging import ListPager, day_granularity_args, list_args
from .parsing import IdentifyInfo, Page, parse_identify, parse_page
from .politeness import PROCESS_SLOTS, HostSlots

if TYPE_CHECKING:
    from .chainfetch import Outcome

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = (
    f"oai-toolkit-harvester/{__version__} (OAI-PMH 2.0 harvester; "
    f"python-requests/{requests.__version__})"
)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_OAI_ERROR = re.compile(rb"<(?:[\w.-]+:)?error\s[^>]*code\s*=")
_CHUNK = 256 * 1024


class OAIClient(Sickle):
    """A polite, bounded, robust OAI-PMH client for one source (base URL)."""

    def __init__(
        self,
        endpoint: str,
        *,
        user_agent: str | None = None,
        contact: str | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        deadline: float = 300.0,
        max_attempts: int = 4,
        timeout_attempts: int = 2,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        max_retry_after: float = 300.0,
        max_redirects: int = 5,
        min_interval: float = 0.0,
        max_bytes: int | None = 256 * 1024 * 1024,
        max_empty_pages: int = 10,
        http_method: str = "GET",
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: Callable[[], float] = random.random,
        guard: RunGuard | None = None,
        slots: HostSlots | None = None,
    ) -> None:
        super().__init__(endpoint, http_method=http_method, max_retries=0)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.deadline = deadline
        self.max_attempts = max(1, max_attempts)
        self.timeout_attempts = max(1, timeout_attempts)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_retry_after = max_retry_after
        self.max_redirects = max_redirects
        self.min_interval = min_interval
        self.max_bytes = max_bytes
        self.max_empty_pages = max_empty_pages
        self.granularity: Granularity | None = None
        self.guard = guard or RunGuard(sleep=sleep)
        self.slots = slots or PROCESS_SLOTS
        self._rng = rng
        self._last_start: float | None = None
        self._source_lock = threading.Lock()
        self.session = session or requests.Session()
        self.owns_session = session is None
        # what requests reads from the environment (proxies, NO_PROXY, the CA bundle, ~/.netrc)
        # is read once per origin instead of on every request (0.4 ms each); a session passed
        # in is left as its owner configured it
        self._environment: dict[str, dict[str, Any]] | None = None
        if session is None:
            self.session.trust_env = False
            self._environment = {}
        self.session.headers["User-Agent"] = user_agent or DEFAULT_USER_AGENT
        self.session.headers["Accept-Encoding"] = "gzip, deflate"
        self.session.headers["Accept"] = "text/xml, application/xml;q=0.9, */*;q=0.1"
        if contact:
            self.session.headers["From"] = contact

    # -- transport ------------------------------------------------------------------------------

    def harvest(self, **kwargs: Any) -> FetchResult:
        """Make the HTTP request for these OAI arguments with retries; see the module doc."""
        return self.harvest_params({k: str(v) for k, v in kwargs.items() if v is not None})

    def harvest_params(self, params: dict[str, str],
                       first: Outcome | None = None) -> FetchResult:
        """`harvest` for ready-made parameters; `first`, when given, is the outcome of the
        first attempt, made ahead by a child process (`chainfetch`): it is counted, checked
        and retried exactly like an attempt made here."""
        last_error: HarvestError | None = None
        last_status: int | None = None
        timeouts = 0
        attempt = 0
        while True:
            final = attempt + 1 >= self.max_attempts
            wait: float | None = None
            self.guard.before_request()
            try:
                if first is not None:
                    result, first = first.unwrap(), None
                else:
                    result = self._attempt(params, attempt + 1)
            except (RequestTimeout, ConnectFailed) as exc:
                last_error, last_status = exc, None
                log.warning("attempt %d/%d failed: %s", attempt + 1, self.max_attempts, exc)
                self.guard.failed(exc.message)
                if isinstance(exc, RequestTimeout):
                    timeouts += 1
                    final = final or timeouts >= self.timeout_attempts
            except (RedirectRefused, ResponseTooLarge) as exc:
                self.guard.failed(exc.message)
                raise
            else:
                status = result.status
                if status < 400:
                    return result
                is_xml = looks_like_xml(result.body)
                retryable = status in RETRY_STATUSES or status >= 500
                # an OAI error in a 5xx body is the answer (Zenodo's 422s are not 5xx), but
                # "come back later" (503/429, with or without Retry-After) is flow control,
                # whatever the body says (our own provider's 503 carries an OAI envelope)
                later = status in (429, 503) or "Retry-After" in result.headers
                oai_error = (is_xml and not later
                             and _OAI_ERROR.search(result.body[:65536]) is not None)
                if not retryable or oai_error or (final and is_xml):
                    if is_xml:
                        return result
                    if not retryable:
                        raise HTTPStatusError(status, url=result.url)
                last_error, last_status = None, status
                log.warning("attempt %d/%d: HTTP %d", attempt + 1, self.max_attempts, status)
                self.guard.failed(f"HTTP {status}")
                wait = parse_retry_after(result.headers.get("Retry-After"))
                if wait is not None and wait > self.max_retry_after:
                    raise RetryAfterTooLong(wait, self.max_retry_after, url=self.endpoint)
            if final:
                raise RetriesExhausted(attempt + 1, last_error, status=last_status,
                                       url=self.endpoint)
            if wait is None:
                wait = backoff_delay(attempt, self.backoff_base, self.backoff_cap, self._rng)
            self.guard.wait(wait)
            attempt += 1

    def _attempt(self, params: dict[str, str], attempt: int) -> FetchResult:
        """One request (following redirects), holding the host's slot, after the source's
        minimum interval."""
        with self.slots.hold(self.endpoint, self.guard.check, self.min_interval), \
                self._source_lock:
            if self.min_interval > 0 and self._last_start is not None:
                gap = self.min_interval - (time.monotonic() - self._last_start)
                if gap > 0:
                    self.guard.wait(gap)
            self._last_start = start = time.monotonic()
            deadline = start + self.deadline
            try:
                resp = self._send(params, deadline)
                with resp:
                    body = self._read_body(resp, deadline)
            except requests.Timeout as exc:
                raise self._timeout(exc, deadline) from exc
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError, DecodeError, DecodingError,
                    ProtocolError, ReadTimeoutError) as exc:
                if is_read_timeout(exc):
                    raise self._timeout(exc, deadline) from exc
                raise ConnectFailed(f"connection failed: {root_cause(exc)}",
                                    url=self.endpoint) from exc
            except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                    requests.exceptions.MissingSchema) as exc:
                raise RedirectRefused(f"cannot request this URL: {root_cause(exc)}",
                                      url=self.endpoint) from exc
            return FetchResult(
                url=resp.url, status=resp.status_code, headers=CaseInsensitiveDict(resp.headers),
                body=body, elapsed=time.monotonic() - start, attempts=attempt,
                params=dict(params))

    def _send(self, params: dict[str, str], deadline: float) -> requests.Response:
        """The request and its redirects: http(s) only, at most `max_redirects` hops, no
        loops. POST turns into GET (with the arguments in the query) where HTTP says so."""
        method, url = self.http_method, self.endpoint
        query: dict[str, str] | None = params if method == "GET" else None
        data: dict[str, str] | None = params if method == "POST" else None
        seen = {url}
        for _hop in range(self.max_redirects + 1):
            timeout = (self.connect_timeout,
                       max(0.001, min(self.read_timeout, deadline - time.monotonic())))
            resp = self.session.request(method, url, params=query, data=data, timeout=timeout,
                                        stream=True, allow_redirects=False,
                                        **self._environment_for(url))
            location = resp.headers.get("Location")
            if resp.status_code not in REDIRECT_STATUSES or not location:
                return resp
            resp.close()
            target = urljoin(resp.url, location)
            scheme = urlsplit(target).scheme.lower()
            if scheme not in ("http", "https"):
                raise RedirectRefused(f"redirected to a {scheme or 'relative'}: URL, which is "
                                      f"not followed ({target[:200]})", url=self.endpoint)
            if target in seen:
                raise RedirectRefused(f"redirect loop at {target[:200]}", url=self.endpoint)
            seen.add(target)
            if method == "POST" and resp.status_code in (301, 302, 303):
                method, data = "GET", None
                target += ("&" if "?" in target else "?") + urlencode(params)
            url, query = target, None
        raise RedirectRefused(f"more than {self.max_redirects} redirects", url=self.endpoint)

    def _environment_for(self, url: str) -> dict[str, Any]:
        """The settings requests would take from the environment for `url`, once per origin
        (see __init__); nothing when the session reads them itself."""
        if self._environment is None:
            return {}
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        found = self._environment.get(origin)
        if found is None:
            reader = requests.Session()  # trust_env: reads what the caller's environment says
            merged = reader.merge_environment_settings(url, {}, None, None, None)
            # plain http has nothing to verify: a CA bundle path there would only cost a
            # stat() per request (requests checks whether it is a directory)
            verify = merged["verify"] if parts.scheme.lower() == "https" else True
            found = {"proxies": merged["proxies"], "verify": verify,
                     "cert": merged["cert"], "auth": requests.utils.get_netrc_auth(url)}
            reader.close()
            self._environment[origin] = found
        return found

    def _read_body(self, resp: requests.Response, deadline: float) -> bytes:
        """Read the decoded body as it arrives, giving up past the cap or the deadline; each
        read waits at most the read timeout or what is left of the deadline. gzip and
        deflate are inflated here (`oai.protocol.deflate`: ISA-L, three times zlib's speed,
        and bounded by the cap as they go); any other coding is left to urllib3."""
        cap = self.max_bytes
        coding = resp.headers.get("Content-Encoding")
        if cap is not None and not coding:
            length = resp.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > cap:
                raise ResponseTooLarge(cap, size=int(length), url=resp.url)
        decoder = Decoder.for_header(coding)
        raw = resp.raw
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        chunks: list[bytes] = []
        total = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceeded(f"the response took longer than {self.deadline:g} s "
                                       "(deadline)", url=self.endpoint)
            if sock is not None:
                sock.settimeout(min(self.read_timeout, remaining))
            if decoder is None:
                chunk = raw.read1(_CHUNK, decode_content=True)
                if not chunk:  # read1 returns nothing only at the end of the body
                    break
            else:
                data = raw.read1(_CHUNK, decode_content=False)
                if not data:
                    break
                chunk = decoder.decode(data, None if cap is None else cap - total)
                if decoder.exceeded:
                    raise ResponseTooLarge(cap or 0, url=resp.url)
            total += len(chunk)
            if cap is not None and total > cap:
                raise ResponseTooLarge(cap, url=resp.url)
            chunks.append(chunk)
        return b"".join(chunks)

    def _timeout(self, exc: BaseException, deadline: float) -> RequestTimeout:
        if deadline - time.monotonic() <= 0.01:
            return DeadlineExceeded(f"the response took longer than {self.deadline:g} s "
                                    "(deadline)", url=self.endpoint)
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return RequestTimeout(f"no connection within {self.connect_timeout:g} s",
                                  url=self.endpoint)
        return RequestTimeout(f"no answer within {self.read_timeout:g} s (read timeout)",
                              url=self.endpoint)

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

    def pager(self, verb: str = "ListRecords", prefetch: bool = False) -> ListPager:
        return ListPager(self, verb, max_bytes=self.max_bytes,
                         max_empty_pages=self.max_empty_pages, prefetch=prefetch)

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
        pager = self.pager(verb)
        if resumption_token:
            args: dict[str, str | None] = {"resumptionToken": resumption_token}
        else:
            args = list_args(verb, metadata_prefix, set_spec, from_, until,
                             self.granularity or Granularity.SECONDS)
        first = True
        for page in pager.pages(args):
            if first and page.errors and (retry := day_granularity_args(page, args)):
                log.warning("%s refused a seconds-granularity date: retrying by day",
                            self.endpoint)
                self.granularity = Granularity.DAY
                yield from self._pages_after_fallback(pager, retry)
                return
            first = False
            page.raise_for_errors(self.endpoint)
            yield page

    def _pages_after_fallback(self, pager: ListPager,
                              args: dict[str, str | None]) -> Iterator[Page]:
        for page in pager.pages(args):
            page.raise_for_errors(self.endpoint)
            yield page


__all__ = [
    "DEFAULT_USER_AGENT",
    "FetchResult",
    "OAIClient",
    "TransportError",
    "backoff_delay",
    "looks_like_xml",
    "parse_retry_after",
]
