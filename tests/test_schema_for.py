"""`schema_for` (which schema validates a namespace, under any catalog) and `validate_with`.

A small catalog of our own, written in tmp_path, holds two versions of a schema, a pair of
schemas sharing a namespace but not their roots, and a piece without a namespace; the shared
reference catalog, when present, is asked about the real formats.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from oai.protocol import namespaces as ns
from oai.protocol.schemas import SchemaViolation, schema_for, validate_with

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference-schemas" / "catalog.xml"
NS = "urn:example:format"
XS = "http://www.w3.org/2001/XMLSchema"


def _xsd(path: Path, namespace: str | None, body: str) -> None:
    target = f' targetNamespace="{namespace}" xmlns="{namespace}"' if namespace else ""
    path.write_text(f'<xs:schema xmlns:xs="{XS}"{target} elementFormDefault="qualified">'
                    f"{body}</xs:schema>")


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    _xsd(tmp_path / "v1.xsd", NS, '<xs:element name="a" type="xs:string"/>')
    _xsd(tmp_path / "v10.xsd", NS, '<xs:element name="a" type="xs:int"/>'
                                   '<xs:element name="b" type="xs:string"/>')
    _xsd(tmp_path / "v2.xsd", NS, '<xs:element name="a" type="xs:int"/>')
    _xsd(tmp_path / "pair-one.xsd", "urn:example:pair", '<xs:element name="one"/>')
    _xsd(tmp_path / "pair-two.xsd", "urn:example:pair",
         '<xs:include schemaLocation="http://example.org/pair-one.xsd"/>'
         '<xs:element name="two"/>')
    _xsd(tmp_path / "piece.xsd", None, '<xs:simpleType name="t"><xs:restriction base='
                                       '"xs:string"/></xs:simpleType>')
    entries = "".join(f'<uri name="http://example.org/{name}" uri="{name}"/>'
                      for name in ("v1.xsd", "v2.xsd", "v10.xsd", "pair-one.xsd",
                                   "pair-two.xsd", "piece.xsd"))
    path = tmp_path / "catalog.xml"
    path.write_text(f'<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">{entries}'
                    "</catalog>")
    return path


def test_our_catalog_knows_the_formats_we_ship() -> None:
    assert schema_for(ns.OAI_DC, roots=["dc"]) == ns.OAI_DC_SCHEMA_URL
    assert schema_for(ns.OAI, roots=["OAI-PMH"]) == ns.OAI_SCHEMA_URL
    assert schema_for("urn:example:no-such-format", roots=["record"]) is None
    assert schema_for("", roots=["rioxx"]) is None


def test_latest_version_unless_the_document_names_one(catalog: Path) -> None:
    assert schema_for(NS, roots=["a"], catalog=catalog) == "http://example.org/v10.xsd"
    assert schema_for(NS, roots=["a"], hints=["http://example.org/v1.xsd"],
                      catalog=catalog) == "http://example.org/v1.xsd"
    # a location the catalog does not hold, or of another namespace, is passed over
    assert schema_for(NS, roots=["a"], hints=["http://example.org/v9.xsd",
                                              "http://example.org/pair-one.xsd"],
                      catalog=catalog) == "http://example.org/v10.xsd"


def test_the_root_decides_between_schemas_of_one_namespace(catalog: Path) -> None:
    # pair-two includes pair-one: it declares both roots
    assert schema_for("urn:example:pair", roots=["one"], catalog=catalog) \
        == "http://example.org/pair-two.xsd"
    assert schema_for("urn:example:pair", roots=["one"],
                      hints=["http://example.org/pair-one.xsd"],
                      catalog=catalog) == "http://example.org/pair-one.xsd"
    # a hint that lacks the root loses to one that has it
    assert schema_for(NS, roots=["b"], hints=["http://example.org/v2.xsd"],
                      catalog=catalog) == "http://example.org/v10.xsd"
    # no schema declares it: the namespace's schema still judges (and rejects) the root
    assert schema_for(NS, roots=["zzz"], catalog=catalog) == "http://example.org/v10.xsd"


def test_no_namespace_needs_a_schema_declaring_the_root(catalog: Path) -> None:
    assert schema_for("", roots=["t"], catalog=catalog) is None
    assert schema_for("urn:example:unknown", catalog=catalog) is None


def test_validate_with_the_chosen_schemas(catalog: Path) -> None:
    location = schema_for(NS, roots=["a"], catalog=catalog)
    assert location is not None
    good = etree.fromstring(f'<a xmlns="{NS}">12</a>')
    bad = etree.fromstring(f'<a xmlns="{NS}">twelve</a>')
    assert validate_with([(NS, location)], good, catalog=catalog) == []
    errors = validate_with([(NS, location)], bad, catalog=catalog)
    assert [e.type_name for e in errors] == ["SCHEMAV_CVC_DATATYPE_VALID_1_2_1"]
    with pytest.raises(SchemaViolation, match="does not compile"):
        validate_with([(NS, "http://example.org/nowhere.xsd"), ("urn:x", location)], good,
                      catalog=catalog, declare=[("a", "missingType")])


def test_a_bare_oai_record_is_a_root_with_declare() -> None:
    record = etree.fromstring(
        f'<record xmlns="{ns.OAI}"><header><identifier>oai:x:1</identifier>'
        "<datestamp>2024-01-01</datestamp></header></record>")
    table = [(ns.OAI, ns.OAI_SCHEMA_URL)]
    declare = [("record", "recordType")]
    assert validate_with(table, record, declare=declare) == []
    assert validate_with(table, record)  # without it, no global declaration matches
    record[0][1].text = "yesterday"
    assert [e.line for e in validate_with(table, record, declare=declare)] == [1]


def test_the_reference_catalog_finds_the_real_formats() -> None:
    if not REFERENCE.is_file():
        pytest.skip(f"{REFERENCE} is not available")
    expected = {
        # the mods format is installed: the version it serves, before any other catalogued
        ("http://www.loc.gov/mods/v3", "mods"):
            "http://www.loc.gov/standards/mods/v3/mods-3-7.xsd",
        ("http://www.loc.gov/MARC21/slim", "collection"):
            "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
        # OpenAIRE's own datacite-v4.xsd shares the namespace but has no <resource>
        ("http://datacite.org/schema/kernel-4", "resource"):
            "http://schema.datacite.org/meta/kernel-4/metadata.xsd",
        ("http://namespace.openaire.eu/schema/oaire/", "resource"):
            "https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd",
        ("http://www.openarchives.org/OAI/2.0/rights/", "rights"):
            "http://www.openarchives.org/OAI/2.0/rightsManifest.xsd",
        (ns.OAI_DC, "dc"): ns.OAI_DC_SCHEMA_URL,
    }
    for (namespace, root), location in expected.items():
        assert schema_for(namespace, roots=[root], catalog=REFERENCE) == location, namespace
    assert schema_for("http://www.loc.gov/mods/v3", roots=["mods"], catalog=REFERENCE,
                      hints=["http://www.loc.gov/standards/mods/v3/mods-3-7.xsd"]) \
        == "http://www.loc.gov/standards/mods/v3/mods-3-7.xsd"
    assert schema_for("", roots=["rioxx"], catalog=REFERENCE) is None
