"""Small helpers shared by crosswalks: element writing and vocabulary mappings."""

from __future__ import annotations

from oai.formats.base import Record
from oai.protocol.xmltext import escape_attr, escape_text

TYPE_LABELS: dict[str, str] = {
    "article": "Article",
    "book": "Book",
    "book_section": "Book Section",
    "conference_item": "Conference or Workshop Item",
    "thesis": "Thesis",
    "dataset": "Dataset",
    "report": "Monograph",
    "working_paper": "Working Paper",
    "software": "Software",
    "patent": "Patent",
    "other": "Other",
}

# info:eu-repo/semantics publication types (DRIVER / OpenAIRE guidelines).
EU_REPO_TYPES: dict[str, str] = {
    "article": "article",
    "book": "book",
    "book_section": "bookPart",
    "conference_item": "conferenceObject",
    "thesis": "doctoralThesis",
    "dataset": "other",
    "report": "report",
    "working_paper": "workingPaper",
    "software": "other",
    "patent": "patent",
    "other": "other",
}

EU_REPO_ACCESS: dict[str, str] = {
    "open": "openAccess",
    "embargoed": "embargoedAccess",
    "restricted": "restrictedAccess",
    "metadata_only": "closedAccess",
}

EU_REPO_VERSIONS: dict[str, str] = {
    "AO": "draft",
    "SMUR": "submittedVersion",
    "AM": "acceptedVersion",
    "P": "updatedVersion",
    "VoR": "publishedVersion",
    "CVoR": "publishedVersion",
    "EVoR": "publishedVersion",
}


def element(tag: str, text: str, lang: str | None = None) -> str:
    """One simple element; text is escaped and stripped of XML-illegal characters."""
    attr = f' xml:lang="{escape_attr(lang)}"' if lang else ""
    return f"<{tag}{attr}>{escape_text(text)}</{tag}>"


def thesis_eu_type(record: Record) -> str:
    level = record.get("thesis", {}).get("level")
    names = {"bachelor": "bachelorThesis", "master": "masterThesis"}
    return names.get(level or "", "doctoralThesis")


def page_range(record: Record) -> str | None:
    pages = record.get("pages") or {}
    start, end = pages.get("start"), pages.get("end")
    if start and end:
        return f"{start}-{end}"
    return start or end


def citation(record: Record) -> str:
    """A human-readable bibliographic citation, as repositories put in dc:identifier."""
    names = [c["name"] for c in record.get("creators", [])]
    authors = "; ".join(names[:10]) + (" et al." if len(names) > 10 else "")
    year = (record.get("dates", {}).get("published") or "")[:4]
    text = " ".join(p for p in (authors, f"({year})" if year else "") if p)
    text = f"{text} {record['titles'][0]['text']}" if text else record["titles"][0]["text"]
    journal = record.get("journal")
    if journal:
        text += f". {journal['title']}"
        if journal.get("volume"):
            text += f" {journal['volume']}"
            if journal.get("issue"):
                text += f" ({journal['issue']})"
        pages = page_range(record)
        if pages:
            text += f", pp. {pages}"
    elif record.get("book"):
        text += f". In: {record['book']['title']}"
    if record.get("publisher"):
        text += f". {record['publisher']}"
    if record.get("doi"):
        text += f". https://doi.org/{record['doi']}"
    return text
