"""The official schemas' verdict on XML files, computed without any of the project's code.

Run as a script in a fresh interpreter with XML_CATALOG_FILES pointing at the reference
catalog (libxml2 reads it once, when it starts), so that the schemas load offline through
libxml2's own catalog support rather than our resolver:

    XML_CATALOG_FILES=.../catalog.xml python tests/official_verdicts.py NAMESPACES FILE...

NAMESPACES is a comma-separated subset of TABLE's keys: the namespaces whose official schema
is used (the others count as unknown). For each file it prints, as one JSON object keyed by
file name: whether it is well-formed, the schema errors as [line, message], and the
namespaces of the elements it could not judge. What is judged, as a validator must:
an OAI-PMH response with its payloads (the children of metadata, about, description,
setDescription), a bare record or each record of a dump (with OAI-PMH.xsd's recordType as a
root), or any other document against its root's schema. A payload in an unknown namespace
fails OAI-PMH.xsd's strict wildcard; that error is not counted, the namespace is listed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lxml import etree

OAI = "http://www.openarchives.org/OAI/2.0/"
# namespace -> official location, as the reference schemas' README wires them
TABLE = {
    OAI: "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd",
    "http://www.openarchives.org/OAI/2.0/oai_dc/": "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
    "http://www.openarchives.org/OAI/2.0/oai-identifier":
        "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd",
    "http://www.openarchives.org/OAI/1.1/eprints": "http://www.openarchives.org/OAI/2.0/eprints.xsd",
    "http://www.openarchives.org/OAI/2.0/friends/": "http://www.openarchives.org/OAI/2.0/friends.xsd",
    "http://www.openarchives.org/OAI/2.0/branding/":
        "http://www.openarchives.org/OAI/2.0/branding.xsd",
    "http://www.openarchives.org/OAI/2.0/provenance":
        "http://www.openarchives.org/OAI/2.0/provenance.xsd",
    "http://www.openarchives.org/OAI/2.0/rights/":
        "http://www.openarchives.org/OAI/2.0/rightsManifest.xsd",
    "http://www.openarchives.org/OAI/2.0/gateway/": "http://www.openarchives.org/OAI/2.0/gateway.xsd",
    "http://www.loc.gov/MARC21/slim": "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
    "http://www.loc.gov/mods/v3": "http://www.loc.gov/standards/mods/v3/mods-3-7.xsd",
    "http://www.loc.gov/METS/": "http://www.loc.gov/standards/mets/mets.xsd",
    "http://datacite.org/schema/kernel-4": "http://schema.datacite.org/meta/kernel-4/metadata.xsd",
    "http://namespace.openaire.eu/schema/oaire/":
        "https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd",
    "http://www.rioxx.net/schema/v3.0/rioxx/": "http://www.rioxx.net/schema/v3.0/rioxx/rioxx.xsd",
}
CONTAINERS = {f"{{{OAI}}}{n}" for n in ("metadata", "about", "description", "setDescription")}
RECORD_LIKE = {f"{{{OAI}}}record", f"{{{OAI}}}header"}
_compiled: dict[tuple[str, ...], etree.XMLSchema] = {}


def _schema(namespaces: set[str], bare: bool) -> etree.XMLSchema:
    """A schema importing the namespaces' official schemas; for a bare record, one in the
    OAI namespace that includes OAI-PMH.xsd and makes its record and header types roots."""
    key = (*sorted(namespaces), "bare" if bare else "")
    if key not in _compiled:
        for namespace in namespaces:  # libxml2 only warns about an import it cannot load:
            etree.parse(TABLE[namespace])  # make sure the catalog serves each one (or raise)
        others = sorted(namespaces - {OAI}) if bare else sorted(namespaces)
        imports = "".join(f'<xs:import namespace="{n}" schemaLocation="{TABLE[n]}"/>'
                          for n in others)
        if bare:
            text = (f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:o="{OAI}" '
                    f'targetNamespace="{OAI}" elementFormDefault="qualified">'
                    f'<xs:include schemaLocation="{TABLE[OAI]}"/>{imports}'
                    '<xs:element name="record" type="o:recordType"/>'
                    '<xs:element name="header" type="o:headerType"/></xs:schema>')
        else:
            text = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
                    f'elementFormDefault="qualified">{imports}</xs:schema>')
        _compiled[key] = etree.XMLSchema(etree.fromstring(text.encode()))
    return _compiled[key]


def verdict(path: Path, known: set[str]) -> dict[str, object]:
    try:
        tree = etree.parse(str(path), etree.XMLParser(no_network=True, resolve_entities=False,
                                                      huge_tree=True))
    except etree.XMLSyntaxError:
        return {"well_formed": False, "errors": [], "unknown": []}
    root = tree.getroot()
    if etree.QName(root).namespace is None and any(c.tag in RECORD_LIKE for c in root):
        units = [c for c in root if c.tag in RECORD_LIKE]  # a dump of records
    else:
        units = [root]
    errors: list[list[object]] = []
    unknown: set[str] = set()
    for unit in units:
        own = etree.QName(unit).namespace or ""
        payloads = [p for c in unit.iter(*CONTAINERS) for p in c if isinstance(p.tag, str)]
        spaces = {own} | {etree.QName(p).namespace or "" for p in payloads}
        unknown |= spaces - known
        if own not in known:
            continue
        schema = _schema(spaces & known, unit.tag in RECORD_LIKE)
        schema.validate(unit)
        skipped = {p for p in payloads if (etree.QName(p).namespace or "") not in known}
        paths = {}
        if skipped:
            tree_of = unit.getroottree()
            cut = len(tree_of.getpath(unit))
            name = (f"{unit.prefix}:{etree.QName(unit).localname}" if unit.prefix
                    else "*" if own else unit.tag)
            paths = {"/" + name + tree_of.getpath(e)[cut:]: e for e in unit.iter()}
        for entry in schema.error_log:
            if paths.get(entry.path) in skipped and "strict wildcard" in entry.message:
                continue
            errors.append([entry.line, entry.message])
    return {"well_formed": True, "errors": errors, "unknown": sorted(unknown)}


def main() -> None:
    known = set(sys.argv[1].split(",")) & set(TABLE)
    print(json.dumps({Path(f).name: verdict(Path(f), known) for f in sys.argv[2:]}))


if __name__ == "__main__":
    main()
