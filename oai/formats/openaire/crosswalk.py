"""Canonical record -> OpenAIRE Guidelines for Literature Repositories v4 (`oai_openaire`).

Written as strings, like oai_dc, in the order of the profile's overview table. The DataCite
properties (titles, people, identifiers, dates, access right, subjects) sit directly under
oaire:resource as the profile has them; COAR concepts give the resource type, access rights
and version; citation details go to the oaire:citation* properties. What is left out and why
is in the README ("OpenAIRE").

Every free text goes through `esc` (escaping, and removal of characters XML cannot carry; an
element whose text is then blank is left out). Values the record schema already restricts to
plain characters (dates, ORCID iDs, ISSNs, media types, language tags) and the vocabularies'
terms are written as they are: they are most of the elements, and this is the hot path of
every record write.
"""

from __future__ import annotations

import re

from oai.formats import coar
from oai.formats.base import Record
from oai.formats.openaire import vocabulary as v
from oai.formats.openaire.fields import (
    accepted_date,
    embargo_end,
    issued_date,
    primary_identifier,
)
from oai.formats.openaire.languages import iso_639_3
from oai.formats.openaire.licences import licence_name
from oai.formats.openaire.namespaces import DATACITE, DC, DCTERMS, OAIRE, RDF, SCHEMA_URL, XSI
from oai.protocol.xmltext import escape_attr as attr
from oai.protocol.xmltext import escape_text as esc

_OPEN = (f'<oaire:resource xmlns:oaire="{OAIRE}" xmlns:datacite="{DATACITE}" '
         f'xmlns:dc="{DC}" xmlns:dcterms="{DCTERMS}" xmlns:rdf="{RDF}" xmlns:xsi="{XSI}" '
         f'xsi:schemaLocation="{OAIRE} {SCHEMA_URL}">')
_CLOSE = "</oaire:resource>"

ORCID = "https://orcid.org"
_ORCID_ID = f'<datacite:nameIdentifier nameIdentifierScheme="ORCID" schemeURI="{ORCID}">{ORCID}/'
_ROR_ATTRS = 'affiliationIdentifierScheme="ROR" schemeURI="https://ror.org"'
_DOI_LIKE = re.compile(r"^10\.\d{4,9}/\S+$")


def _wrap(tag: str, items: list[str]) -> str:
    return f"<{tag}>{''.join(items)}</{tag}>" if items else ""


def render_openaire(record: Record) -> str:
    """The oaire:resource fragment for a record `requires` accepts."""
    files = record.get("files", [])
    identifier = primary_identifier(record)
    out = [_OPEN, _titles(record), _people(record), _funding(record),
           _wrap("datacite:alternateIdentifiers", _alternate_identifiers(record, identifier)),
           _wrap("datacite:relatedIdentifiers", _related_identifiers(record)), _dates(record)]
    add = out.append
    for lang in dict.fromkeys(iso_639_3(t) for t in record.get("languages", [])):
        add(f"<dc:language>{lang}</dc:language>")
    publisher = _publisher(record)
    if publisher:
        add(f"<dc:publisher>{publisher}</dc:publisher>")
    uri, label = coar.resource_type(record)
    general = v.RESOURCE_TYPE_GENERAL.get(record["type"], v.LITERATURE)
    add(f'<oaire:resourceType resourceTypeGeneral="{general}" uri="{uri}">{label}'
        "</oaire:resourceType>")
    for abstract in record.get("abstracts", []):
        text = esc(abstract["text"])
        if text.strip():
            lang = abstract.get("lang")
            add(f'<dc:description xml:lang="{lang}">{text}</dc:description>' if lang else
                f"<dc:description>{text}</dc:description>")
    for note in record.get("notes", []):
        text = esc(note)
        if text.strip():
            add(f"<dc:description>{text}</dc:description>")
    for mime in dict.fromkeys(f["mime_type"] for f in files):
        add(f"<dc:format>{mime}</dc:format>")
    if identifier:
        add(f'<datacite:identifier identifierType="{identifier[1]}">{esc(identifier[0])}'
            "</datacite:identifier>")
    status = (record.get("access") or {}).get("status")
    if status:
        uri, label = coar.access_right(status)
        add(f'<datacite:rights rightsURI="{uri}">{label}</datacite:rights>')
    add(_wrap("datacite:subjects", _subjects(record)))
    add(_licence(record))
    add(_wrap("datacite:sizes", _sizes(record)))
    version = next((f["version"] for f in files if f.get("version")), None)
    if version:
        uri, label = coar.version(version)
        add(f'<oaire:version uri="{uri}">{label}</oaire:version>')
    object_type = v.OBJECT_TYPES.get(record["type"], v.FULLTEXT)
    for file in files:
        access = (f' accessRightsURI="{coar.access_right(file["access"])[0]}"'
                  if file.get("access") else "")
        add(f'<oaire:file{access} mimeType="{file["mime_type"]}" objectType="{object_type}">'
            f'{esc(file["url"])}</oaire:file>')
    out += _citation(record)
    add(_CLOSE)
    return "".join(out)


