"""The harvester's one paging loop: follow a list's resumption tokens, page by page.

`ListPager.pages` asks for the next page before parsing the current one (the token is read
from the body's tail by pattern, then checked against the parsed one), so the network, the
parser and the consumer's commits overlap; with `fetch_process` the requests are made ahead
by a child process instead (`chainfetch`), the policy applied here. It refuses
to loop (`PagingGuard`). An OAI error ends the sequence with the page that carries it; the
consumer decides what it means (a day-granularity retry, an expired token...).
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING

from harvester import chainfetch
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
# a parsed page, the prefetch of the page after it, and the token that prefetch used
Fetched = tuple[Page, "Future[Fetched] | None", str | None]


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
        if page.records or page.sets:
            self._empty_run = 0
            keys = ([f"{r.identifier}\0{r.datestamp}" for r in page.records]
                    or [s.spec for s in page.sets])
            digest = hashlib.blake2b("\n".join(keys).encode("utf-8", "surrogatepass"),
                                     digest_size=16).digest()
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
    """Pages of one list verb from one client (see the module doc).

    With prefetch, each page is fetched *and parsed* on a daemon thread, which asks for the
    following page as soon as its body has arrived (the token read by pattern from its tail):
    while the consumer commits page n, page n+1 is being parsed and page n+2 fetched. At most
    `AHEAD` pages are in the pipeline; a stopped run never waits for them."""

    AHEAD = 4

    def __init__(self, client: OAIClient, verb: str = "ListRecords", *,
                 max_bytes: int | None = None, max_empty_pages: int = 10,
                 prefetch: bool = True, fetch_process: bool = False) -> None:
        self.client = client
        self.verb = verb
        self.max_bytes = max_bytes
        self.max_empty_pages = max_empty_pages
        self.prefetch = prefetch
        # the resumption requests made ahead by a child process (`chainfetch`), where safe
        self.fetch_process = fetch_process and prefetch and chainfetch.available(client)
        self._slots = threading.BoundedSemaphore(self.AHEAD)
        self._holding: set[Future[Fetched]] = set()  # futures that hold a pipeline slot
        self._lock = threading.Lock()

    def pages(self, args: Mapping[str, str | None]) -> Iterator[Page]:
        """Every page of the list that `args` starts (first arguments or a resumptionToken).
        Transport errors propagate; a page with OAI errors is the last one yielded."""
        if self.fetch_process:
            yield from self._pages_from_child(args)
            return
        guard = PagingGuard(self.max_empty_pages)
        current: Future[Fetched] | None = self._start(
            {k: v for k, v in args.items() if v is not None}, wait=True)
        ahead: Future[Fetched] | None = None
        try:
            while current is not None:
                page, ahead, early = self._result(current)
                if page.errors:
                    yield page
                    return
                guard.check(page)
                following = page.next_token
                if following != early:
                    self._discard(ahead)
                    ahead = None
                yield page
                if following is None:
                    return
                current = ahead or self._start({"resumptionToken": following}, wait=True)
                ahead = None
        finally:
            self._discard(ahead)

    def _pages_from_child(self, args: Mapping[str, str | None]) -> Iterator[Page]:
        """`pages` with the requests made ahead by a child process (`chainfetch`): one
        thread here takes each outcome through the client's policy (`harvest_params`) and
        parses it, while the consumer commits the page before."""
        guard = PagingGuard(self.max_empty_pages)
        ready: queue.Queue[Page | BaseException | None] = queue.Queue(self.AHEAD)
        chain = _ChildChain(self, {"verb": self.verb,
                                   **{k: str(v) for k, v in args.items() if v is not None}},
                            ready)
        chain.start()
        try:
            while True:
                item = self._next_ready(ready)
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                if not item.errors:
                    guard.check(item)
                yield item
        finally:
            chain.stop()

    def _next_ready(self, ready: queue.Queue[Page | BaseException | None]
                    ) -> Page | BaseException | None:
        """The next parsed page, waking regularly so that a stop request is honoured."""
        while True:
            try:
                return ready.get(timeout=POLL_SECONDS)
            except queue.Empty:
                self.client.guard.check()

    def _start(self, args: Args, wait: bool) -> Future[Fetched] | None:
        """Fetch and parse a page (on a daemon thread when prefetching). Without `wait`,
        nothing is started when the pipeline is full (the consumer asks later)."""
        future: Future[Fetched] = Future()
        if not self.prefetch:
            _settle(future, lambda: self._fetch_and_parse(args))
            return future
        if not self._slots.acquire(blocking=wait):
            return None
        with self._lock:
            self._holding.add(future)
        threading.Thread(target=_settle, args=(future, lambda: self._fetch_and_parse(args)),
                         daemon=True, name="oai-prefetch").start()
        return future

    def _fetch_and_parse(self, args: Args) -> Fetched:
        body = self.client.request(self.verb, **args).body
        early = None
        ahead = None
        if self.prefetch:
            found = scan_token(body, tail_only=True)
            early = found.value if found is not None and found.value else None
            if early is not None:
                ahead = self._start({"resumptionToken": early}, wait=False)
        try:
            page = parse_page(body, self.verb, self.max_bytes)
        except BaseException:
            self._discard(ahead)
            raise
        return page, ahead, early

    def _result(self, future: Future[Fetched]) -> Fetched:
        """Wait for a page, waking regularly so that a stop request is honoured at once."""
        try:
            while True:
                try:
                    return future.result(timeout=POLL_SECONDS)
                except FutureTimeout:
                    self.client.guard.check()
        finally:
            self._release(future)  # consumed (or abandoned): its place is free

    def _release(self, future: Future[Fetched]) -> None:
        with self._lock:
            if future not in self._holding:
                return
            self._holding.discard(future)
        self._slots.release()

    def _discard(self, future: Future[Fetched] | None) -> None:
        """Drop a prefetch that is not needed: its place in the pipeline is freed, its
        result (if it comes) unused, and so is whatever it prefetched in turn."""
        if future is None:
            return
        self._release(future)
        if not future.cancel():
            future.add_done_callback(self._discard_chain)

    def _discard_chain(self, future: Future[Fetched]) -> None:
        if not future.cancelled() and future.exception() is None:
            self._discard(future.result()[1])


def _settle(future: Future[Fetched], request: Callable[[], Fetched]) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        future.set_result(request())
    except BaseException as exc:  # delivered to the consumer like any result
        future.set_exception(exc)


class _ChildChain:
    """The thread of `ListPager._pages_from_child`: the outcomes of a child (replaced by a new
    one where its chain and ours part), each through the client's policy, parsed, in order."""

    def __init__(self, pager: ListPager, params: dict[str, str],
                 ready: queue.Queue[Page | BaseException | None]) -> None:
        self.pager = pager
        self.params = params
        self.ready = ready
        self.stopped = threading.Event()
        self.fetcher: chainfetch.ChainFetcher | None = None
        self.unforkable = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True, name="oai-pages")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """The consumer is done: the child is stopped and reaped (by the time this returns),
        this thread ends soon."""
        self.stopped.set()
        with self._lock:
            fetcher, self.fetcher = self.fetcher, None
            if fetcher is not None:
                fetcher.close()

    def _run(self) -> None:
        pager, params = self.pager, self.params
        try:
            while not self.stopped.is_set():
                result = pager.client.harvest_params(params, self._outcome(params))
                page = parse_page(result.body, pager.verb, pager.max_bytes)
                self._put(page)
                token = page.next_token
                if page.errors or not token:
                    self._put(None)
                    return
                params = {"verb": pager.verb, "resumptionToken": token}
        except chainfetch.Closed:
            return
        except BaseException as exc:  # delivered to the consumer like any page
            self._put(exc)

    def _outcome(self, params: dict[str, str]) -> chainfetch.Outcome | None:
        """The child's attempt at `params`; a child that followed another token (or
        stopped) is replaced by one starting at `params`, once."""
        for _ in range(2):
            with self._lock:
                if self.stopped.is_set():
                    raise chainfetch.Closed
                if self.fetcher is None:
                    if self.unforkable:
                        return None
                    fetcher = chainfetch.ChainFetcher(self.pager.client, params)
                    try:
                        fetcher.start()
                    except OSError:  # no process or pipe to be had: do without
                        self.unforkable = True
                        return None
                    self.fetcher = fetcher
                fetcher = self.fetcher
            outcome = fetcher.take(params)
            if outcome is not None:
                return outcome
            with self._lock:  # replaced under the lock: `stop` never misses a child
                if self.fetcher is fetcher:
                    self.fetcher = None
                    fetcher.close()
        return None

    def _put(self, item: Page | BaseException | None) -> None:
        while not self.stopped.is_set():
            try:
                self.ready.put(item, timeout=POLL_SECONDS)
                return
            except queue.Full:
                continue
