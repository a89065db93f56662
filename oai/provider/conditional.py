"""Validators for conditional GET (RFC 9110 section 13) on Identify, ListSets,
ListMetadataFormats and GetRecord.

The entity tag is a digest of the answer itself with its responseDate left out, the only part
that changes from one request to the next: it is exact by construction (no change to the
store or the configuration can be missed) and the same from every process serving the store.
It saves the transfer, not the query: those four verbs are cheap to answer. Last-Modified is
sent for GetRecord only, where a date is known to bound every change: the record's datestamp
(bumped by every change to the record), or, if later, the time this process started (its
configuration may render the record differently). Identify, ListSets and
ListMetadataFormats carry no Last-Modified: nothing in the store dates a set's renaming, and
a date that misses a change would make If-Modified-Since answer 304 wrongly.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import time

CONDITIONAL_VERBS = frozenset({"Identify", "ListSets", "ListMetadataFormats", "GetRecord"})
_RESPONSE_DATE = re.compile(rb"<responseDate>[^<]*</responseDate>")
_RECORD_DATESTAMP = re.compile(rb"<GetRecord><record><header[^>]*>.*?"
                               rb"<datestamp>([0-9TZ:-]+)</datestamp>", re.DOTALL)


def entity_tag(body: bytes) -> str:
    """A strong entity tag for the answer, independent of when it was written."""
    return hashlib.sha256(_RESPONSE_DATE.sub(b"", body, count=1)).hexdigest()[:32]


def last_modified(verb: str, body: bytes, started: int) -> int | None:
    """Epoch seconds for Last-Modified: a GetRecord answer's datestamp, not before `started`;
    None for anything else (errors included)."""
    if verb != "GetRecord":
        return None
    found = _RECORD_DATESTAMP.match(body, body.find(b"<GetRecord>"))
    if found is None:
        return None
    try:
        stamp = calendar.timegm(time.strptime(found.group(1).decode("ascii"),
                                              "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None
    return max(stamp, started)
