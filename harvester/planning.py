"""Planning a run: which date windows and sets to ask for, and at what granularity.

A first harvest is split into date windows so that a failure costs one window, not the whole
harvest; a window that keeps failing is halved. The first window is open at its start (some
servers hold records older than their earliestDatestamp) and the last one open at its end.
An incremental harvest asks from the last complete run's responseDate minus an overlap.
"""

from __future__ import annotations

from collections.abc import Sequence

from oai.protocol.datestamps import Granularity, format_datestamp, parse_lenient

DAY = 86400

Window = tuple[str | None, str | None]  # (from, until), inclusive, None = open


def to_granularity(epoch: int, granularity: Granularity) -> str:
    return format_datestamp(epoch, granularity)


def date_windows(earliest: int | None, now: int, window_seconds: int,
                 granularity: Granularity) -> list[Window]:
    """Consecutive, non-overlapping windows covering everything up to and beyond `now`."""
    if earliest is None or now - earliest <= window_seconds:
        return [(None, None)]
    step = DAY if granularity is Granularity.DAY else 1
    edges = list(range(earliest + window_seconds, now, window_seconds))
    edges = [e - e % step for e in edges]
    windows: list[Window] = []
    start: int | None = None
    for edge in edges:
        windows.append((None if start is None else to_granularity(start, granularity),
                        to_granularity(edge - step, granularity)))
        start = edge
    windows.append((to_granularity(start, granularity) if start is not None else None, None))
    return windows


def incremental_from(last_response_date: str, overlap: int, granularity: Granularity) -> str:
    """`from` for an incremental run: the previous run's server time minus an overlap."""
    epoch = parse_lenient(last_response_date) - overlap
    return to_granularity(epoch, granularity)


def halve(window: Window, lower: int, upper: int, granularity: Granularity,
          ) -> Sequence[Window] | None:
    """Two halves of a window (open bounds closed with `lower`/`upper`), or None when it is
    already as narrow as the granularity allows (a day, or a minute at seconds)."""
    start = parse_lenient(window[0]) if window[0] else lower
    end = parse_lenient(window[1]) if window[1] else upper
    step = DAY if granularity is Granularity.DAY else 1
    minimum = DAY if granularity is Granularity.DAY else 60
    if end - start < 2 * minimum:
        return None
    middle = start + (end - start) // 2
    middle -= middle % step
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
