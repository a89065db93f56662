"""Test helpers for the library formats (MODS, MARCXML): the official schemas compiled offline
from shared/reference-schemas, the payloads of real records in shared/real-responses, and the
corpus of records every crosswalk is checked on (fixtures plus generated records)."""

from __future__ import annotations

import csv
import json
from functools import cache
from typing import Any

import pytest
from lxml import etree

from oai.fixtures.generate import generate_records
from oai.paths import PROJECT_ROOT
from oai.protocol.records import validate_record
from oai.protocol.schemas import CatalogResolver, load_schema

SHARED = PROJECT_ROOT.parent / "shared"
REFERENCE_SCHEMAS = SHARED / "reference-schemas"
REAL_RESPONSES = SHARED / "real-responses"
FIXTURES = PROJECT_ROOT / "fixtures" / "records"
GENERATED = 300


@cache
def _official(url: str) -> etree.XMLSchema:
    catalog = REFERENCE_SCHEMAS / "catalog.xml"
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(CatalogResolver(catalog))
    return etree.XMLSchema(etree.parse(url, parser))


def official(url: str) -> etree.XMLSchema:
    """The official schema at `url`, compiled from the reference copies (skip if absent)."""
    if not (REFERENCE_SCHEMAS / "catalog.xml").is_file():
        pytest.skip(f"official schemas not available at {REFERENCE_SCHEMAS}")
    return _official(url)


_WRAPPER = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">
<xs:import namespace="http://www.openarchives.org/OAI/2.0/"
           schemaLocation="http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"/>
<xs:import namespace="http://www.loc.gov/mods/v3"
           schemaLocation="http://www.loc.gov/standards/mods/v3/mods-3-7.xsd"/>
<xs:import namespace="http://www.loc.gov/MARC21/slim"
           schemaLocation="http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"/>
</xs:schema>"""


@cache
def _official_response() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(CatalogResolver(REFERENCE_SCHEMAS / "catalog.xml"))
    wrapper = etree.fromstring(_WRAPPER.encode(), parser,
                               base_url=str(REFERENCE_SCHEMAS / "wrapper.xsd"))
    return etree.XMLSchema(wrapper)


def official_response_verdict(document: bytes) -> bool:
    """The official OAI-PMH, MODS and MARCXML schemas' verdict on a whole response."""
    if not (REFERENCE_SCHEMAS / "catalog.xml").is_file():
        pytest.skip(f"official schemas not available at {REFERENCE_SCHEMAS}")
    tree = etree.fromstring(document, etree.XMLParser(no_network=True, resolve_entities=False))
    return bool(_official_response().validate(tree))


def verdicts(url: str, element: Any) -> tuple[bool, bool]:
    """(official verdict, ours) on one payload element."""
    return bool(official(url).validate(element)), bool(load_schema(url).validate(element))


def real_payloads(namespace: str, prefix: str) -> list[tuple[str, Any]]:
    """Every outermost element in `namespace` of the real files indexed under `prefix`:
    documents, collections, single <record>s and whole responses alike."""
    index = REAL_RESPONSES / "index.csv"
    if not index.is_file():
        pytest.skip(f"real responses not available at {REAL_RESPONSES}")
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    found = []
    with index.open(newline="", encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            if row["metadataPrefix"] != prefix:
                continue
            tree = etree.parse(str(REAL_RESPONSES / row["file"]), parser)
            roots = [el for el in tree.iter(f"{{{namespace}}}*")
                     if not any(etree.QName(a).namespace == namespace
                                for a in el.iterancestors())]
            found.extend((f"{row['file']}#{i}", el) for i, el in enumerate(roots))
    return found


@cache
def corpus() -> tuple[dict[str, Any], ...]:
    """Every fixture record (theses included) and GENERATED synthetic ones, validated."""
    records = [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))]
    records += [json.loads(line) for line in (FIXTURES / "theses.jsonl").read_text().splitlines()
                if line.strip()]
    records += list(generate_records(GENERATED, seed=7))
    return tuple(validate_record(r) for r in records)


def example() -> dict[str, Any]:
    return validate_record(json.loads((FIXTURES / "123456.json").read_text()))
