"""The fixed-length parts of a MARC 21 bibliographic record: the leader, 005, 007 and 008,
built position by position from the record (never from the clock, so that an unchanged
record renders the same bytes)."""

from __future__ import annotations

from oai.formats.base import Record
from oai.formats.loc import iso639_2b

# record type -> leader/06 (type of record)
RECORD_TYPES: dict[str, str] = {"dataset": "m", "software": "m"}


def bibliographic_level(record: Record) -> str:
    """Leader/07: b serial component part (journal articles), a monographic component part
    (chapters, papers in proceedings), m monograph (everything else)."""
    if record.get("journal"):
        return "b"
    if record.get("book") or record["type"] == "book_section":
        return "a"
    return "m"


def leader(record: Record) -> str:
    """24 characters: length and base address left as zeros (computed only in ISO 2709),
    status n (new), type, level, character coding a (UCS/Unicode), 2 indicators, 2-character
    subfield codes, encoding level 7 (minimal), ISBD punctuation i, entry map 4500."""
    kind = RECORD_TYPES.get(record["type"], "a")
    value = f"00000n{kind}{bibliographic_level(record)} a22000007i 4500"
    assert len(value) == 24
    return value


def _digits(date: str) -> str:
    return date.replace("-", "")


def latest_transaction(record: Record) -> str | None:
    """005: yyyymmddhhmmss.f of the last change known (time of day unknown: midnight)."""
    dates = record.get("dates", {})
    date = dates.get("modified") or dates.get("deposited")
    if not date:
        return None
    digits = _digits(date)
    digits += {4: "0101", 6: "01"}.get(len(digits), "")  # a year or month: its first day
    return f"{digits}000000.0"


def publication_year(record: Record) -> str | None:
    dates = record.get("dates", {})
    for key in ("published", "awarded", "published_online", "created"):
        if dates.get(key):
            return str(dates[key])[:4]
    return None


def _entered(record: Record) -> str:
    dates = record.get("dates", {})
    for key in ("deposited", "created", "modified"):
        date = dates.get(key)
        if date and len(date) == 10:
            return _digits(date)[2:]
    return "||||||"


def language_code(record: Record) -> str:
    for tag in record.get("languages", []):
        code = iso639_2b(tag)
        if code:
            return code
    return "und"


def fixed_data(record: Record) -> str:
    """008, 40 characters: date entered, date type s with the publication year (n, uuuu when
    unknown), place xx (unknown), the books or computer-files positions 18-34, language."""
    year = publication_year(record)
    dates = f"s{year}    " if year else "nuuuu    "
    if record["type"] in RECORD_TYPES:  # computer file: 26 numeric data or program
        kind = "b" if record["type"] == "software" else "a"
        material = f"     o  {kind}        "
    else:  # books: online, nature of contents (m theses), conference, not fiction
        contents = "m   " if record["type"] == "thesis" else "    "
        conference = "1" if record["type"] == "conference_item" else "0"
        material = f"     o{contents} {conference}00 0 "
    value = f"{_entered(record)}{dates}xx {material}{language_code(record)} d"
    assert len(value) == 40, (value, len(value))
    return value


ELECTRONIC = "cr |||||||||||"  # 007: computer file (c), remote (r), the rest unspecified
