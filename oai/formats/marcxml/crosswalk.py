"""Canonical record -> MARC 21 bibliographic record in MARCXML (`marcxml`).

Follows the MARC 21 Format for Bibliographic Data (field definitions, indicators, subfield
codes) with RDA-style description (relator terms and codes, 264, 336-338) and ISBD
punctuation, as repository-to-catalogue exports do: fixed fields from the record (fixed.py),
names with ORCID URIs in $1, the title with its non-filing indicator, identifiers in 020/024,
notes 5XX (thesis, access, abstract, funding, licence), subjects 650/653, the host item in
773 with a structured citation (host.py), and every file and link in 856.
"""

from __future__ import annotations

from typing import Any

from oai.formats import coar
from oai.formats.base import Record
from oai.formats.loc import RELATORS, VERSION_LABELS, iso639_2b, licence_label, nonfiling
from oai.formats.marcxml.fields import control, end, field, names_in_order
from oai.formats.marcxml.fixed import (
    ELECTRONIC,
    fixed_data,
    latest_transaction,
    leader,
    publication_year,
)
from oai.formats.marcxml.host import host_fields, series_fields
from oai.protocol.namespaces import XSI

MARC = "http://www.loc.gov/MARC21/slim"
MARC_SCHEMA_URL = "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"

_OPEN = (f'<record xmlns="{MARC}" xmlns:xsi="{XSI}" type="Bibliographic" '
         f'xsi:schemaLocation="{MARC} {MARC_SCHEMA_URL}">')

# identifier scheme -> 024 7_ $2 (Standard Identifier Source Codes)
STANDARD_IDENTIFIERS: dict[str, str] = {"handle": "hdl", "urn": "urn", "ark": "ark",
                                        "isni": "isni", "arxiv": "arxiv", "pmid": "pmid",
                                        "pmcid": "pmcid"}
# identifier scheme -> 035 prefix (system control numbers)
SYSTEM_NUMBERS: dict[str, str] = {"local": "", "wos": "(WOS)", "scopus": "(Scopus)"}

# record type -> (336 content type term, code)
CONTENT_TYPES: dict[str, tuple[str, str]] = {"dataset": ("computer dataset", "cod"),
                                             "software": ("computer program", "cop")}


def _orcid(person: dict[str, Any]) -> str | None:
    return f"https://orcid.org/{person['orcid']}" if person.get("orcid") else None


def name_field(tag_base: str, person: dict[str, Any], role: str) -> str:
    """X00 (person: $a 'Family, Given', ind1 1 surname / 0 forename) or X10 (organisation):
    $e relator term, $u affiliation, $1 ORCID URI (a real-world object), $4 relator code."""
    term, code = RELATORS[role][1], RELATORS[role][0]
    affiliations = "; ".join(a["name"] for a in person.get("affiliations", []))
    if person.get("kind") == "organisation":
        return field(f"{tag_base}10", "2", " ", [
            ("a", end(person["name"], ",")), ("e", end(term, ".")), ("u", affiliations),
            ("4", code)])
    surname = "1" if "," in person["name"] else "0"
    return field(f"{tag_base}00", surname, " ", [
        ("a", end(person["name"], ",")), ("e", end(term, ".")), ("u", affiliations),
        ("1", _orcid(person)), ("4", code)])


def _given_family(person: dict[str, Any]) -> str:
    if person.get("given") and person.get("family"):
        return f"{person['given']} {person['family']}"
    return str(person["name"])