def _titles(record: Record) -> str:
    out = []
    for title in record["titles"]:
        text = esc(title["text"])
        if not text.strip():
            continue
        kind = v.TITLE_TYPES.get(title.get("kind", ""))
        lang = title.get("lang")
        attrs = (f' titleType="{kind}"' if kind else "") + (f' xml:lang="{lang}"' if lang
                                                            else "")
        out.append(f"<datacite:title{attrs}>{text}</datacite:title>")
    return _wrap("datacite:titles", out)


def _people(record: Record) -> str:
    """Creators; contributors with their DataCite type, and the editors of the book a
    chapter is part of."""
    creators = [_agent("creator", agent, "") for agent in record.get("creators", [])]
    others = [_agent("contributor", c, v.CONTRIBUTOR_TYPES.get(c.get("role", "other"), "Other"))
              for c in record.get("contributors", [])]
    others += [_agent("contributor", e, "Editor")
               for e in (record.get("book") or {}).get("editors", [])]
    return (_wrap("datacite:creators", [c for c in creators if c])
            + _wrap("datacite:contributors", [c for c in others if c]))


def _agent(role: str, agent: Record, contributor_type: str) -> str:
    """A datacite:creator or datacite:contributor: name, given and family name, ORCID,
    affiliations (with their ROR); "" for a name that is blank once cleaned."""
    name = esc(agent["name"])
    if not name.strip():
        return ""
    kind = agent.get("kind", "person")
    typed = f' contributorType="{contributor_type}"' if contributor_type else ""
    out = [f'<datacite:{role}{typed}><datacite:{role}Name nameType="{v.NAME_TYPES[kind]}">'
           f"{name}</datacite:{role}Name>"]
    if kind == "person":
        given, family = esc(agent.get("given", "")), esc(agent.get("family", ""))
        if given.strip():
            out.append(f"<datacite:givenName>{given}</datacite:givenName>")
        if family.strip():
            out.append(f"<datacite:familyName>{family}</datacite:familyName>")
    if agent.get("orcid"):
        out.append(f"{_ORCID_ID}{agent['orcid']}</datacite:nameIdentifier>")
    for aff in agent.get("affiliations", []):
        ror = aff.get("ror")
        ids = f' affiliationIdentifier="{attr(ror)}" {_ROR_ATTRS}' if ror else ""
        out.append(f"<datacite:affiliation{ids}>{esc(aff['name'])}</datacite:affiliation>")
    out.append(f"</datacite:{role}>")
    return "".join(out)


def _funding(record: Record) -> str:
    refs = []
    for fund in record.get("funding", []):
        funder = esc(fund["funder"])
        if not funder.strip():
            continue
        out = [f"<oaire:fundingReference><oaire:funderName>{funder}</oaire:funderName>"]
        if fund.get("funder_id"):
            value, kind = v.funder_identifier(fund["funder_id"])
            out.append(f'<oaire:funderIdentifier funderIdentifierType="{kind}">{esc(value)}'
                       "</oaire:funderIdentifier>")
        if fund.get("award_number"):
            uri = fund.get("project_uri")
            award_uri = f' awardURI="{attr(uri)}"' if uri else ""
            out.append(f"<oaire:awardNumber{award_uri}>{esc(fund['award_number'])}"
                       "</oaire:awardNumber>")
        title = esc(fund.get("award_title", ""))
        if title.strip():
            out.append(f"<oaire:awardTitle>{title}</oaire:awardTitle>")
        out.append("</oaire:fundingReference>")
        refs.append("".join(out))
    return _wrap("oaire:fundingReferences", refs)


