"""Window planning: splits that cover a window without gaps or overlaps, at the pivot when it
lies inside, and the incremental `from`."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harvester.planning import DAY, incremental_from, request_date, split
from oai.protocol.datestamps import Granularity, format_datestamp, parse_lenient


@given(start=st.integers(-62_000_000_000, 1_800_000_000), span=st.integers(0, 400 * DAY),
       pivot=st.none() | st.integers(-62_000_000_000, 1_900_000_000), day=st.booleans(),
       open_start=st.booleans(), open_end=st.booleans())
def test_split_tiles_the_window(start: int, span: int, pivot: int | None, day: bool,
                                open_start: bool, open_end: bool) -> None:
    granularity = Granularity.DAY if day else Granularity.SECONDS
    step = DAY if day else 1
    start -= start % step
    end = start + span - (start + span) % step
    window = (None if open_start else format_datestamp(start, granularity),
              None if open_end else format_datestamp(end, granularity))
    parts = split(window, start, end, granularity, pivot)
    if parts is None:
        assert end - start < 2 * (DAY if day else 60)
        return
    (a, b), (c, d) = parts
    assert (a, d) == window  # open bounds stay open
    assert b is not None and c is not None
    assert parse_lenient(c) - parse_lenient(b) == step  # adjacent, disjoint
    assert start < parse_lenient(c) <= end
    inside = pivot is not None and start + (DAY if day else 60) <= pivot <= end - (
        DAY if day else 60)
    if inside:
        assert parse_lenient(c) == pivot - pivot % step or parse_lenient(c) == start + step


def test_split_at_the_median_of_what_is_held() -> None:
    window = ("2024-01-01T00:00:00Z", "2024-12-31T23:59:59Z")
    low, high = parse_lenient(window[0]), parse_lenient(window[1])
    pivot = parse_lenient("2024-11-20T00:00:00Z")
    assert split(window, low, high, Granularity.SECONDS, pivot) == [
        ("2024-01-01T00:00:00Z", "2024-11-19T23:59:59Z"),
        ("2024-11-20T00:00:00Z", "2024-12-31T23:59:59Z")]
    outside = parse_lenient("2025-06-01T00:00:00Z")
    assert split(window, low, high, Granularity.SECONDS, outside)[0][1] == \
        "2024-07-01T23:59:58Z"  # the middle of the span instead


def test_first_millennium_bounds_are_written_with_four_digits() -> None:
    low = parse_lenient("0002-01-01T00:00:00Z")
    high = parse_lenient("2026-11-30T00:00:00Z")
    parts = split((None, None), low, high, Granularity.DAY)
    assert parts is not None and parts[0][0] is None and parts[1][1] is None
    assert parts[0][1] == "1014-06-16" and parts[1][0] == "1014-06-17"


def test_narrowest_windows_are_not_split() -> None:
    assert split(("2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z"), 0, 0,
                 Granularity.SECONDS) is None
    assert split(("2024-01-01", "2024-01-02"), 0, 0, Granularity.DAY) is None


def test_incremental_from_subtracts_overlap_at_the_granularity() -> None:
    assert incremental_from("2024-05-02T10:00:00Z", 600, Granularity.SECONDS) == \
        "2024-05-02T09:50:00Z"
    assert incremental_from("2024-05-02T00:05:00Z", 600, Granularity.DAY) == "2024-05-01"
    assert request_date("2024-05-02T09:50:00Z", Granularity.DAY) == "2024-05-02"
    assert request_date(None, Granularity.DAY) is None
