"""The official RIOXX v3.0 schema's verdict, and the deviations of ours undone.

The official rioxx.xsd declares XML Schema 1.1 (vc:minVersion="1.1"), so its verdict is taken
from `xmlschema`'s XSD 1.1 validator, loaded offline through the reference catalog; libxml2
(XSD 1.0, what the rest of the project runs) reads it too, and `official_libxml2` gives its
verdict so that tests can show the two agree.

`undo` rewrites a record that follows the profile where our schemas deviate from the official
one (schemas/README.md, "RIOXX") into the nearest record the official schema is meant to
accept: each deviation is one function, named by the id the README gives it. A record valid
for ours whose undone form the official schema rejects is a difference no deviation explains.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from oai.formats import coar
from oai.formats.rioxx.namespaces import DC, RIOXXTERMS, SCHEMA_URL
from oai.protocol.schemas import CatalogResolver
from tests.conftest import SHARED

REFERENCE = SHARED / "reference-schemas" / "catalog.xml"
T = f"{{{RIOXXTERMS}}}"
PARTIES = {f"{T}creator", f"{T}contributor", f"{T}publisher"}
PROFILE_ATTRIBUTES = ("rel", "type", "coar_type", "coar_version", "deposit_date",
                      "resource_exposed_date", "access_rights", "license_ref")
JAV = {coar.VERSION + code: jav for jav, (code, _label) in coar.VERSIONS.items()}


def _resolver() -> CatalogResolver:
    if not REFERENCE.is_file():
        pytest.skip(f"official schemas not available at {REFERENCE}")
    return CatalogResolver(REFERENCE)


@cache
def _xsd11() -> object:
    xmlschema = pytest.importorskip("xmlschema")
    resolver = _resolver()
    mapped = {url: path.as_uri() for url, path in resolver.exact.items()}
    local = resolver.lookup(SCHEMA_URL)
    assert local is not None and REFERENCE.parent in local.parents
    return xmlschema.XMLSchema11(str(local), uri_mapper=lambda url: mapped.get(url, url))


@cache
def _libxml2() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_resolver())
    return etree.XMLSchema(etree.parse(SCHEMA_URL, parser))


def _tree(doc: bytes | etree._Element) -> etree._Element:
    return etree.fromstring(doc) if isinstance(doc, bytes) else doc


def official(doc: bytes | etree._Element) -> bool:
    """The official XSD 1.1 verdict."""
    return bool(_xsd11().is_valid(etree.tostring(_tree(doc)).decode()))  # type: ignore[attr-defined]


def official_libxml2(doc: bytes | etree._Element) -> bool:
    return bool(_libxml2().validate(_tree(doc)))


# --------------------------------------------------------------------------- deviations undone


# the properties the profile repeats ("zero or more", "one or more")
REPEATABLE = {f"{{{DC}}}{n}" for n in ("coverage", "description", "language", "relation",
                                       "subject", "type")} | PARTIES | {
    f"{T}{n}" for n in ("ext_relation", "grant", "project")}


def _repeats(root: etree._Element) -> None:
    seen: set[str] = set()
    for child in list(root):
        if isinstance(child.tag, str) and child.tag in REPEATABLE:
            if child.tag in seen:
                root.remove(child)
            seen.add(child.tag)


def _party_ids(root: etree._Element) -> None:
    for party in root:
        if party.tag in PARTIES:
            ids = party.findall(f"{T}id")
            for extra in ids[1:]:
                party.remove(extra)
            if not ids:
                etree.SubElement(party, f"{T}id").text = "https://example.org/unknown"


def _relation_attributes(root: etree._Element) -> None:
    for relation in root.iter(f"{{{DC}}}relation"):
        for name in PROFILE_ATTRIBUTES:
            relation.attrib.pop(name, None)


def _content(root: etree._Element) -> None:
    for element in root.iter(f"{T}ext_relation", f"{T}grant"):
        element.text = None


def _grant_funder(root: etree._Element) -> None:
    for grant in root.iter(f"{T}grant"):
        for name, value in (("funder_name", "unknown"),
                            ("funder_id", "https://example.org/unknown")):
            if grant.get(name) is None:
                grant.set(name, value)


def _project_optional(root: etree._Element) -> None:
    if root.find(f"{T}project") is None:
        etree.SubElement(root, f"{T}project").text = "https://example.org/project"


def _coar_version_uri(root: etree._Element) -> None:
    for element in root.iter(f"{T}ext_relation"):
        value = element.get("coar_version")
        if value:
            element.set("coar_version", JAV.get(value.replace("https://", "http://"), value))


def _iana_full_names(root: etree._Element) -> None:
    for element in root.iter(f"{T}ext_relation"):
        rel = element.get("rel", "")
        element.set("rel", re.split(r"[-.]", rel)[0] if rel else rel)


def _partial_dates(root: etree._Element) -> None:
    for element in root.iter(f"{T}publication_date"):
        text = (element.text or "").strip()
        if re.fullmatch(r"\d{4}", text):
            element.text = f"{text}-01-01"
        elif re.fullmatch(r"\d{4}-\d{2}", text):
            element.text = f"{text}-01"


#: deviation id (as in schemas/README.md) -> what undoes it
DEVIATIONS: dict[str, Callable[[etree._Element], None]] = {
    "repeats": _repeats,
    "party-ids": _party_ids,
    "relation-attributes": _relation_attributes,
    "content": _content,
    "grant-funder": _grant_funder,
    "project-optional": _project_optional,
    "coar-version-uri": _coar_version_uri,
    "iana-full-names": _iana_full_names,
    "partial-dates": _partial_dates,
}
#: where ours is stricter than the official schema (nothing to undo: the README says why)
STRICTER = ("release-date-text", "dc-simple-content")


def undo(doc: bytes | etree._Element) -> etree._Element:
    """A copy of `doc` with every deviation undone."""
    root = etree.fromstring(etree.tostring(_tree(doc)))
    for change in DEVIATIONS.values():
        change(root)
    return root


def readme_deviations(readme: Path) -> list[str]:
    """The deviation ids the README's RIOXX section lists, as `(id)` at an item's start."""
    text = readme.read_text()
    section = text[text.index("## RIOXX"):]
    section = section[:section.find("\n## ", 5)] if "\n## " in section[5:] else section
    return re.findall(r"^\d+\. \*\*`([a-z0-9-]+)`\*\*", section, re.M)
