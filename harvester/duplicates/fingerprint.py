"""Fingerprints for records that share no identifier: normalised title, year and the first
creator's surname, the blocking keys under which a record is filed, and the similarity test.

Normalising makes spellings of one title equal (case, punctuation, diacritics, spacing); the
similarity (rapidfuzz's normalised Indel ratio, a well-kept C implementation) then tolerates
a few typing differences. A pair matches only when the years are equal, the surnames nearly
so, and the titles at least `TITLE_THRESHOLD` similar: two different works by one author in
one year rarely have titles that close. Titles too short to tell works apart ("Editorial",
"Introduction") give no fingerprint; a leading article is dropped (MODS and MARC records
keep it apart, or leave it out).

Blocking keys bound the work per record: a new record compares itself only with records
filed under one of its two keys (surname+year+title initial, and year+the title's three
longest words in order), each look-up one indexed query returning at most a bounded number
of candidates.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from rapidfuzz.distance import Indel

TITLE_THRESHOLD = 0.95  # normalised Indel similarity: a letter or two in a long title
SURNAME_THRESHOLD = 0.85  # tolerates transliterations (muller / mueller), not other names
MIN_TITLE_WORDS = 3
MIN_TITLE_CHARS = 15

_ARTICLES = frozenset({"a", "an", "the", "der", "die", "das", "le", "la", "les", "el", "il"})
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")


class Fingerprint(NamedTuple):
    title: str  # normalised
    year: int
    surname: str  # normalised


_ASCII_PUNCTUATION = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower case, no diacritics, punctuation as spaces, single spaces."""
    if text.isascii():  # most titles and names: no decomposition to do
        return " ".join(_ASCII_PUNCTUATION.sub(" ", text.lower()).split())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c if c.isalnum() else " " for c in decomposed
                   if not unicodedata.combining(c))
    return " ".join(kept.split())


def year_of(text: str | None) -> int | None:
    """The first plausible year in a date as repositories write them."""
    found = _YEAR.search(text or "")
    return int(found.group(1)) if found else None


def surname_of(creator: str | None) -> str | None:
    """The family name in `Family, Given` or `Given Family`, folded."""
    if not creator:
        return None
    name = creator.split(",", 1)[0] if "," in creator else creator.split()[-1:][0] \
        if creator.split() else ""
    folded = fold(name).replace(" ", "")
    return folded or None


def make(title: str | None, year: int | None, surname: str | None) -> Fingerprint | None:
    """The fingerprint, when the three parts are there and the title is distinctive enough."""
    if not title or year is None or not surname:
        return None
    folded = fold(title)
    first, _, rest = folded.partition(" ")
    if first in _ARTICLES and rest:  # catalogues file some titles without it
        folded = rest
    if len(folded) < MIN_TITLE_CHARS or len(folded.split()) < MIN_TITLE_WORDS:
        return None
    return Fingerprint(folded[:400], year, surname[:100])


def blocks(fp: Fingerprint) -> tuple[str, ...]:
    """The blocking keys a record is filed (and looked up) under."""
    words = fp.title.split()
    longest = sorted(sorted(set(words), key=lambda w: (-len(w), w))[:3])
    return (f"a:{fp.year}:{fp.surname}:{fp.title[0]}", f"t:{fp.year}:{' '.join(longest)}")


def similarity(a: Fingerprint, b: Fingerprint) -> float | None:
    """The title similarity (0..1) when `a` and `b` look like one work; None otherwise."""
    if a.year != b.year:
        return None
    if a.surname != b.surname and \
            Indel.normalized_similarity(a.surname, b.surname) < SURNAME_THRESHOLD:
        return None
    score = Indel.normalized_similarity(a.title, b.title)
    return round(score, 4) if score >= TITLE_THRESHOLD else None


def judge(a: tuple[str, int, str], b: tuple[str, int, str]) -> float | None:
    """The similarity of two fingerprints (title, year, surname), None when not one work."""
    return similarity(Fingerprint(*a), Fingerprint(*b))