def _alternate_identifiers(record: Record,
                           primary: tuple[str, str, object] | None) -> list[str]:
    """Other identifiers of the same work: the DOI (bare, as in the profile's sample), the
    landing page, the record's other identifiers, its own ISBNs."""
    source = primary[2] if primary else None
    found: list[tuple[str, str]] = []
    if record.get("doi") and source != "doi":
        found.append((record["doi"], "DOI"))
    if record.get("url") and source != "url":
        found.append((record["url"], "URL"))
    found += [(i["value"], v.ALTERNATE_IDENTIFIER_TYPES[i["scheme"]])
              for i in record.get("identifiers", []) if i is not source]
    found += [(isbn, "ISBN") for isbn in record.get("isbn", [])]
    out = []
    for value, kind in dict.fromkeys(found):
        text = esc(value)
        if text.strip():
            out.append(f'<datacite:alternateIdentifier alternateIdentifierType="{kind}">{text}'
                       "</datacite:alternateIdentifier>")
    return out


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
    out = []
    for value, kind, relation in dict.fromkeys(found):
        text = esc(value)
        if text.strip():
            out.append(f'<datacite:relatedIdentifier relatedIdentifierType="{kind}" '
                       f'relationType="{relation}">{text}</datacite:relatedIdentifier>')
    return out


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
        out.append(f'<datacite:date dateType="Accepted">{accepted}</datacite:date>')
    end = embargo_end(record)
    if end:
        out.append(f'<datacite:date dateType="Available">{end}</datacite:date>')
    issued = issued_date(record)
    if issued:
        out.append(f'<datacite:date dateType="Issued">{issued}</datacite:date>')
    return _wrap("datacite:dates", out)


def _publisher(record: Record) -> str:
    """The publisher (escaped); for a thesis without one, the awarding university followed by
    its department, as the profile asks for university publications."""
    publisher = esc(record.get("publisher", ""))
    if publisher.strip():
        return publisher
    thesis = record.get("thesis") or {}
    names = [esc(thesis.get(key, "")) for key in ("institution", "department")]
    return ". ".join(n for n in names if n.strip())


def _subjects(record: Record) -> list[str]:
    out = []
    for subject in record.get("subjects", []):
        scheme = subject.get("scheme") or ""
        text, code = subject["text"], subject.get("code")
        attrs = ""
        if scheme in v.SUBJECT_SCHEMES:
            name, scheme_uri = v.SUBJECT_SCHEMES[scheme]
            attrs = f' subjectScheme="{name}"' + (f' schemeURI="{scheme_uri}"' if scheme_uri
                                                   else "")
        if code and scheme == "mesh":
            attrs += f' valueURI="{attr(v.MESH_DESCRIPTOR + code)}"'
        elif code and scheme not in v.THESAURI and not text.startswith(code):
            text = f"{code} {text}"  # a classification's notation and caption
        cleaned = esc(text)
        if cleaned.strip():
            out.append(f"<datacite:subject{attrs}>{cleaned}</datacite:subject>")
    for keyword in record.get("keywords", []):
        cleaned = esc(keyword)
        if cleaned.strip():
            out.append(f"<datacite:subject>{cleaned}</datacite:subject>")
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
    since = f' startDate="{start}"' if start else ""
    return (f'<oaire:licenseCondition{since} uri="{attr(url)}">{esc(licence_name(url))}'
            "</oaire:licenseCondition>")


def _sizes(record: Record) -> list[str]:
    count = (record.get("pages") or {}).get("count")
    out = [f"<datacite:size>{count} pages</datacite:size>"] if count else []
    out += [f"<datacite:size>{f['size']} bytes</datacite:size>" for f in record.get("files", [])
            if f.get("size") is not None]
    return out


def _citation(record: Record) -> list[str]:
    """Where the work was published: the journal, else the book, else the conference, else
    the series; volume, issue and pages; the conference's place and dates."""
    journal = record.get("journal") or {}
    book = record.get("book") or {}
    event = record.get("event") or {}
    series = record.get("series") or {}
    found = [
        ("citationTitle", journal.get("title") or book.get("title") or event.get("name")
         or series.get("title")),
        ("citationVolume", journal.get("volume") if journal else
         None if book or event else series.get("number")),
        ("citationIssue", journal.get("issue")),
        ("citationStartPage", (record.get("pages") or {}).get("start")),
        ("citationEndPage", (record.get("pages") or {}).get("end")),
        ("citationConferencePlace", event.get("place")),
    ]
    out = [f"<oaire:{tag}>{esc(value)}</oaire:{tag}>" for tag, value in found if value]
    start, end = event.get("start"), event.get("end")
    if start:
        when = f"{start} - {end}" if end and end != start else start
        out.append(f"<oaire:citationConferenceDate>{when}</oaire:citationConferenceDate>")
    return out
