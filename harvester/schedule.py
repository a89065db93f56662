"""Reconciliation schedules: durations as people write them (`30m`, `12h`, `7d`, `2w`, `off`)
and whether a source's reconciliation is due."""

from __future__ import annotations

import re

UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"\A\s*(\d{1,6})\s*([mhdw])\s*\Z", re.IGNORECASE)
OFF = ("off", "never", "none")


class BadDuration(ValueError):
    pass


def parse_duration(text: str) -> int | None:
    """Seconds, or None for `off`; BadDuration for anything else."""
    if text.strip().lower() in OFF:
        return None
    match = _DURATION.match(text)
    if match is None or int(match.group(1)) == 0:
        raise BadDuration(f"{text!r} is not a duration (such as 30m, 12h, 7d, 2w, or off)")
    return int(match.group(1)) * UNITS[match.group(2).lower()]


def format_duration(seconds: int | None) -> str:
    """The largest unit that divides it: 604800 -> 7d (1w would read oddly beside 14d)."""
    if not seconds:
        return "off"
    for unit in ("d", "h", "m"):
        if seconds % UNITS[unit] == 0:
            return f"{seconds // UNITS[unit]}{unit}"
    return f"{seconds}s"


def is_due(every: int | None, last_started: int | None, now: int) -> bool:
    """Due when scheduled and never done, or done at least `every` seconds ago."""
    if not every:
        return False
    return last_started is None or now - last_started >= every
