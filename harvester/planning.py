"""Planning a run: which lists to ask for, and where to split one that fails.

A first harvest asks once for everything. Only when a list fails in a way a narrower list
can avoid (a timeout, a response too large, a server error) is its date window split, at the
median datestamp of the records already held in it when there are any (so both parts are
about equally heavy), else at the middle of the time span; a part that holds nothing costs
one request (noRecordsMatch), never one per empty year. An incremental harvest asks from the
last complete run's responseDate minus an overlap.
"""

from __future__ import annotations

from collections.abc import Sequence

from oai.protocol.datestamps import Granularity, format_datestamp, parse_lenient

DAY = 86400

Window = tuple[str | None, str | None]  # (from, until), inclusive, None = open


def to_granularity(epoch: int, granularity: Granularity) -> str:
    return format_datestamp(epoch, granularity)


def incremental_from(last_response_date: str, overlap: int, granularity: Granularity) -> str:
    """`from` for an incremental run: the previous run's server time minus an overlap."""
    epoch = parse_lenient(last_response_date) - overlap
    return to_granularity(epoch, granularity)


def split(window: Window, lower: int, upper: int, granularity: Granularity,
          pivot: int | None = None) -> Sequence[Window] | None:
    """Two parts of a window (open bounds closed with `lower`/`upper`), cut at `pivot` if it
    lies well inside, else in the middle; None when the window is already as narrow as the
    granularity allows (a day, or a minute at seconds granularity)."""
    start = parse_lenient(window[0]) if window[0] else lower
    end = parse_lenient(window[1]) if window[1] else upper
    step = DAY if granularity is Granularity.DAY else 1
    minimum = DAY if granularity is Granularity.DAY else 60
    if end - start < 2 * minimum:
        return None
    middle = pivot if pivot is not None and start + minimum <= pivot <= end - minimum \
        else start + (end - start) // 2
    middle -= middle % step
    if middle <= start:
        middle = start + step
    first: Window = (window[0], to_granularity(middle - step, granularity))
    second: Window = (to_granularity(middle, granularity), window[1])
    return [first, second]


def request_date(value: str | None, granularity: Granularity) -> str | None:
    """A window bound written at the granularity the server accepts (a seconds bound sent to
    a day-granularity server becomes its day; `until` days cover the whole day)."""
    if value is None:
        return None
    if granularity is Granularity.DAY and "T" in value:
        return value[:10]
    return value
