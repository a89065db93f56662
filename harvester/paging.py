"""The harvester's one paging loop: follow a list's resumption tokens, page by page.

`ListPager.pages` asks for the next page before parsing the current one (the token is read
from the body's tail by pattern, then checked against the parsed one), so the network and the
parser overlap; while its consumer commits a page, the next is already on its way. It refuses
to loop (`PagingGuard`). An OAI error ends the sequence with the page that carries it; the
consumer decides what it means (a day-granularity retry, an expired token...).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING

from harvester.errors import LoopDetected, SuspiciousPaging
from harvester.parsing import Page, parse_page, scan_token
from oai.protocol.datestamps import (
    Granularity,
    InvalidDate,
    format_datestamp,
    parse_protocol_date,
)

if TYPE_CHECKING:
    from harvester.client import OAIClient

Args = dict[str, str | None]
POLL_SECONDS = 0.2


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
        keys = ([f"{r.identifier}\0{r.datestamp}" for r in page.records]
                or [s.spec for s in page.sets])
        if keys:
            self._empty_run = 0
            h = hashlib.blake2b(digest_size=16)
            for key in keys:
                h.update(key.encode("utf-8", "surrogatepass") + b"\n")
            digest = h.digest()
            if digest in self._digests:
                raise LoopDetected("the server sent the same page again")
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


def date_argument(value: int | str | None, granularity: Granularity) -> str | None:
    """A from/until argument at the given granularity (epoch seconds or a date string)."""
    if value is None:
        return None
    if isinstance(value, int):
        return format_datestamp(value, granularity)
    try:
        parsed = parse_protocol_date(value)
    except InvalidDate:
        return value
    if granularity is Granularity.DAY and parsed.granularity is Granularity.SECONDS:
        return format_datestamp(parsed.epoch, Granularity.DAY)
    return value


def list_args(verb: str, prefix: str | None, set_spec: str | None, from_: int | str | None,
              until: int | str | None, granularity: Granularity) -> Args:
    """The first request's arguments of a list."""
    return {"metadataPrefix": prefix if verb != "ListSets" else None, "set": set_spec,
            "from": date_argument(from_, granularity),
            "until": date_argument(until, granularity)}


def refused_seconds(page: Page, args: Mapping[str, str | None]) -> bool:
    """True when a request with a seconds-granularity from/until got badArgument: the
    repository really accepts days only, whatever its Identify says."""
    return any(code == "badArgument" for code, _ in page.errors) and any(
        "T" in (args.get(k) or "") for k in ("from", "until"))


def day_granularity_args(page: Page, args: Mapping[str, str | None]) -> Args | None:
    """The same request at day granularity, if the page says seconds were refused."""
    if not refused_seconds(page, args):
        return None
    return {**args, "from": date_argument(args.get("from"), Granularity.DAY),
            "until": date_argument(args.get("until"), Granularity.DAY)}


class ListPager:
    """Pages of one list verb from one client (see the module doc)."""

    def __init__(self, client: OAIClient, verb: str = "ListRecords", *,
                 max_bytes: int | None = None, max_empty_pages: int = 10,
                 prefetch: bool = True) -> None:
        self.client = client
        self.verb = verb
        self.max_bytes = max_bytes
        self.max_empty_pages = max_empty_pages
        self.prefetch = prefetch
        self.requests = 0

    def pages(self, args: Mapping[str, str | None]) -> Iterator[Page]:
        """Every page of the list that `args` starts (first arguments or a resumptionToken).
        Transport errors propagate; a page with OAI errors is the last one yielded."""
        guard = PagingGuard(self.max_empty_pages)
        current = self._fetch({k: v for k, v in args.items() if v is not None})
        ahead: Future[bytes] | None = None
        try:
            while True:
                body = self._result(current)
                early = scan_token(body, tail_only=True) if self.prefetch else None
                early_value = early.value if early is not None and early.value else None
                ahead = self._fetch({"resumptionToken": early_value}) if early_value else None
                page = parse_page(body, self.verb, self.max_bytes)
                if page.errors:
                    yield page
                    return
                guard.check(page)
                following = page.next_token
                if following != early_value:
                    _discard(ahead)
                    ahead = None
                yield page
                if following is None:
                    return
                current = ahead or self._fetch({"resumptionToken": following})
                ahead = None
        finally:
            _discard(ahead)

    def _fetch(self, args: Args) -> Future[bytes]:
        """The body for these arguments: on a daemon thread when prefetching (a stopped run
        never waits for it), else right away. Errors arrive through the future."""
        self.requests += 1
        verb = self.verb
        request: Callable[[], bytes] = lambda: self.client.request(verb, **args).body  # noqa: E731
        future: Future[bytes] = Future()
        if not self.prefetch:
            _settle(future, request)
            return future
        threading.Thread(target=_settle, args=(future, request), daemon=True,
                         name="oai-prefetch").start()
        return future

    def _result(self, future: Future[bytes]) -> bytes:
        """Wait for a body, waking regularly so that a stop request is honoured at once."""
        while True:
            try:
                return future.result(timeout=POLL_SECONDS)
            except FutureTimeout:
                self.client.guard.check()


def _settle(future: Future[bytes], request: Callable[[], bytes]) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        future.set_result(request())
    except BaseException as exc:  # delivered to the consumer like any result
        future.set_exception(exc)


def _discard(future: Future[bytes] | None) -> None:
    """Drop a prefetch that is not needed (its result, if it comes, is unused)."""
    if future is not None:
        future.cancel()
