"""MODS <relatedItem>s: the host (journal, or book for a chapter) with a <part> giving the
structured citation (volume, issue, article number, pages, date), the series, and the
record's relations to other resources by identifier."""

from __future__ import annotations

from oai.formats.base import Record
from oai.formats.mods.names import agent
from oai.formats.mods.titles import title_info
from oai.protocol.schemas import accepts_any_uri
from oai.protocol.xmltext import escape_attr, escape_text

# record relation -> (relatedItem type, otherType) : MODS has eleven types; the rest go to
# otherType (with no type), as the guidelines allow since 3.6.
RELATION_TYPES: dict[str, tuple[str, str]] = {
    "is_part_of": ("host", ""),
    "has_part": ("constituent", ""),
    "references": ("references", ""),
    "cites": ("references", ""),
    "is_referenced_by": ("isReferencedBy", ""),
    "is_cited_by": ("isReferencedBy", ""),
    "is_version_of": ("otherVersion", ""),
    "has_version": ("otherVersion", ""),
    "is_identical_to": ("otherFormat", ""),
    "is_previous_version_of": ("succeeding", ""),
    "is_new_version_of": ("preceding", ""),
    "is_derived_from": ("original", ""),
    "is_source_of": ("", "isSourceOf"),
    "is_supplemented_by": ("", "isSupplementedBy"),
    "is_supplement_to": ("", "isSupplementTo"),
}

# relation identifier scheme -> MODS identifier type
SCHEMES: dict[str, str] = {"doi": "doi", "handle": "hdl", "url": "uri", "isbn": "isbn",
                           "issn": "issn", "arxiv": "arxiv", "pmid": "pmid", "urn": "urn"}


def part(record: Record, volume: str | None = None, issue: str | None = None,
         number: str | None = None) -> str:
    """The <part>: enumeration, page extent and date of the item within its host."""
    out = []
    for kind, value in (("volume", volume), ("issue", issue), ("article", number)):
        if value:
            out.append(f'<detail type="{kind}"><number>{escape_text(value)}</number></detail>')
    pages = record.get("pages") or {}
    if pages.get("start") or pages.get("end"):
        extent = "".join(f"<{k}>{escape_text(pages[k])}</{k}>" for k in ("start", "end")
                         if pages.get(k))
        if pages.get("count"):
            extent += f"<total>{pages['count']}</total>"
        out.append(f'<extent unit="pages">{extent}</extent>')
    published = record.get("dates", {}).get("published")
    if published:
        out.append(f'<date encoding="w3cdtf">{escape_text(published)}</date>')
    return f"<part>{''.join(out)}</part>" if out else ""


def journal(record: Record) -> str:
    host = record["journal"]
    out = ['<relatedItem type="host">', title_info(host["title"], None)]
    out.append('<originInfo><issuance>continuing</issuance></originInfo>')
    if host.get("issn"):
        out.append(f'<identifier type="issn" displayLabel="print">{host["issn"]}</identifier>')
    if host.get("eissn"):
        out.append(f'<identifier type="issn" displayLabel="online">{host["eissn"]}'
                   "</identifier>")
    out.append(part(record, host.get("volume"), host.get("issue"), host.get("article_number")))
    out.append("</relatedItem>")
    return "".join(out)


def book(record: Record) -> str:
    host = record["book"]
    out = ['<relatedItem type="host">', title_info(host["title"], None)]
    out.extend(agent(e, "editor") for e in host.get("editors", []))
    out.append('<originInfo><issuance>monographic</issuance></originInfo>')
    isbns = host.get("isbn", []) or (record.get("isbn", []) if record["type"] == "book_section"
                                     else [])
    out.extend(f'<identifier type="isbn">{escape_text(i)}</identifier>' for i in isbns)
    out.append(part(record))
    out.append("</relatedItem>")
    return "".join(out)


def series(record: Record) -> str:
    info = record["series"]
    title = title_info(info["title"], None)
    if info.get("number"):
        title = title.replace("</titleInfo>", f"<partNumber>{escape_text(info['number'])}"
                                              "</partNumber></titleInfo>")
    issn = (f'<identifier type="issn">{info["issn"]}</identifier>' if info.get("issn")
            else "")
    return f'<relatedItem type="series">{title}{issn}</relatedItem>'


def relation(kind: str, identifier: str, scheme: str | None) -> str:
    rtype, other = RELATION_TYPES[kind]
    attrs = f' type="{rtype}"' if rtype else f' otherType="{other}"'
    ident_type = SCHEMES.get(scheme or "", "uri" if "://" in identifier else "local")
    body = f'<identifier type="{ident_type}">{escape_text(identifier)}</identifier>'
    if "://" in identifier and accepts_any_uri(identifier):
        attrs += f' xlink:href="{escape_attr(identifier)}"'
    return f"<relatedItem{attrs}>{body}</relatedItem>"


def related_items(record: Record) -> list[str]:
    out = []
    if record.get("journal"):
        out.append(journal(record))
    if record.get("book"):
        out.append(book(record))
    elif not record.get("journal"):  # pages of an item with no host: a part of its own
        out.append(part(record))
    if record.get("series"):
        out.append(series(record))
    out.extend(relation(r["kind"], r["identifier"], r.get("scheme"))
               for r in record.get("relations", []))
    return out
