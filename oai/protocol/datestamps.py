"""Datestamps and granularity (spec 3.3): the one place dates are parsed and formatted.

The store keeps datestamps as integer UTC seconds since the epoch; the protocol speaks
`YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ssZ`. Request arguments are parsed strictly (anything else
is badArgument); `parse_lenient` is for reading what real, sloppy servers send.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

# ASCII digits only: `\d` would also take other scripts' digits, which int() reads happily.
_DAY_RE = re.compile(r"\A(\d{4})-(\d{2})-(\d{2})\Z", re.ASCII)
_SECONDS_RE = re.compile(r"\A(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z\Z", re.ASCII)
_LENIENT_RE = re.compile(
    r"\A\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?)?\s*\Z"
)


class Granularity(StrEnum):
    """The two granularities OAI-PMH knows, by their Identify spelling."""

    DAY = "YYYY-MM-DD"
    SECONDS = "YYYY-MM-DDThh:mm:ssZ"


@dataclass(frozen=True)
class ParsedDate:
    """A protocol date: the first second it covers, and the granularity it was written in."""

    epoch: int
    granularity: Granularity

    @property
    def last_second(self) -> int:
        """The last second covered: a day-granularity `until` includes its whole day."""
        return self.epoch + 86399 if self.granularity is Granularity.DAY else self.epoch


class InvalidDate(ValueError):
    """Not a legal OAI-PMH date."""


def _epoch(year: int, month: int, day: int, hh: int = 0, mm: int = 0, ss: int = 0) -> int:
    try:
        datetime(year, month, day, hh, mm, ss)
    except ValueError as exc:
        raise InvalidDate(str(exc)) from None
    return calendar.timegm((year, month, day, hh, mm, ss, 0, 0, 0))


def parse_protocol_date(value: str) -> ParsedDate:
    """Parse a from/until argument exactly as the spec allows, or raise InvalidDate."""
    m = _SECONDS_RE.match(value)
    if m:
        return ParsedDate(_epoch(*map(int, m.groups())), Granularity.SECONDS)
    m = _DAY_RE.match(value)
    if m:
        return ParsedDate(_epoch(*map(int, m.groups())), Granularity.DAY)
    raise InvalidDate(f"{value!r} is not YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")


def _fast_seconds(value: str) -> int | None:
    """The common `YYYY-MM-DDThh:mm:ssZ` read by the C parser of `datetime` (a harvest reads
    one per record), once its shape is checked (ISO week dates and other forms it also
    takes never get there); None sends the value down the general path, which also decides
    what the C parser refuses."""
    if len(value) != 20 or value[10] != "T" or value[19] != "Z" or value[4] != "-" \
            or value[7] != "-" or value[13] != ":" or value[16] != ":":
        return None
    try:
        return int(datetime.fromisoformat(value).timestamp())
    except ValueError:
        return None


def parse_lenient(value: str) -> int:
    """Epoch seconds of a datestamp as real servers write it (offsets, fractions, no Z)."""
    fast = _fast_seconds(value)
    if fast is not None:
        return fast
    m = _LENIENT_RE.match(value)
    if not m:
        raise InvalidDate(f"{value!r} is not a date")
    y, mo, d, hh, mi, ss, tz = m.groups()
    epoch = _epoch(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0))
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        epoch -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return epoch


def parse_lenient_or_none(value: str | None) -> int | None:
    """`parse_lenient`, or None for a missing or unreadable date (a datestamp a server got
    wrong must not cost the record)."""
    if not value:
        return None
    try:
        return parse_lenient(value)
    except InvalidDate:
        return None


def format_datestamp(epoch: int, granularity: Granularity = Granularity.SECONDS) -> str:
    """Format epoch seconds at the given granularity, the year always four digits (glibc's
    strftime writes year 2 as "2", which no OAI-PMH server accepts)."""
    t = time.gmtime(epoch)
    day = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"
    if granularity is Granularity.DAY:
        return day
    return f"{day}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}Z"


def utc_now() -> int:
    """Now, in whole UTC seconds."""
    return int(time.time())


def to_datetime(epoch: int) -> datetime:
    """An aware UTC datetime for epoch seconds."""
    return datetime.fromtimestamp(epoch, tz=UTC)
