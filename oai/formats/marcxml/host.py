"""MARC 21 linking and series fields: 773 (host item entry: the journal or book an article
or chapter appears in, with its citation in $g and the structured enumeration in $q) and
490/830 (series statement and its added entry)."""

from __future__ import annotations

from oai.formats.base import Record
from oai.formats.common import page_range
from oai.formats.marcxml.fields import end, field, names_in_order
from oai.formats.marcxml.fixed import publication_year


def _given_family(name: dict[str, str]) -> str:
    if name.get("given") and name.get("family"):
        return f"{name['given']} {name['family']}"
    return name["name"]


def citation(record: Record, volume: str | None, issue: str | None,
             number: str | None) -> str:
    """773 $g, as catalogues write it: 'Vol. 49, no. 6 (2019), p. 1415-1433'."""
    parts = []
    if volume:
        parts.append(f"Vol. {volume}")
    if issue:
        parts.append(f"no. {issue}")
    text = ", ".join(parts)
    year = publication_year(record)
    if year:
        text = f"{text} ({year})" if text else f"({year})"
    tail = []
    if number:
        tail.append(f"article no. {number}")
    pages = page_range(record)
    if pages:
        tail.append(f"p. {pages}")
    return ", ".join(p for p in (text, *tail) if p)


def enumeration(volume: str | None, issue: str | None) -> str:
    """773 $q without the page: 'volume:issue'."""
    return ":".join(v for v in (volume, issue) if v)


def first_page(record: Record) -> str | None:
    return (record.get("pages") or {}).get("start")


def journal_entry(record: Record) -> str:
    """773 0_ for a journal article: title, citation, ISSN, structured enumeration (49:6<1415)
    and the control subfield $7 nnas (no heading; host is a serial of language material)."""
    host = record["journal"]
    volume, issue = host.get("volume"), host.get("issue")
    start = first_page(record)
    structured = enumeration(volume, issue) + (f"<{start}" if start else "")
    return field("773", "0", " ", [
        ("t", host["title"]),
        ("g", citation(record, volume, issue, host.get("article_number"))),
        ("x", host.get("issn") or host.get("eissn")),
        ("q", structured),
        ("7", "nnas"),
    ])


def book_entry(record: Record) -> str:
    """773 0_ for a chapter: the book's title, editors, publisher, ISBNs, pages ($7 nnam)."""
    host = record["book"]
    editors = [_given_family(e) for e in host.get("editors", [])]
    published = ", ".join(p for p in (record.get("publisher"), publication_year(record)) if p)
    pages = page_range(record)
    start = first_page(record)
    subfields: list[tuple[str, str | None]] = [("t", host["title"])]
    if editors:
        subfields.append(("n", end(f"Edited by {names_in_order(editors)}", ".")))
    subfields.append(("d", published))
    subfields.append(("g", f"p. {pages}" if pages else None))
    isbns = host.get("isbn", []) or record.get("isbn", [])
    subfields.extend(("z", i) for i in isbns)
    subfields.append(("q", f"<{start}" if start else None))
    subfields.append(("7", "nnam"))
    return field("773", "0", " ", subfields)


def series_fields(record: Record) -> list[str]:
    """490 1_ (series statement, traced) and 830 _0 (series added entry)."""
    series = record["series"]
    title, number, issn = series["title"], series.get("number"), series.get("issn")
    statement: list[tuple[str, str | None]] = [
        ("a", end(title, ",") if issn else (end(title, " ;") if number else title))]
    if issn:
        statement.append(("x", f"{issn} ;" if number else issn))
    statement.append(("v", number))
    added = [("a", end(title, " ;") if number else end(title, ".")),
             ("v", end(number, ".") if number else None)]
    return [field("490", "1", " ", statement), field("830", " ", "0", added)]


def host_fields(record: Record) -> list[str]:
    out = []
    if record.get("journal"):
        out.append(journal_entry(record))
    if record.get("book"):
        out.append(book_entry(record))
    return out
