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
