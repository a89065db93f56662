"""What the client makes of an HTTP answer: the result it returns, whether a body looks like
XML, how long Retry-After asks to wait, how long to back off, and a failure's root cause in a
few words. Pure functions, tested on their own."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from lxml import etree
from urllib3.exceptions import ReadTimeoutError

from .parsing import parse_tree

_XML_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<[?!A-Za-z_]")


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


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent,
    unreadable or in the past (then the usual backoff applies, not an immediate retry)."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return seconds if seconds > 0 else None


def backoff_delay(attempt: int, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)] (attempt counts from 0)."""
    return rng() * min(cap, base * (2 ** attempt))


def is_read_timeout(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ReadTimeoutError | TimeoutError):
            return True
        nxt = cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else None
        cur = nxt or cur.__cause__ or cur.__context__
    return False


def root_cause(exc: BaseException) -> str:
    """The root cause in a few words: the socket's "Connection refused", not urllib3's
    pool, retry and wrapper messages around it."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.strerror:
            return cur.strerror
        nxt = cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else None
        cur = nxt or getattr(cur, "reason", None) or cur.__cause__ or cur.__context__
        if not isinstance(cur, BaseException):
            cur = None
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."
