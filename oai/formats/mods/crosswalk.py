"""Canonical record -> MODS 3.7, as institutional repositories publish it over OAI-PMH.

Follows the MODS User Guidelines and common practice (LoC's MARC-to-MODS mapping, DSpace and
MyCoRe exports): titles with their non-filing article; names with family/given parts, MARC
relator roles (code and term) and ORCIDs; a COAR genre; originInfo with the issue date as the
key date; the journal, book or series as a relatedItem whose <part> holds volume, issue and
pages; identifiers by type; a <location> with the landing page and every file; licence and
access as <accessCondition>; funding as funder names (role fnd) plus a funding note.
"""

from __future__ import annotations

from typing import Any

from oai.formats import coar
from oai.formats.base import Record
from oai.formats.common import TYPE_LABELS
from oai.formats.loc import VERSION_LABELS, iso639_2b, licence_label
from oai.formats.mods.names import names
from oai.formats.mods.related import related_items
from oai.formats.mods.titles import lang_attr, titles
from oai.protocol.namespaces import XSI
from oai.protocol.schemas import accepts_any_uri
from oai.protocol.xmltext import escape_attr, escape_text

MODS = "http://www.loc.gov/mods/v3"
MODS_SCHEMA_URL = "http://www.loc.gov/standards/mods/v3/mods-3-7.xsd"
XLINK = "http://www.w3.org/1999/xlink"

_OPEN = (f'<mods xmlns="{MODS}" xmlns:xlink="{XLINK}" xmlns:xsi="{XSI}" version="3.7" '
         f'xsi:schemaLocation="{MODS} {MODS_SCHEMA_URL}">')

# record type -> typeOfResource (MODS 3.7 recommended values)
RESOURCE_TYPES: dict[str, str] = {"dataset": "software, multimedia",
                                  "software": "software, multimedia"}

# identifier scheme -> MODS identifier type (Standard Identifier Source Codes)
IDENTIFIER_TYPES: dict[str, str] = {
    "handle": "hdl", "pmid": "pmid", "pmcid": "pmcid", "arxiv": "arxiv", "urn": "urn",
    "ark": "ark", "isni": "isni", "url": "uri", "local": "local", "wos": "wos",
    "scopus": "scopus",
}

STATUS_LABELS: dict[str, str] = {
    "published": "Published", "in_press": "In press", "accepted": "Accepted",
    "submitted": "Submitted", "unpublished": "Unpublished",
}


def date(tag: str, value: str, extra: str = "") -> str:
    return f'<{tag} encoding="w3cdtf"{extra}>{escape_text(value)}</{tag}>'


def genres(record: Record) -> list[str]:
    uri, label = coar.resource_type(record)
    return [f'<genre authority="coar" authorityURI="{coar.RESOURCE_TYPE}" '
            f'valueURI="{uri}">{escape_text(label)}</genre>',
            f'<genre authority="local">{escape_text(TYPE_LABELS[record["type"]])}</genre>']


def origin_info(record: Record) -> str:
    dates = record.get("dates", {})
    out: list[str] = []
    if record.get("place_of_publication"):
        out.append(f'<place><placeTerm type="text">'
                   f'{escape_text(record["place_of_publication"])}</placeTerm></place>')
    if record.get("publisher"):
        out.append(f"<publisher>{escape_text(record['publisher'])}</publisher>")
    issued = dates.get("published") or dates.get("awarded")
    if issued:
        out.append(date("dateIssued", issued, ' keyDate="yes"'))
    if dates.get("created"):
        out.append(date("dateCreated", dates["created"], "" if issued else ' keyDate="yes"'))
    if dates.get("modified"):
        out.append(date("dateModified", dates["modified"]))
    for key, label in (("published_online", "published online"), ("accepted", "accepted"),
                       ("submitted", "submitted"), ("deposited", "deposited"),
                       ("first_compliant_deposit", "first compliant deposit")):
        if dates.get(key):
            out.append(date("dateOther", dates[key], f' type="{label}"'))
    if dates.get("awarded") and dates.get("published"):
        out.append(date("dateOther", dates["awarded"], ' type="awarded"'))
    if record.get("edition"):
        out.append(f"<edition>{escape_text(record['edition'])}</edition>")
    if record["type"] in ("book", "report", "thesis", "working_paper"):
        out.append("<issuance>monographic</issuance>")
    return f'<originInfo eventType="publication">{"".join(out)}</originInfo>' if out else ""