def title_field(record: Record, has_main_entry: bool) -> str:
    """245: ind1 1 when a 1XX is present, ind2 the non-filing characters; $a title, $b
    subtitle(s), $c statement of responsibility, with ISBD punctuation."""
    entries = record["titles"]
    main = next((t for t in entries if t.get("kind", "main") == "main"), entries[0])
    subtitle = " : ".join(t["text"] for t in entries if t.get("kind") == "subtitle")
    creators = [_given_family(c) for c in record.get("creators", [])]
    statement = names_in_order(creators) if creators else ""
    title = main["text"]
    if subtitle:
        title = end(title, " :")
    elif statement:
        title = end(title, " /")
    subfields: list[tuple[str, str | None]] = [("a", title if subtitle or statement
                                                else end(title, "."))]
    if subtitle:
        subfields.append(("b", end(subtitle, " /") if statement else end(subtitle, ".")))
    if statement:
        subfields.append(("c", end(statement, ".")))
    skip = str(min(nonfiling(main["text"], main.get("lang")), 9))
    return field("245", "1" if has_main_entry else "0", skip, subfields)


def other_titles(record: Record) -> list[str]:
    """246: alternative titles (3_, no type) and translated ones (31, parallel title)."""
    out = []
    for entry in record["titles"]:
        if entry.get("kind") == "alternative":
            out.append(field("246", "3", " ", [("a", entry["text"])]))
        elif entry.get("kind") == "translated":
            out.append(field("246", "3", "1", [("a", entry["text"])]))
    return out


def publication(record: Record) -> str:
    """264 _1: $a place : $b publisher, $c year."""
    place, publisher = record.get("place_of_publication"), record.get("publisher")
    if record["type"] == "thesis" and not publisher:
        publisher = (record.get("thesis") or {}).get("institution")
    year = publication_year(record)
    subfields: list[tuple[str, str | None]] = []
    if place:
        subfields.append(("a", end(place, " :") if publisher else
                          (end(place, ",") if year else end(place, "."))))
    if publisher:
        subfields.append(("b", end(publisher, ",") if year else end(publisher, ".")))
    if year:
        subfields.append(("c", f"{year}."))
    return field("264", " ", "1", subfields)


def physical(record: Record) -> list[str]:
    """300 extent, then the RDA content (336), media (337) and carrier (338) types."""
    count = (record.get("pages") or {}).get("count")
    extent = f"1 online resource ({count} pages)" if count else "1 online resource"
    content = CONTENT_TYPES.get(record["type"], ("text", "txt"))
    return [field("300", " ", " ", [("a", extent)]),
            field("336", " ", " ", [("a", content[0]), ("b", content[1]),
                                    ("2", "rdacontent")]),
            field("337", " ", " ", [("a", "computer"), ("b", "c"), ("2", "rdamedia")]),
            field("338", " ", " ", [("a", "online resource"), ("b", "cr"),
                                    ("2", "rdacarrier")])]


def identifier_fields(record: Record) -> list[str]:
    """020 ISBN (the record's own: a chapter's go to 773 $z), 024 7_ standard identifiers
    (DOI first), 035 system control numbers."""
    out: list[str] = []
    if not (record["type"] == "book_section" and record.get("book")):
        out.extend(field("020", " ", " ", [("a", i)]) for i in record.get("isbn", []))
    if record.get("doi"):
        out.append(field("024", "7", " ", [("a", record["doi"]), ("2", "doi")]))
    for ident in record.get("identifiers", []):
        if ident["scheme"] in STANDARD_IDENTIFIERS:
            out.append(field("024", "7", " ", [("a", ident["value"]),
                                               ("2", STANDARD_IDENTIFIERS[ident["scheme"]])]))
    for ident in record.get("identifiers", []):
        if ident["scheme"] in SYSTEM_NUMBERS and ident["value"] != record["id"]:
            out.append(field("035", " ", " ", [
                ("a", SYSTEM_NUMBERS[ident["scheme"]] + ident["value"])]))
    return out


def languages(record: Record) -> str:
    codes = [c for c in (iso639_2b(t) for t in record.get("languages", [])) if c]
    return field("041", " ", " ", [("a", c) for c in dict.fromkeys(codes)])


def classification(record: Record) -> list[str]:
    """082 (Dewey), 080 (UDC), 084 (other schemes with a code)."""
    out = []
    for subject in record.get("subjects", []):
        code, scheme = subject.get("code"), subject.get("scheme") or "local"
        if not code:
            continue
        if scheme == "ddc":
            out.append(field("082", "0", "4", [("a", code)]))
        elif scheme == "udc":
            out.append(field("080", " ", " ", [("a", code)]))
        else:
            out.append(field("084", " ", " ", [("a", code), ("2", scheme)]))
    return sorted(out)


