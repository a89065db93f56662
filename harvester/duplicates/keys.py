"""What one payload contributes to matching: its identifiers and fingerprint (`keys_for`)."""

from __future__ import annotations

from harvester.duplicates.extract import pick
from harvester.duplicates.fingerprint import blocks, make, surname_of, year_of
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