def languages(record: Record) -> list[str]:
    out = []
    for tag in record.get("languages", []):
        code = iso639_2b(tag)
        term = (f'<languageTerm type="code" authority="iso639-2b">{code}</languageTerm>'
                if code else "")
        if not code or "-" in tag:
            term += (f'<languageTerm type="code" authority="rfc5646">{escape_text(tag)}'
                     "</languageTerm>")
        out.append(f"<language>{term}</language>")
    return out


def physical_description(record: Record) -> str:
    files = record.get("files", [])
    pages = (record.get("pages") or {}).get("count")
    if not files and not pages:
        return ""
    out = ['<form authority="marcform">electronic</form>'] if files else []
    out.extend(f"<internetMediaType>{escape_text(m)}</internetMediaType>"
               for m in dict.fromkeys(f["mime_type"] for f in files))
    if pages:
        out.append(f'<extent unit="pages">{pages}</extent>')
    return f"<physicalDescription>{''.join(out)}</physicalDescription>"


def notes(record: Record) -> list[str]:
    out = [f"<note>{escape_text(n)}</note>" for n in record.get("notes", [])]
    if record.get("status"):
        out.append(f'<note type="publication status">{STATUS_LABELS[record["status"]]}</note>')
    if "peer_reviewed" in record:
        label = "Peer reviewed" if record["peer_reviewed"] else "Not peer reviewed"
        out.append(f'<note type="peer review status">{label}</note>')
    thesis = record.get("thesis") or {}
    if record["type"] == "thesis" and (thesis.get("degree") or thesis.get("institution")):
        year = (record.get("dates", {}).get("awarded") or
                record.get("dates", {}).get("published") or "")[:4]
        text = "Thesis" + (f" ({thesis['degree']})" if thesis.get("degree") else "")
        text += "".join(f"--{p}" for p in (thesis.get("institution"), year) if p)
        out.append(f'<note type="thesis">{escape_text(text)}</note>')
    for funding in record.get("funding", []):
        out.append(funding_note(funding))
    return out


def funding_note(funding: dict[str, Any]) -> str:
    parts = [funding["funder"]]
    if funding.get("award_number"):
        parts.append(f"award {funding['award_number']}")
    if funding.get("award_title"):
        parts.append(funding["award_title"])
    uri = funding.get("project_uri")
    link = f' xlink:href="{escape_attr(uri)}"' if uri and accepts_any_uri(uri) else ""
    if uri:
        parts.append(uri)
    return f'<note type="funding"{link}>{escape_text("; ".join(parts))}</note>'


def subjects(record: Record) -> list[str]:
    out, classes = [], []
    for subject in record.get("subjects", []):
        scheme = subject.get("scheme")
        auth = f' authority="{scheme}"' if scheme else ""
        out.append(f"<subject{auth}><topic>{escape_text(subject['text'])}</topic></subject>")
        if subject.get("code"):
            classes.append(f'<classification authority="{scheme or "local"}">'
                           f"{escape_text(subject['code'])}</classification>")
    out.extend(f"<subject><topic>{escape_text(k)}</topic></subject>"
               for k in record.get("keywords", []))
    return out + classes


def identifiers(record: Record) -> list[str]:
    out = []
    if record.get("doi"):
        out.append(f'<identifier type="doi">{escape_text(record["doi"])}</identifier>')
    if record.get("url"):
        out.append(f'<identifier type="uri">{escape_text(record["url"])}</identifier>')
    if not (record["type"] == "book_section" and record.get("book")):  # then the book's
        out.extend(f'<identifier type="isbn">{escape_text(i)}</identifier>'
                   for i in record.get("isbn", []))
    for ident in record.get("identifiers", []):
        out.append(f'<identifier type="{IDENTIFIER_TYPES[ident["scheme"]]}">'
                   f"{escape_text(ident['value'])}</identifier>")
    return out