def names(record: Record) -> tuple[str, list[str]]:
    """(1XX main entry: the first creator, if any; 7XX added entries: the other creators,
    contributors, the degree-granting institution and the conference)."""
    creators = record.get("creators", [])
    main = name_field("1", creators[0], "author") if creators else ""
    added = [name_field("7", c, "author") for c in creators[1:]]
    added += [name_field("7", c, c.get("role") or "other") for c in record.get("contributors", [])]
    thesis = record.get("thesis") or {}
    if record["type"] == "thesis" and thesis.get("institution"):
        code, term = RELATORS["degree_granting"]
        added.append(field("710", "2", " ", [
            ("a", end(thesis["institution"], ".")), ("b", thesis.get("department")),
            ("e", end(term, ".")), ("4", code)]))
    event = record.get("event")
    if event:
        dates = " - ".join(dict.fromkeys(d for d in (event.get("start"), event.get("end"))
                                         if d))
        added.append(field("711", "2", " ", [("a", event["name"]), ("c", event.get("place")),
                                             ("d", dates)]))
    return main, added


def notes(record: Record) -> list[str]:
    """500 general notes, 502 dissertation, 506 access, 520 abstracts, 536 funding."""
    out = [field("500", " ", " ", [("a", end(n, "."))]) for n in record.get("notes", [])]
    if record.get("status"):
        status = record["status"].replace("_", " ").capitalize()
        out.append(field("500", " ", " ", [("a", f"Publication status: {status}.")]))
    if record.get("peer_reviewed"):
        out.append(field("500", " ", " ", [("a", "Peer reviewed.")]))
    thesis = record.get("thesis") or {}
    if record["type"] == "thesis":
        year = (record.get("dates", {}).get("awarded") or "")[:4] or publication_year(record)
        out.append(field("502", " ", " ", [("b", thesis.get("degree")),
                                           ("c", thesis.get("institution")), ("d", year)]))
    out.extend(access_notes(record))
    out.extend(field("520", "3", " ", [("a", a["text"])]) for a in record.get("abstracts", []))
    for funding in record.get("funding", []):
        text = funding["funder"] + (f" ({funding['award_title']})"
                                    if funding.get("award_title") else "")
        out.append(field("536", " ", " ", [("a", text), ("c", funding.get("award_number"))]))
    return out


def access_notes(record: Record) -> list[str]:
    """506: 0_ no restriction (open access), 1_ restrictions (embargo with its end in $g)."""
    access = record.get("access")
    if not access:
        return []
    status = access["status"]
    label = coar.access_right(status)[1]
    if status == "open":
        return [field("506", "0", " ", [("a", "Open access"),
                                        ("f", "Unrestricted online access"), ("2", "star")])]
    text = label[0].upper() + label[1:]
    if access.get("embargo_end"):
        text += f" until {access['embargo_end']}"
    return [field("506", "1", " ", [("a", end(text, ".")), ("g", access.get("embargo_end"))])]


def rights(record: Record) -> list[str]:
    """540 licence ($a name, $f CC term with $2 cc, $g start, $u URI) and statement; 542
    copyright holder."""
    info = record.get("rights", {})
    out = []
    licence = info.get("licence")
    if licence:
        label = licence_label(licence)
        term = label[label.rfind("(") + 1:-1] if label.endswith(")") else None
        out.append(field("540", " ", " ", [("a", label), ("f", term), ("2", "cc" if term
                                                                          else None),
                                           ("g", info.get("licence_start")), ("u", licence)]))
    if info.get("statement"):
        out.append(field("540", " ", " ", [("a", info["statement"])]))
    if info.get("holder"):
        out.append(field("542", "1", " ", [("d", info["holder"])]))
    return out


