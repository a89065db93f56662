"""Records over time as an inline SVG bar chart: pure geometry, so the page needs no script
and no network, and prints as it shows."""

from __future__ import annotations

import math
from dataclasses import dataclass

from harvester.report.model import YearCount

WIDTH, HEIGHT = 640, 180
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 48, 22, 8
MAX_BARS = 30


@dataclass(frozen=True)
class Bar:
    label: str
    x: float
    width: float
    live_y: float
    live_height: float
    deleted_y: float
    deleted_height: float
    title: str  # the tooltip: exact figures


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, str], ...]  # (y, label) of the value axis
    baseline: float
    left: int


def _buckets(years: tuple[YearCount, ...]) -> list[tuple[str, int, int]]:
    """(label, live, deleted) with at most MAX_BARS bars: consecutive years are grouped into
    equal spans when the source covers more years than that."""
    if not years:
        return []
    first, last = years[0].year, years[-1].year
    span = max(1, math.ceil((last - first + 1) / MAX_BARS))
    counts = {y.year: (y.live, y.deleted) for y in years}
    out = []
    for start in range(first, last + 1, span):
        end = min(start + span - 1, last)
        live = sum(counts.get(y, (0, 0))[0] for y in range(start, end + 1))
        gone = sum(counts.get(y, (0, 0))[1] for y in range(start, end + 1))
        out.append((str(start) if start == end else f"{start}-{str(end)[-2:]}", live, gone))
    return out


def _nice_max(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above value."""
    if value <= 1:
        return 1
    power = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def records_chart(years: tuple[YearCount, ...]) -> Chart | None:
    buckets = _buckets(years)
    if not buckets:
        return None
    top = _nice_max(max(live + gone for _, live, gone in buckets))
    plot_height = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    baseline = float(HEIGHT - MARGIN_BOTTOM)
    slot = (WIDTH - MARGIN_LEFT) / len(buckets)
    bars = []
    for i, (label, live, gone) in enumerate(buckets):
        live_h = plot_height * live / top
        gone_h = plot_height * gone / top
        bars.append(Bar(label=label, x=MARGIN_LEFT + i * slot + slot * 0.15, width=slot * 0.7,
                        live_y=baseline - live_h, live_height=live_h,
                        deleted_y=baseline - live_h - gone_h, deleted_height=gone_h,
                        title=f"{label}: {live:,} records, {gone:,} deleted"))
    ticks = tuple((baseline - plot_height * f, f"{int(top * f):,}") for f in (0, 0.5, 1))
    return Chart(WIDTH, HEIGHT, tuple(bars), ticks, baseline, MARGIN_LEFT)
