"""Window planning: coverage without gaps or overlaps, halving, incremental `from`."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from harvester.planning import DAY, date_windows, halve, incremental_from, request_date
from oai.protocol.datestamps import Granularity, parse_lenient


def test_small_repository_is_one_open_window() -> None:
    assert date_windows(1_700_000_000, 1_700_000_000 + 10 * DAY, 366 * DAY,
                        Granularity.SECONDS) == [(None, None)]
    assert date_windows(None, 1_700_000_000, 366 * DAY, Granularity.SECONDS) == [(None, None)]


@given(earliest=st.integers(0, 1_800_000_000), span_days=st.integers(1, 9000),
       window_days=st.integers(1, 400), day=st.booleans())
def test_windows_tile_time_without_gaps(earliest: int, span_days: int, window_days: int,
                                        day: bool) -> None:
    granularity = Granularity.DAY if day else Granularity.SECONDS
    now = earliest + span_days * DAY
    windows = date_windows(earliest, now, window_days * DAY, granularity)
    assert windows[0][0] is None and windows[-1][1] is None
    step = DAY if day else 1
    for (_, until), (start, _) in itertools.pairwise(windows):
        assert until is not None and start is not None
        assert parse_lenient(start) - parse_lenient(until) == step  # adjacent, disjoint


def test_halving_narrows_until_the_minimum() -> None:
    window = ("2024-01-01T00:00:00Z", "2024-12-31T23:59:59Z")
    halves = halve(window, 0, 0, Granularity.SECONDS)
    assert halves is not None and len(halves) == 2
    (a, b), (c, d) = halves
    assert a == window[0] and d == window[1]
    assert parse_lenient(c) - parse_lenient(b) == 1
    assert halve(("2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z"), 0, 0,
                 Granularity.SECONDS) is None
    assert halve(("2024-01-01", "2024-01-02"), 0, 0, Granularity.DAY) is None


def test_incremental_from_subtracts_overlap_at_the_granularity() -> None:
    assert incremental_from("2024-05-02T10:00:00Z", 600, Granularity.SECONDS) == \
        "2024-05-02T09:50:00Z"
    assert incremental_from("2024-05-02T00:05:00Z", 600, Granularity.DAY) == "2024-05-01"
    assert request_date("2024-05-02T09:50:00Z", Granularity.DAY) == "2024-05-02"
    assert request_date(None, Granularity.DAY) is None