def subjects(record: Record) -> list[str]:
    """650 with the thesaurus in ind2 (0 LCSH, 2 MeSH, 4 other), 653 keywords, 655 the COAR
    resource type as genre/form."""
    thesaurus = {"lcsh": "0", "mesh": "2"}
    out = [field("650", " ", thesaurus.get(s.get("scheme") or "", "4"),
                 [("a", end(s["text"], "."))]) for s in record.get("subjects", [])]
    out.extend(field("653", " ", " ", [("a", k)]) for k in record.get("keywords", []))
    out.append(field("655", " ", "4", [("a", coar.resource_type(record)[1])]))
    return out


def file_note(file: dict[str, Any]) -> str | None:
    label = VERSION_LABELS.get(file.get("version") or "")
    parts = [label] if label else []
    if file.get("access"):
        parts.append(f"{file['access']} access")
    if file.get("embargo_end"):
        parts.append(f"embargoed until {file['embargo_end']}")
    if file.get("licence"):
        parts.append(f"licence {file['licence']}")
    return "; ".join(parts) or None


def links(record: Record) -> list[str]:
    """856: 40 the landing page and each file ($q type, $s size, $y link text, $z note),
    42 the DOI (the publisher's landing page), project pages and URL relations."""
    out = []
    if record.get("url"):
        out.append(field("856", "4", "0", [("u", record["url"]), ("y", "Repository record")]))
    for file in record.get("files", []):
        size = f"{file['size']} bytes" if file.get("size") is not None else None
        out.append(field("856", "4", "0", [
            ("3", VERSION_LABELS.get(file.get("version") or "")), ("u", file["url"]),
            ("q", file["mime_type"]), ("s", size), ("y", file.get("name") or "Full text"),
            ("z", file_note(file))]))
    if record.get("doi"):
        out.append(field("856", "4", "2", [("u", f"https://doi.org/{record['doi']}"),
                                           ("y", "DOI landing page")]))
    for funding in record.get("funding", []):
        if funding.get("project_uri"):
            out.append(field("856", "4", "2", [("3", f"Project funded by {funding['funder']}"),
                                               ("u", funding["project_uri"])]))
    for ident in record.get("identifiers", []):
        if ident["scheme"] == "url":
            out.append(field("856", "4", "2", [("u", ident["value"])]))
    return out


def relations(record: Record) -> list[str]:
    """787 08 (other relationship entry, no display constant) per relation, $i the kind."""
    return [field("787", "0", "8", [("i", r["kind"].replace("_", " ").capitalize() + ":"),
                                    ("o", r["identifier"])])
            for r in record.get("relations", [])]


_TAG_AT = len('<datafield tag="')


def _tag(datafield: str) -> str:
    return datafield[_TAG_AT:_TAG_AT + 3]


def render_marcxml(record: Record) -> str:
    """The MARCXML <record> for a record: leader, control fields, data fields in tag order."""
    main, added = names(record)
    out = [_OPEN, f"<leader>{leader(record)}</leader>", control("001", record["id"])]
    transaction = latest_transaction(record)
    if transaction:
        out.append(control("005", transaction))
    if record.get("files") or record.get("url"):
        out.append(control("007", ELECTRONIC))
    out.append(control("008", fixed_data(record)))
    data = [*identifier_fields(record), languages(record), *classification(record), main,
            title_field(record, bool(main)), *other_titles(record),
            field("250", " ", " ", [("a", record.get("edition"))]), publication(record),
            *physical(record), *(series_fields(record) if record.get("series") else []),
            *notes(record), *rights(record), *subjects(record), *added,
            *host_fields(record), *relations(record), *links(record)]
    out.extend(sorted((f for f in data if f), key=_tag))  # stable: same tags keep their order
    out.append("</record>")
    return "".join(out)


def requires(record: Record) -> str | None:
    """A MARC bibliographic record needs a title proper (245 $a)."""
    if not any(t.get("text", "").strip() for t in record.get("titles", [])):
        return "MARC 21 needs a title proper (245 $a)"
    return None
