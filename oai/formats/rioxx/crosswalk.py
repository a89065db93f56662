"""Canonical record -> RIOXX v3.0 (`rioxx`).

Written as strings, like oai_dc and OpenAIRE, in the order of the profile's example records.
Each file the repository holds is a dc:relation rel="item" with the profile's attributes (media
type, COAR resource type and version, deposit and exposure dates, COAR access right, licence);
the DOI and the record's relations are outside the repository's custody, so they are
rioxxterms:ext_relation; funding is rioxxterms:grant (and rioxxterms:project for a project
URI). What is left out and why is in the README ("RIOXX").

Free text goes through `esc` (escaping, and removal of characters XML cannot carry; an element
whose text is then blank is left out); URIs through `_uri`. Values the record schema already
restricts to plain characters (dates, ORCID iDs, ISSNs, media types, language tags) and
vocabulary terms are written as they are: this is the hot path of every record write.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from oai.formats import coar
from oai.formats.base import Record
from oai.formats.openaire.vocabulary import funder_identifier
from oai.formats.rioxx.fields import accepted, landing_page, title
from oai.formats.rioxx.namespaces import DC, DCTERMS, RIOXX, RIOXXTERMS, SCHEMA_URL, XSI
from oai.protocol.xmltext import escape_attr as attr
from oai.protocol.xmltext import escape_text as esc

_OPEN = (f'<rioxx xmlns="{RIOXX}" xmlns:rioxxterms="{RIOXXTERMS}" xmlns:dc="{DC}" '
         f'xmlns:dcterms="{DCTERMS}" xmlns:xsi="{XSI}" '
         f'xsi:schemaLocation="{RIOXX} {SCHEMA_URL}">')
_CLOSE = "</rioxx>"

# publications have a version of record (coar_version on the DOI's ext_relation)
_PUBLICATIONS = {"article", "book", "book_section", "conference_item", "report",
                 "working_paper", "thesis"}
_SAME_WORK = {"is_version_of", "has_version", "is_identical_to", "is_previous_version_of",
              "is_new_version_of"}
_OTHER_TYPE = coar.RESOURCE_TYPE + coar.RESOURCE_TYPES["other"][0]
_URI_RESOLVERS = {"doi": "https://doi.org/", "handle": "https://hdl.handle.net/",
                  "arxiv": "https://arxiv.org/abs/",
                  "pmid": "https://pubmed.ncbi.nlm.nih.gov/", "isbn": "urn:isbn:",
                  "issn": "urn:issn:"}
_PLAIN_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]+$")
_DOI_LIKE = re.compile(r"^10\.\d{4,9}/\S+$")


def _uri(value: str) -> str:
    """`value` as an escaped xs:anyURI: characters URIs cannot carry (spaces, brackets,
    non-ASCII) percent-encoded."""
    value = value.strip()
    if not _PLAIN_URI.match(value):
        value = quote(value, safe="-._~:/?#@!$&'()*+,;=%")
    return attr(value)


def render_rioxx(record: Record) -> str:
    """The rioxx fragment for a record `requires` accepts."""
    out = [_OPEN]
    add = out.append
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
    for lang in dict.fromkeys(record.get("languages", [])):
        add(f"<dc:language>{lang}</dc:language>")
    publisher = _publisher(record)
    if publisher:
        add(f"<rioxxterms:publisher><rioxxterms:name>{publisher}</rioxxterms:name>"
            "</rioxxterms:publisher>")
    source = _source(record)
    if source:
        add(f"<dc:source>{source}</dc:source>")
    add(f"<dc:title>{esc(title(record) or '')}</dc:title>")
    add(f"<dcterms:dateAccepted>{accepted(record)}</dcterms:dateAccepted>")
    first = True
    for creator in record.get("creators", []):
        party = _party(creator)
        if party:
            flag = ' first-named-author="true"' if first else ""
            add(f"<rioxxterms:creator{flag}>{party}</rioxxterms:creator>")
            first = False
    for contributor in [*record.get("contributors", []),
                        *(record.get("book") or {}).get("editors", [])]:
        party = _party(contributor)
        if party:
            add(f"<rioxxterms:contributor>{party}</rioxxterms:contributor>")
    dates = record.get("dates") or {}
    published = dates.get("published") or dates.get("published_online") or dates.get("awarded")
    if published:
        add(f"<rioxxterms:publication_date>{published}</rioxxterms:publication_date>")
    deposited = _deposit_date(record)
    if deposited:
        add(f"<rioxxterms:record_public_release_date>{deposited}"
            "</rioxxterms:record_public_release_date>")
    type_uri = coar.resource_type(record)[0]
    add(f"<dc:type>{type_uri}</dc:type>")
    for subject in record.get("subjects", []):
        text = esc(subject["text"])
        if text.strip():
            add(f"<dc:subject>{text}</dc:subject>")
    for keyword in record.get("keywords", []):
        text = esc(keyword)
        if text.strip():
            add(f"<dc:subject>{text}</dc:subject>")
    out += _grants(record)
    add(f"<dc:identifier>{_uri(landing_page(record) or '')}</dc:identifier>")
    out += _files(record, type_uri, deposited)
    out += _external(record, type_uri)
    add(_CLOSE)
    return "".join(out)


def _party(agent: Record) -> str:
    """rioxxterms:name and the ORCID iD as rioxxterms:id; "" for a blank name."""
    name = esc(agent["name"])
    if not name.strip():
        return ""
    orcid = (f"<rioxxterms:id>https://orcid.org/{agent['orcid']}</rioxxterms:id>"
             if agent.get("orcid") else "")
    return f"<rioxxterms:name>{name}</rioxxterms:name>{orcid}"


def _publisher(record: Record) -> str:
    """The publisher (escaped); for a thesis without one, the awarding institution."""
    for text in (record.get("publisher"), (record.get("thesis") or {}).get("institution")):
        cleaned = esc(text or "")
        if cleaned.strip():
            return cleaned
    return ""


def _source(record: Record) -> str:
    """dc:source, at most one: the larger resource's identifier, an electronic ISSN first,
    then the print ISSN, the book's ISBN (a chapter), the series' ISSN."""
    journal = record.get("journal") or {}
    isbns = (record.get("book") or {}).get("isbn") or []
    found = (journal.get("eissn") or journal.get("issn") or (isbns[0] if isbns else None)
             or (record.get("series") or {}).get("issn"))
    return esc(found) if found and esc(found).strip() else ""


def _deposit_date(record: Record) -> str | None:
    dates = record.get("dates") or {}
    found = [d for d in (dates.get("deposited"), dates.get("first_compliant_deposit")) if d]
    return min(found) if found else None


def _grants(record: Record) -> list[str]:
    """A rioxxterms:grant per award (the grant ID is its content: a funding entry without
    an award number has none to give), a rioxxterms:project per project URI."""
    out = []
    for fund in record.get("funding", []):
        award = esc(fund.get("award_number", ""))
        if award.strip():
            name = attr(fund["funder"]).strip()
            attrs = f' funder_name="{name}"' if name else ""
            if fund.get("funder_id"):
                attrs += f' funder_id="{_uri(funder_identifier(fund["funder_id"])[0])}"'
            out.append(f"<rioxxterms:grant{attrs}>{award}</rioxxterms:grant>")
    for fund in record.get("funding", []):
        if fund.get("project_uri"):
            out.append(f"<rioxxterms:project>{_uri(fund['project_uri'])}</rioxxterms:project>")
    return out


def _files(record: Record, type_uri: str, deposited: str | None) -> list[str]:
    """A dc:relation rel="item" per file, with the profile's attributes."""
    out = []
    access = record.get("access") or {}
    licence = (record.get("rights") or {}).get("licence")
    for file in record.get("files", []):
        attrs = [f'rel="item" type="{file["mime_type"]}" coar_type="{type_uri}"']
        if file.get("version"):
            attrs.append(f'coar_version="{coar.version(file["version"])[0]}"')
        if deposited:
            attrs.append(f'deposit_date="{deposited}"')
        status = file.get("access") or access.get("status")
        exposed = _exposed(file, status, access, deposited)
        if exposed:
            attrs.append(f'resource_exposed_date="{exposed}"')
        if status:
            attrs.append(f'access_rights="{coar.access_right(status)[0]}"')
        licensed = file.get("licence") or licence
        if licensed:
            attrs.append(f'license_ref="{_uri(licensed)}"')
        out.append(f"<dc:relation {' '.join(attrs)}>{esc(file['url'])}</dc:relation>")
    for ident in record.get("identifiers", []):
        if ident["scheme"] in ("handle", "urn", "ark"):
            value = ident["value"]
            if ident["scheme"] == "handle" and not value.lower().startswith("http"):
                value = _URI_RESOLVERS["handle"] + value
            out.append(f'<dc:relation rel="cite-as">{esc(value)}</dc:relation>')
    return out


