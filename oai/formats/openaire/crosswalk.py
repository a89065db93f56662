"""Canonical record -> OpenAIRE Guidelines for Literature Repositories v4 (`oai_openaire`).

Written as strings, like oai_dc, in the order of the profile's overview table. The DataCite
properties (titles, people, identifiers, dates, access right, subjects) sit directly under
oaire:resource as the profile has them; COAR concepts give the resource type, access rights
and version; citation details go to the oaire:citation* properties. What is left out and why
is in the README ("OpenAIRE").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from oai.formats import coar
from oai.formats.base import Record
from oai.formats.openaire import vocabulary as v
from oai.formats.openaire.fields import (
    accepted_date,
    embargo_end,
    has_text,
    issued_date,
    primary_identifier,
)
from oai.formats.openaire.languages import iso_639_3
from oai.formats.openaire.licences import licence_name
from oai.formats.openaire.namespaces import DATACITE, DC, DCTERMS, OAIRE, RDF, SCHEMA_URL, XSI
from oai.protocol.xmltext import escape_attr, escape_text

_OPEN = (f'<oaire:resource xmlns:oaire="{OAIRE}" xmlns:datacite="{DATACITE}" '
         f'xmlns:dc="{DC}" xmlns:dcterms="{DCTERMS}" xmlns:rdf="{RDF}" xmlns:xsi="{XSI}" '
         f'xsi:schemaLocation="{OAIRE} {SCHEMA_URL}">')
_CLOSE = "</oaire:resource>"

ORCID = "https://orcid.org"
ROR = "https://ror.org"
_DOI_LIKE = re.compile(r"^10\.\d{4,9}/\S+$")

Attrs = Iterable[tuple[str, str | None]]


def _el(tag: str, text: str, attrs: Attrs = ()) -> str:
    """One element with text; attributes whose value is None or empty are left out."""
    extra = "".join(f' {k}="{escape_attr(a)}"' for k, a in attrs if a)
    return f"<{tag}{extra}>{escape_text(text)}</{tag}>"


def _wrap(tag: str, items: list[str]) -> str:
    return f"<{tag}>{''.join(items)}</{tag}>" if items else ""


def render_openaire(record: Record) -> str:
    """The oaire:resource fragment for a record `requires` accepts."""
    parts = [
        _OPEN,
        _titles(record),
        _wrap("datacite:creators", [_agent("creator", a) for a in record.get("creators", [])
                                    if has_text(a["name"])]),
        _contributors(record),
        _funding(record),
        _wrap("datacite:alternateIdentifiers", _alternate_identifiers(record)),
        _wrap("datacite:relatedIdentifiers", _related_identifiers(record)),
        _dates(record),
    ]
    add = parts.append
    for lang in dict.fromkeys(iso_639_3(t) for t in record.get("languages", [])):
        add(_el("dc:language", lang))
    publisher = _publisher(record)
    if publisher:
        add(_el("dc:publisher", publisher))
    uri, label = coar.resource_type(record)
    add(_el("oaire:resourceType", label, (
        ("resourceTypeGeneral", v.RESOURCE_TYPE_GENERAL.get(record["type"], v.LITERATURE)),
        ("uri", uri))))
    for abstract in record.get("abstracts", []):
        if has_text(abstract["text"]):
            add(_el("dc:description", abstract["text"], (("xml:lang", abstract.get("lang")),)))
    for note in record.get("notes", []):
        if has_text(note):
            add(_el("dc:description", note))
    files = record.get("files", [])
    for mime in dict.fromkeys(f["mime_type"] for f in files):
        add(_el("dc:format", mime))
    identifier = primary_identifier(record)
    if identifier:
        add(_el("datacite:identifier", identifier[0], (("identifierType", identifier[1]),)))
    status = (record.get("access") or {}).get("status")
    if status:
        uri, label = coar.access_right(status)
        add(_el("datacite:rights", label, (("rightsURI", uri),)))
    add(_wrap("datacite:subjects", _subjects(record)))
    add(_licence(record))
    add(_wrap("datacite:sizes", _sizes(record)))
    version = next((f["version"] for f in files if f.get("version")), None)
    if version:
        uri, label = coar.version(version)
        add(_el("oaire:version", label, (("uri", uri),)))
    object_type = v.OBJECT_TYPES.get(record["type"], v.FULLTEXT)
    for file in files:
        access = coar.access_right(file["access"])[0] if file.get("access") else None
        add(_el("oaire:file", file["url"], (("accessRightsURI", access),
                                            ("mimeType", file["mime_type"]),
                                            ("objectType", object_type))))
    parts.extend(_citation(record))
    add(_CLOSE)
    return "".join(parts)


def _titles(record: Record) -> str:
    return _wrap("datacite:titles", [
        _el("datacite:title", t["text"], (("titleType", v.TITLE_TYPES.get(t.get("kind", ""))),
                                          ("xml:lang", t.get("lang"))))
        for t in record["titles"] if has_text(t["text"])])


def _agent(role: str, agent: Record, contributor_type: str | None = None) -> str:
    """A datacite:creator or datacite:contributor: name, given and family name, ORCID,
    affiliations (with their ROR)."""
    kind = agent.get("kind", "person")
    out = [f'<datacite:{role}{_attr("contributorType", contributor_type)}>',
           _el(f"datacite:{role}Name", agent["name"], (("nameType", v.NAME_TYPES[kind]),))]
    if kind == "person":
        if has_text(agent.get("given")):
            out.append(_el("datacite:givenName", agent["given"]))
        if has_text(agent.get("family")):
            out.append(_el("datacite:familyName", agent["family"]))
    if agent.get("orcid"):
        out.append(_el("datacite:nameIdentifier", f"{ORCID}/{agent['orcid']}", (
            ("nameIdentifierScheme", "ORCID"), ("schemeURI", ORCID))))
    for aff in agent.get("affiliations", []):
        ror = aff.get("ror")
        out.append(_el("datacite:affiliation", aff["name"], (
            ("affiliationIdentifier", ror), ("affiliationIdentifierScheme", ror and "ROR"),
            ("schemeURI", ror and ROR))))
    out.append(f"</datacite:{role}>")
    return "".join(out)


def _attr(name: str, value: str | None) -> str:
    return f' {name}="{escape_attr(value)}"' if value else ""


def _contributors(record: Record) -> str:
    people = [(c, v.CONTRIBUTOR_TYPES.get(c.get("role", "other"), "Other"))
              for c in record.get("contributors", [])]
    people += [(e, "Editor") for e in (record.get("book") or {}).get("editors", [])]
    return _wrap("datacite:contributors", [_agent("contributor", person, kind)
                                           for person, kind in people if has_text(person["name"])])


def _funding(record: Record) -> str:
    refs = []
    for fund in record.get("funding", []):
        if not has_text(fund["funder"]):
            continue
        out = ["<oaire:fundingReference>", _el("oaire:funderName", fund["funder"])]
        if fund.get("funder_id"):
            value, kind = v.funder_identifier(fund["funder_id"])
            out.append(_el("oaire:funderIdentifier", value, (("funderIdentifierType", kind),)))
        if fund.get("award_number"):
            out.append(_el("oaire:awardNumber", fund["award_number"],
                           (("awardURI", fund.get("project_uri")),)))
        if has_text(fund.get("award_title")):
            out.append(_el("oaire:awardTitle", fund["award_title"]))
        out.append("</oaire:fundingReference>")
        refs.append("".join(out))
    return _wrap("oaire:fundingReferences", refs)


def _alternate_identifiers(record: Record) -> list[str]:
    """Other identifiers of the same work: the DOI (bare, as in the profile's sample), the
    landing page, the record's other identifiers, its own ISBNs."""
    primary = primary_identifier(record)
    source = primary[2] if primary else None
    found: list[tuple[str, str]] = []
    if record.get("doi") and source != "doi":
        found.append((record["doi"], "DOI"))
    if record.get("url") and source != "url":
        found.append((record["url"], "URL"))
    found += [(i["value"], v.ALTERNATE_IDENTIFIER_TYPES[i["scheme"]])
              for i in record.get("identifiers", []) if i is not source]
    found += [(isbn, "ISBN") for isbn in record.get("isbn", [])]
    return [_el("datacite:alternateIdentifier", value, (("alternateIdentifierType", kind),))
            for value, kind in dict.fromkeys(found) if has_text(value)]


def _related_identifiers(record: Record) -> list[str]:
    """Relations, and the containers the work is part of (journal, book, series) by their
    ISSN / ISBN."""
    found: list[tuple[str, str, str]] = []
    for rel in record.get("relations", []):
        kind = _related_type(rel["identifier"], rel.get("scheme"))
        if kind:
            found.append((rel["identifier"], kind, v.RELATION_TYPES[rel["kind"]]))
    journal = record.get("journal") or {}
    for key, kind in (("issn", "ISSN"), ("eissn", "EISSN")):
        if journal.get(key):
            found.append((journal[key], kind, "IsPartOf"))
    found += [(isbn, "ISBN", "IsPartOf") for isbn in (record.get("book") or {}).get("isbn", [])]
    series_issn = (record.get("series") or {}).get("issn")
    if series_issn:
        found.append((series_issn, "ISSN", "IsPartOf"))
    return [_el("datacite:relatedIdentifier", value, (("relatedIdentifierType", kind),
                                                      ("relationType", relation)))
            for value, kind, relation in dict.fromkeys(found) if has_text(value)]


def _related_type(identifier: str, scheme: str | None) -> str | None:
    """The relatedIdentifierType of a relation: its scheme's, else what the identifier looks
    like (a DOI, a URL, a URN); None when it cannot be told (left out: the type is required)."""
    if scheme:
        return v.RELATED_IDENTIFIER_TYPES[scheme]
    if _DOI_LIKE.match(identifier):
        return "DOI"
    lowered = identifier.lower()
    if lowered.startswith(("http://", "https://")):
        return "URL"
    if lowered.startswith("urn:"):
        return "URN"
    return None


def _dates(record: Record) -> str:
    """Acceptance (the embargo's start), end of the embargo (Available), publication (Issued)."""
    out = []
    accepted = accepted_date(record)
    if accepted:
        out.append(_el("datacite:date", accepted, (("dateType", "Accepted"),)))
    end = embargo_end(record)
    if end:
        out.append(_el("datacite:date", end, (("dateType", "Available"),)))
    issued = issued_date(record)
    if issued:
        out.append(_el("datacite:date", issued, (("dateType", "Issued"),)))
    return _wrap("datacite:dates", out)


def _publisher(record: Record) -> str | None:
    """The publisher; for a thesis without one, the awarding university followed by its
    department, as the profile asks for university publications."""
    if has_text(record.get("publisher")):
        return str(record["publisher"])
    thesis = record.get("thesis") or {}
    names = [str(thesis[k]) for k in ("institution", "department") if has_text(thesis.get(k))]
    return ". ".join(names) or None


def _subjects(record: Record) -> list[str]:
    out = []
    for subject in record.get("subjects", []):
        scheme = subject.get("scheme")
        name, scheme_uri = v.SUBJECT_SCHEMES.get(scheme or "", (None, None))
        text, code, value_uri = subject["text"], subject.get("code"), None
        if code and scheme == "mesh":
            value_uri = v.MESH_DESCRIPTOR + code
        elif code and scheme not in v.THESAURI and not text.startswith(code):
            text = f"{code} {text}"  # a classification's notation and caption
        if has_text(text):
            out.append(_el("datacite:subject", text, (
                ("subjectScheme", name), ("schemeURI", scheme_uri), ("valueURI", value_uri))))
    out += [_el("datacite:subject", k) for k in record.get("keywords", []) if has_text(k)]
    return out


def _licence(record: Record) -> str:
    """One licence condition: the record's licence, else its first file's, with the date it
    starts to apply."""
    rights = record.get("rights") or {}
    url, start = rights.get("licence"), rights.get("licence_start")
    if not url:
        file = next((f for f in record.get("files", []) if f.get("licence")), None)
        if file is None:
            return ""
        url, start = file["licence"], file.get("licence_start")
    return _el("oaire:licenseCondition", licence_name(url), (("startDate", start), ("uri", url)))


def _sizes(record: Record) -> list[str]:
    count = (record.get("pages") or {}).get("count")
    out = [_el("datacite:size", f"{count} pages")] if count else []
    out += [_el("datacite:size", f"{f['size']} bytes") for f in record.get("files", [])
            if f.get("size") is not None]
    return out


def _citation(record: Record) -> list[str]:
    """Where the work was published: the journal, else the book, else the conference, else
    the series; volume, issue and pages; the conference's place and dates."""
    journal = record.get("journal") or {}
    book = record.get("book") or {}
    event = record.get("event") or {}
    series = record.get("series") or {}
    out = []
    container = journal.get("title") or book.get("title") or event.get("name") or series.get(
        "title")
    if container:
        out.append(_el("oaire:citationTitle", container))
    volume = journal.get("volume") if journal else (None if book or event else
                                                     series.get("number"))
    if volume:
        out.append(_el("oaire:citationVolume", volume))
    if journal.get("issue"):
        out.append(_el("oaire:citationIssue", journal["issue"]))
    pages = record.get("pages") or {}
    if pages.get("start"):
        out.append(_el("oaire:citationStartPage", pages["start"]))
    if pages.get("end"):
        out.append(_el("oaire:citationEndPage", pages["end"]))
    if event.get("place"):
        out.append(_el("oaire:citationConferencePlace", event["place"]))
    start, end = event.get("start"), event.get("end")
    if start:
        when = f"{start} - {end}" if end and end != start else start
        out.append(_el("oaire:citationConferenceDate", when))
    return out
