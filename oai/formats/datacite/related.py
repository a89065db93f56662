"""Identifiers and related works in kernel-4: alternateIdentifiers (the same item elsewhere),
relatedIdentifiers (the journal's ISSNs, the book's ISBN, the record's relations, its files),
relatedItems (the structured citation of the journal or book: volume, issue, pages...) and
fundingReferences."""

from __future__ import annotations

from oai.formats.base import Record
from oai.formats.datacite.agents import related_item_contributor
from oai.formats.datacite.vocabularies import (
    ALTERNATE_IDENTIFIER_TYPES,
    EARLIER_VERSIONS,
    RELATION_TYPES,
    funder_identifier,
    related_identifier_type,
)
from oai.protocol.schemas import accepts_any_uri
from oai.protocol.xmltext import escape_attr, escape_text


def _text(tag: str, value: str | None) -> str:
    return f"<{tag}>{escape_text(value)}</{tag}>" if value else ""


def alternate_identifiers(record: Record) -> str:
    """The landing page, the record's other identifiers and its own ISBNs."""
    items: list[tuple[str, str]] = []
    if record.get("url"):
        items.append(("URL", record["url"]))
    items.extend((ALTERNATE_IDENTIFIER_TYPES[i["scheme"]], i["value"])
                 for i in record.get("identifiers", []))
    items.extend(("ISBN", isbn) for isbn in record.get("isbn", []))
    if not items:
        return ""
    body = "".join(f'<alternateIdentifier alternateIdentifierType="{escape_attr(kind)}">'
                   f"{escape_text(value)}</alternateIdentifier>" for kind, value in items)
    return f"<alternateIdentifiers>{body}</alternateIdentifiers>"


def _related(value: str, id_type: str, relation: str, general: str | None = None) -> str:
    attr = f' resourceTypeGeneral="{general}"' if general else ""
    return (f'<relatedIdentifier relatedIdentifierType="{id_type}" relationType="{relation}"'
            f"{attr}>{escape_text(value)}</relatedIdentifier>")


def related_identifiers(record: Record) -> str:
    """The journal's ISSN and eISSN and the containing book's ISBNs (IsPublishedIn), the
    series' ISSN (IsPartOf), the record's relations, and its files: an earlier version
    (AO, SMUR, AM, P) is a version of the work (HasVersion), any other file a part of it."""
    out: list[str] = []
    journal = record.get("journal") or {}
    if journal.get("issn"):
        out.append(_related(journal["issn"], "ISSN", "IsPublishedIn", "Journal"))
    if journal.get("eissn"):
        out.append(_related(journal["eissn"], "EISSN", "IsPublishedIn", "Journal"))
    for isbn in (record.get("book") or {}).get("isbn", []):
        out.append(_related(isbn, "ISBN", "IsPublishedIn", _book_type(record)))
    series = record.get("series") or {}
    if series.get("issn"):
        out.append(_related(series["issn"], "ISSN", "IsPartOf"))
    for relation in record.get("relations", []):
        id_type = related_identifier_type(relation["identifier"], relation.get("scheme"))
        if id_type is not None:
            out.append(_related(relation["identifier"], id_type,
                                RELATION_TYPES[relation["kind"]]))
    for file in record.get("files", []):
        kind = "HasVersion" if file.get("version") in EARLIER_VERSIONS else "HasPart"
        out.append(_related(file["url"], "URL", kind))
    return f"<relatedIdentifiers>{''.join(out)}</relatedIdentifiers>" if out else ""


def _year(record: Record) -> str | None:
    published = (record.get("dates") or {}).get("published")
    return published[:4] if published else None


def _journal_item(record: Record, journal: dict[str, str]) -> str:
    if journal.get("issn"):
        ident = ('<relatedItemIdentifier relatedItemIdentifierType="ISSN">'
                 f"{escape_text(journal['issn'])}</relatedItemIdentifier>")
    elif journal.get("eissn"):
        ident = ('<relatedItemIdentifier relatedItemIdentifierType="EISSN">'
                 f"{escape_text(journal['eissn'])}</relatedItemIdentifier>")
    else:
        ident = ""
    pages = record.get("pages") or {}
    number = journal.get("article_number")
    return ('<relatedItem relatedItemType="Journal" relationType="IsPublishedIn">'
            f"{ident}<titles>{_text('title', journal['title'])}</titles>"
            f"{_text('publicationYear', _year(record))}"
            f"{_text('volume', journal.get('volume'))}{_text('issue', journal.get('issue'))}"
            + (f'<number numberType="Article">{escape_text(number)}</number>' if number else "")
            + f"{_text('firstPage', pages.get('start'))}{_text('lastPage', pages.get('end'))}"
            f"{_text('publisher', record.get('publisher'))}</relatedItem>")


def _book_type(record: Record) -> str:
    """The containing book of a conference paper is its proceedings."""
    return "ConferenceProceeding" if record["type"] == "conference_item" else "Book"


def _book_item(record: Record, book: Record) -> str:
    isbns = book.get("isbn", [])
    ident = ('<relatedItemIdentifier relatedItemIdentifierType="ISBN">'
             f"{escape_text(isbns[0])}</relatedItemIdentifier>") if isbns else ""
    pages = record.get("pages") or {}
    editors = "".join(related_item_contributor(e, "Editor") for e in book.get("editors", []))
    return (f'<relatedItem relatedItemType="{_book_type(record)}" relationType="IsPublishedIn">'
            f"{ident}<titles>{_text('title', book['title'])}</titles>"
            f"{_text('publicationYear', _year(record))}"
            f"{_text('firstPage', pages.get('start'))}{_text('lastPage', pages.get('end'))}"
            f"{_text('publisher', record.get('publisher'))}"
            + (f"<contributors>{editors}</contributors>" if editors else "")
            + "</relatedItem>")


def related_items(record: Record) -> str:
    """The journal an article is published in, or the book (proceedings) a chapter (paper) is
    published in, as a structured citation (kernel 4.4+)."""
    out = ""
    if record.get("journal"):
        out += _journal_item(record, record["journal"])
    if record.get("book"):
        out += _book_item(record, record["book"])
    return f"<relatedItems>{out}</relatedItems>" if out else ""


def funding_references(record: Record) -> str:
    """Funder name, its Crossref Funder ID (or ROR), award number (with the project page as
    awardURI) and award title."""
    out: list[str] = []
    for funding in record.get("funding", []):
        body = f"<funderName>{escape_text(funding['funder'])}</funderName>"
        if funding.get("funder_id"):
            value, kind, scheme = funder_identifier(funding["funder_id"])
            scheme_attr = f' schemeURI="{scheme}"' if scheme else ""
            body += (f'<funderIdentifier funderIdentifierType="{kind}"{scheme_attr}>'
                     f"{escape_text(value)}</funderIdentifier>")
        if funding.get("award_number"):
            uri = funding.get("project_uri")
            uri_attr = (f' awardURI="{escape_attr(uri)}"'
                        if uri and accepts_any_uri(uri) else "")
            body += (f"<awardNumber{uri_attr}>{escape_text(funding['award_number'])}"
                     "</awardNumber>")
        body += _text("awardTitle", funding.get("award_title"))
        out.append(f"<fundingReference>{body}</fundingReference>")
    return f"<fundingReferences>{''.join(out)}</fundingReferences>" if out else ""
