"""The values RIOXX's mandatory properties take from a record, shared by the crosswalk (which
writes them) and `requires` (which refuses a record that has none): one rule each."""

from __future__ import annotations

from oai.formats.base import Record
from oai.formats.openaire.fields import has_text

__all__ = ["accepted", "has_text", "landing_page", "title"]


def title(record: Record) -> str | None:
    """dc:title, exactly one: the main title (the first non-empty one when none is marked
    main), with a subtitle as "Title: Subtitle" as the profile recommends."""
    titles = [t for t in record["titles"] if has_text(t["text"])]
    main = next((t for t in titles if t.get("kind", "main") == "main"), None) or \
        next(iter(titles), None)
    if main is None:
        return None
    subtitle = next((t["text"] for t in titles if t.get("kind") == "subtitle"), None)
    return f"{main['text']}: {subtitle}" if subtitle else str(main["text"])


def accepted(record: Record) -> str | None:
    """dcterms:dateAccepted: the date the work was accepted for publication."""
    return (record.get("dates") or {}).get("accepted")


def landing_page(record: Record) -> str | None:
    """dc:identifier: the repository's landing page (an HTTP(S) URI, says the profile)."""
    url = record.get("url") or ""
    return url if has_text(url) and url.lower().startswith(("http://", "https://")) else None
