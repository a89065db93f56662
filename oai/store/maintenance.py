"""The maintenance switch: one row of the `settings` table that every provider process reads.

While it is on, every OAI-PMH request is answered 503 with Retry-After (spec 3.1.2.2), by
every `oai serve` process on the store: the flag lives in the database, not in a process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import delete, insert

from oai.store.repository import Store
from oai.store.tables import settings

KEY = "maintenance"
DEFAULT_RETRY_AFTER = 300
DEFAULT_MESSAGE = "the repository is down for maintenance"


@dataclass(frozen=True)
class Maintenance:
    """The switch when on: what clients are told."""

    retry_after: int  # seconds, sent as Retry-After
    message: str
    since: int  # epoch seconds (the database clock) when it was turned on


def maintenance_state(store: Store) -> Maintenance | None:
    """The switch if on, else None. A malformed value counts as on with the defaults: a
    switch somebody meant to turn on must not be ignored."""
    raw = store.setting(KEY)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        return Maintenance(int(data["retry_after"]), str(data["message"]), int(data["since"]))
    except (ValueError, TypeError, KeyError):
        return Maintenance(DEFAULT_RETRY_AFTER, DEFAULT_MESSAGE, 0)


def set_maintenance(store: Store, retry_after: int, message: str) -> Maintenance:
    """Turn the switch on (or change what it says)."""
    with store.write_connection() as conn, conn.begin():
        state = Maintenance(retry_after, message, store.clock_in(conn))
        conn.execute(delete(settings).where(settings.c.key == KEY))
        conn.execute(insert(settings), [{"key": KEY, "value": json.dumps(
            {"retry_after": retry_after, "message": message, "since": state.since})}])
    return state


def clear_maintenance(store: Store) -> bool:
    """Turn the switch off; whether it was on."""
    with store.write_connection() as conn, conn.begin():
        return bool(conn.execute(delete(settings).where(settings.c.key == KEY)).rowcount)
