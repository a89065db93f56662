"""Canonical record -> unqualified Dublin Core (`oai_dc`), the format every repository must serve.

Follows common repository practice (EPrints, DSpace, DRIVER guidelines): one dc:identifier for
the landing page, the DOI as a resolvable URL, each file's URL, and a citation; types both as
a label and as an info:eu-repo/semantics URI; access and licence in dc:rights.
"""

from __future__ import annotations

from oai.formats.base import Format
from oai.formats.common import (
    EU_REPO_ACCESS,
    EU_REPO_TYPES,
    EU_REPO_VERSIONS,
    TYPE_LABELS,
    Record,
    citation,
    element,
    thesis_eu_type,
)
from oai.paths import schema_dir
from oai.protocol.namespaces import DC, OAI_DC, OAI_DC_SCHEMA_URL, XSI

_OPEN = (
    f'<oai_dc:dc xmlns:oai_dc="{OAI_DC}" xmlns:dc="{DC}" xmlns:xsi="{XSI}" '
    f'xsi:schemaLocation="{OAI_DC} {OAI_DC_SCHEMA_URL}">'
)
_CLOSE = "</oai_dc:dc>"


def render_oai_dc(record: Record) -> str:
    """The oai_dc:dc fragment for a record (elements in the schema's usual order)."""
    out: list[str] = [_OPEN]
    add = out.append
    for title in record["titles"]:
        add(element("dc:title", title["text"], title.get("lang")))
    for creator in record.get("creators", []):
        add(element("dc:creator", creator["name"]))
    for subject in record.get("subjects", []):
        add(element("dc:subject", subject["text"]))
    for keyword in record.get("keywords", []):
        add(element("dc:subject", keyword))
    for abstract in record.get("abstracts", []):
        add(element("dc:description", abstract["text"], abstract.get("lang")))
    for note in record.get("notes", []):
        add(element("dc:description", note))
    if record.get("publisher"):
        add(element("dc:publisher", record["publisher"]))
    elif record.get("thesis", {}).get("institution"):
        add(element("dc:publisher", record["thesis"]["institution"]))
    for contributor in record.get("contributors", []):
        add(element("dc:contributor", contributor["name"]))
    for editor in record.get("book", {}).get("editors", []):
        add(element("dc:contributor", editor["name"]))
    dates = record.get("dates", {})
    for key in ("published", "awarded", "created"):
        if dates.get(key):
            add(element("dc:date", dates[key]))
            break
    if dates.get("accepted"):
        add(element("dc:date", f"info:eu-repo/date/accepted/{dates['accepted']}"))
    kind = record["type"]
    add(element("dc:type", TYPE_LABELS[kind]))
    eu_type = thesis_eu_type(record) if kind == "thesis" else EU_REPO_TYPES[kind]
    add(element("dc:type", f"info:eu-repo/semantics/{eu_type}"))
    if record.get("peer_reviewed"):
        add(element("dc:type", "PeerReviewed"))
    versions = {EU_REPO_VERSIONS[f["version"]] for f in record.get("files", [])
                if f.get("version") in EU_REPO_VERSIONS}
    for version in sorted(versions):
        add(element("dc:type", f"info:eu-repo/semantics/{version}"))
    for mime in sorted({f["mime_type"] for f in record.get("files", [])}):
        add(element("dc:format", mime))
    if record.get("url"):
        add(element("dc:identifier", record["url"]))
    for file in record.get("files", []):
        add(element("dc:identifier", file["url"]))
    if record.get("doi"):
        add(element("dc:identifier", f"https://doi.org/{record['doi']}"))
    for ident in record.get("identifiers", []):
        add(element("dc:identifier", ident["value"]))
    add(element("dc:identifier", citation(record)))
    journal = record.get("journal")
    if journal:
        add(element("dc:source", journal["title"]))
        for key in ("issn", "eissn"):
            if journal.get(key):
                add(element("dc:source", f"ISSN: {journal[key]}"))
    for isbn in record.get("isbn", []) + record.get("book", {}).get("isbn", []):
        add(element("dc:source", f"ISBN: {isbn}"))
    for lang in record.get("languages", []):
        add(element("dc:language", lang))
    if record.get("doi"):
        add(element("dc:relation", f"https://doi.org/{record['doi']}"))
    for relation in record.get("relations", []):
        add(element("dc:relation", relation["identifier"]))
    for funding in record.get("funding", []):
        if funding.get("award_number"):
            add(element("dc:relation", f"info:eu-repo/grantAgreement/{funding['funder']}/"
                                       f"{funding['award_number']}"))
    access = record.get("access", {})
    if access.get("status"):
        add(element("dc:rights", f"info:eu-repo/semantics/{EU_REPO_ACCESS[access['status']]}"))
    if access.get("embargo_end"):
        add(element("dc:date", f"info:eu-repo/date/embargoEnd/{access['embargo_end']}"))
    rights = record.get("rights", {})
    for key in ("licence", "statement"):
        if rights.get(key):
            add(element("dc:rights", rights[key]))
    add(_CLOSE)
    return "".join(out)


FORMAT = Format(
    prefix="oai_dc", namespace=OAI_DC, schema_location=OAI_DC_SCHEMA_URL, version="1",
    catalog=schema_dir() / "oai_dc" / "catalog.xml", crosswalk=render_oai_dc,
    label="Dublin Core (unqualified)")