def _exposed(file: Record, status: str | None, access: Record,
             deposited: str | None) -> str | None:
    """When the file was (or will be) publicly available: the end of its embargo; for an
    open file, its deposit, or the start of its licence when that is later."""
    if status == "embargoed":
        return file.get("embargo_end") or access.get("embargo_end")
    if status != "open":
        return None
    starts = [d for d in (deposited, file.get("licence_start")) if d]
    return max(starts) if starts else None


def _external(record: Record, type_uri: str) -> list[str]:
    """rioxxterms:ext_relation rel="cite-as": the DOI (the version of record, for a
    publication), then each relation that resolves to a URI."""
    out = []
    if record.get("doi"):
        version = (f' coar_version="{coar.version("VoR")[0]}"'
                   if record["type"] in _PUBLICATIONS else "")
        out.append(f'<rioxxterms:ext_relation rel="cite-as" coar_type="{type_uri}"{version}>'
                   f'{_uri(_URI_RESOLVERS["doi"] + record["doi"])}</rioxxterms:ext_relation>')
    for rel in record.get("relations", []):
        uri = _relation_uri(rel["identifier"], rel.get("scheme"))
        if uri:
            kind = type_uri if rel["kind"] in _SAME_WORK else _OTHER_TYPE
            out.append(f'<rioxxterms:ext_relation rel="cite-as" coar_type="{kind}">{_uri(uri)}'
                       "</rioxxterms:ext_relation>")
    return out


def _relation_uri(identifier: str, scheme: str | None) -> str | None:
    """The relation's identifier as a URI: resolvable for DOIs, handles, arXiv and PubMed
    ids, a URN for ISBNs and ISSNs; None when it cannot be told."""
    identifier = identifier.strip()
    lowered = identifier.lower()
    if lowered.startswith(("http://", "https://", "urn:")):
        return identifier
    if scheme is None and _DOI_LIKE.match(identifier):
        scheme = "doi"
    if scheme in _URI_RESOLVERS:
        return _URI_RESOLVERS[scheme] + identifier
    return None
