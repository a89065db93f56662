"""Datestamps: every year 1-9999 is written with four digits and reads back to the same second."""

from __future__ import annotations

import calendar

from hypothesis import given
from hypothesis import strategies as st

from oai.protocol.datestamps import (
    Granularity,
    format_datestamp,
    parse_lenient,
    parse_protocol_date,
)

FIRST = calendar.timegm((1, 1, 1, 0, 0, 0, 0, 0, 0))
LAST = calendar.timegm((9999, 12, 31, 23, 59, 59, 0, 0, 0))


def test_first_millennium_is_zero_padded() -> None:
    epoch = calendar.timegm((2, 1, 1, 0, 0, 0, 0, 0, 0))
    assert format_datestamp(epoch) == "0002-01-01T00:00:00Z"
    assert format_datestamp(epoch, Granularity.DAY) == "0002-01-01"


@given(st.integers(FIRST, LAST), st.sampled_from(list(Granularity)))
def test_round_trip_at_any_year(epoch: int, granularity: Granularity) -> None:
    text = format_datestamp(epoch, granularity)
    parsed = parse_protocol_date(text)  # the strict syntax a server checks
    assert parsed.granularity is granularity
    expected = epoch if granularity is Granularity.SECONDS else epoch - epoch % 86400
    assert parsed.epoch == expected == parse_lenient(text)


@given(st.text(alphabet="0123456789-T:Z ٣", min_size=18, max_size=22))
def test_the_fast_path_agrees_with_the_general_one(value: str) -> None:
    """Whatever the shortcut for the common form accepts, the regular path reads the same."""
    from oai.protocol.datestamps import _LENIENT_RE, _fast_seconds

    fast = _fast_seconds(value)
    if fast is None:
        return
    assert _LENIENT_RE.match(value) is not None
    assert fast == parse_protocol_date(value).epoch


def test_the_fast_path_refuses_what_is_not_a_date() -> None:
    from oai.protocol.datestamps import _fast_seconds

    for value in ("2024-02-30T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z",
                  "2024-01-01T٣0:00:00Z", "2024-01-01X00:00:00Z", "2024-01-01T00:00:00+"):
        assert _fast_seconds(value) is None
    assert _fast_seconds("2024-01-01T01:02:03Z") == parse_protocol_date(
        "2024-01-01T01:02:03Z").epoch