def file_note(file: dict[str, Any]) -> str:
    label = VERSION_LABELS.get(file.get("version") or "")
    parts = [label] if label else []
    parts.append(file["mime_type"])
    if file.get("size") is not None:
        parts.append(f"{file['size']} bytes")
    if file.get("licence"):
        parts.append(f"licence {file['licence']}")
    if file.get("licence_start"):
        parts.append(f"licence from {file['licence_start']}")
    if file.get("access"):
        parts.append(f"{file['access']} access")
    if file.get("embargo_end"):
        parts.append(f"embargoed until {file['embargo_end']}")
    return "; ".join(parts)


def location(record: Record) -> str:
    urls = []
    if record.get("url") and accepts_any_uri(record["url"]):
        urls.append(f'<url access="object in context" usage="primary display">'
                    f"{escape_text(record['url'])}</url>")
    for file in record.get("files", []):
        if accepts_any_uri(file["url"]):
            label = f' displayLabel="{escape_attr(file["name"])}"' if file.get("name") else ""
            urls.append(f'<url access="raw object"{label} note="{escape_attr(file_note(file))}">'
                        f"{escape_text(file['url'])}</url>")
    if record.get("doi"):
        doi_url = f"https://doi.org/{record['doi']}"
        if accepts_any_uri(doi_url):
            urls.append(f'<url displayLabel="DOI">{escape_text(doi_url)}</url>')
    return f"<location>{''.join(urls)}</location>" if urls else ""


def access_conditions(record: Record) -> list[str]:
    out = []
    rights = record.get("rights", {})
    licence = rights.get("licence")
    if licence:
        href = f' xlink:href="{escape_attr(licence)}"' if accepts_any_uri(licence) else ""
        out.append(f'<accessCondition type="use and reproduction"{href}>'
                   f"{escape_text(licence_label(licence))}</accessCondition>")
    if rights.get("statement"):
        out.append('<accessCondition type="use and reproduction">'
                   f"{escape_text(rights['statement'])}</accessCondition>")
    if rights.get("holder"):
        out.append('<accessCondition type="use and reproduction" displayLabel="Rights holder">'
                   f"{escape_text(rights['holder'])}</accessCondition>")
    access = record.get("access")
    if access:
        uri, label = coar.access_right(access["status"])
        text = label + (f" until {access['embargo_end']}" if access.get("embargo_end") else "")
        out.append(f'<accessCondition type="restriction on access" xlink:href="{uri}">'
                   f"{escape_text(text)}</accessCondition>")
    return out


def record_info(record: Record) -> str:
    dates = record.get("dates", {})
    out = [f'<recordIdentifier>{escape_text(record["id"])}</recordIdentifier>']
    if dates.get("deposited"):
        out.append(date("recordCreationDate", dates["deposited"]))
    if dates.get("modified"):
        out.append(date("recordChangeDate", dates["modified"]))
    out.append("<recordOrigin>Converted from the repository record (MODS crosswalk of "
               "oai-toolkit)</recordOrigin>")
    return f"<recordInfo>{''.join(out)}</recordInfo>"


def render_mods(record: Record) -> str:
    """The <mods> fragment for a record, top-level elements in the guidelines' order."""
    out = [_OPEN, *titles(record), *names(record)]
    out.append(f"<typeOfResource>{RESOURCE_TYPES.get(record['type'], 'text')}</typeOfResource>")
    out.extend(genres(record))
    out.append(origin_info(record))
    out.extend(languages(record))
    out.append(physical_description(record))
    out.extend(f"<abstract{lang_attr(a.get('lang'))}>{escape_text(a['text'])}</abstract>"
               for a in record.get("abstracts", []))
    out.extend(notes(record))
    out.extend(subjects(record))
    out.extend(related_items(record))
    out.extend(identifiers(record))
    out.append(location(record))
    out.extend(access_conditions(record))
    out.append(record_info(record))
    out.append("</mods>")
    return "".join(out)


def requires(record: Record) -> str | None:
    """MODS asks only for some description; repositories (and the guidelines) want a title."""
    if not any(t.get("text", "").strip() for t in record.get("titles", [])):
        return "MODS needs a title (titleInfo/title)"
    return None
