"""Finding the same work across sources: identifiers and fingerprints extracted from each
harvested payload (sans-I/O: `keys_for` reads a payload, the store indexes what it returns),
and the similarity test the store applies to fingerprint candidates (`judge`)."""

from __future__ import annotations

from harvester.duplicates.extract import pick
from harvester.duplicates.fingerprint import (
    Fingerprint,
    blocks,
    make,
    similarity,
    surname_of,
    year_of,
)
from harvester.duplicates.identifiers import normalise
from oai.store.harvest.rows import DuplicateKeys

MAX_IDENTIFIERS = 16  # more is rare; the bound keeps look-ups per record bounded


def keys_for(metadata: str | bytes | None) -> DuplicateKeys | None:
    """The identifiers and fingerprint of one payload; None when it has neither."""
    if not metadata:
        return None
    fields = pick(metadata)
    if fields is None:
        return None
    identifiers: dict[tuple[str, str], None] = {}
    for value, declared in fields.identifiers:
        for pair in normalise(value, declared):
            identifiers[pair] = None
    fp = make(fields.title, year_of(fields.date), surname_of(fields.creator))
    if not identifiers and fp is None:
        return None
    title = fields.title[:500] if fields.title else None
    return DuplicateKeys(tuple(sorted(identifiers))[:MAX_IDENTIFIERS], title,
                         fp.title if fp else None, fp.year if fp else None,
                         fp.surname if fp else None, blocks(fp) if fp else ())


def judge(a: tuple[str, int, str], b: tuple[str, int, str]) -> float | None:
    """The similarity of two fingerprints (title, year, surname), None when not one work."""
    return similarity(Fingerprint(*a), Fingerprint(*b))


__all__ = ["judge", "keys_for"]
