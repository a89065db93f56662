"""The values the profile's mandatory properties take from a record, shared by the crosswalk
(which writes them) and `requires` (which refuses a record that has none): one rule each."""

from __future__ import annotations

from oai.formats.base import Record
from oai.protocol.xmltext import strip_illegal_xml_chars

# Publication Date (M): "If no date of publication is available, use any other date
# available. It is better to use one date than no date at all."
ISSUED_FALLBACK = ("published", "published_online", "awarded", "created", "deposited",
                   "first_compliant_deposit", "accepted", "submitted", "modified")

# Resource Identifier (M): the repository's own landing page first (the profile's "jump-off
# page"), then persistent identifiers of the work; identifierType per the profile.
_IDENTIFIER_SCHEMES = (("handle", "Handle"), ("urn", "URN"), ("ark", "ARK"), ("url", "URL"))


def has_text(text: str | None) -> bool:
    """Whether `text` still says something once characters XML cannot carry are removed
    (the profile's mandatory texts must not be empty)."""
    return bool(text) and bool(strip_illegal_xml_chars(text or "").strip())


def issued_date(record: Record) -> str | None:
    dates = record.get("dates") or {}
    return next((dates[k] for k in ISSUED_FALLBACK if dates.get(k)), None)


def embargo_end(record: Record) -> str | None:
    """The end of the record's embargo: its own, else the latest of its files'."""
    access = record.get("access") or {}
    if access.get("embargo_end"):
        return str(access["embargo_end"])
    ends = [f["embargo_end"] for f in record.get("files", []) if f.get("embargo_end")]
    return max(ends) if ends else None


def accepted_date(record: Record) -> str | None:
    """datacite:date Accepted, which the profile uses for the start of an embargo: the
    acceptance date; for an embargoed record without one, the date the repository accepted
    the deposit (DataCite: "the date that the publisher accepted the resource into their
    system"; the repository publishes the deposited copy)."""
    dates = record.get("dates") or {}
    if dates.get("accepted"):
        return str(dates["accepted"])
    if (record.get("access") or {}).get("status") == "embargoed":
        return dates.get("deposited") or dates.get("first_compliant_deposit")
    return None


def primary_identifier(record: Record) -> tuple[str, str, object] | None:
    """(value, identifierType, source) of datacite:identifier, where source tells the
    alternate identifiers what not to repeat ("url", "doi" or the entry of `identifiers`)."""
    if has_text(record.get("url")):
        return record["url"], "URL", "url"
    if record.get("doi"):
        return f"https://doi.org/{record['doi']}", "DOI", "doi"
    idents = [i for i in record.get("identifiers", []) if has_text(i["value"])]
    for scheme, kind in _IDENTIFIER_SCHEMES:
        for ident in idents:
            if ident["scheme"] == scheme:
                return ident["value"], kind, ident
    return None
