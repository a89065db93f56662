"""Our XSDs for Identify descriptions (eprints, friends, branding, rightsManifest) and for the
rights statements of about containers give the official schemas' verdict.

Each document of the table is judged four ways: by our schema of its namespace alone, by the
official one alone, and inside a whole OAI-PMH response by our `validate_response` and by a
wrapper of the official schemas. Strict wildcards (rightsDefinition) are only satisfiable when
the inner namespace is compiled too, so the standalone verdicts may differ from the response
ones, but ours and the official always agree.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from oai.paths import schema_dir
from oai.protocol import namespaces as ns
from oai.protocol.schemas import (
    NAMESPACE_SCHEMAS,
    CatalogResolver,
    SchemaViolation,
    load_schema,
    response_schema,
    schema_parser,
    validate_fragment,
    validate_response,
)

REFERENCE_SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "reference-schemas"
XS = "http://www.w3.org/2001/XMLSchema"
BAD_URI = "http://[not-a-uri"  # libxml2 refuses a bracket outside an IPv6 literal

DC = (f'<oai_dc:dc xmlns:oai_dc="{ns.OAI_DC}" xmlns:dc="{ns.DC}">'
      "<dc:rights>Free to reuse</dc:rights></oai_dc:dc>")


def eprints(inner: str) -> str:
    return f'<ep:eprints xmlns:ep="{ns.EPRINTS}">{inner}</ep:eprints>'


def friends(inner: str) -> str:
    return f'<friends xmlns="{ns.FRIENDS}">{inner}</friends>'


def branding(inner: str) -> str:
    return f'<branding xmlns="{ns.BRANDING}">{inner}</branding>'


def manifest(inner: str, attrs: str = f' appliesTo="{ns.RIGHTS_APPLIES_TO_METADATA}"') -> str:
    return f'<rightsManifest xmlns="{ns.RIGHTS}"{attrs}>{inner}</rightsManifest>'


def rights(inner: str) -> str:
    return f'<rights xmlns="{ns.RIGHTS}">{inner}</rights>'


REF = '<rights><rightsReference ref="https://creativecommons.org/licenses/by/4.0/"/></rights>'
DEF = f"<rights><rightsDefinition>{DC}</rightsDefinition></rights>"
ICON = ("<collectionIcon><url>https://repo.example.org/logo.png</url>"
        "<link>https://repo.example.org/</link><title>Repo</title>"
        "<width>88</width><height>31</height></collectionIcon>")
RENDER = (f'<metadataRendering metadataNamespace="{ns.OAI_DC}" mimeType="text/xsl">'
          "https://repo.example.org/dc.xsl</metadataRendering>")
POLICIES = ("<ep:metadataPolicy><ep:text>CC0</ep:text></ep:metadataPolicy>"
            "<ep:dataPolicy><ep:URL>https://repo.example.org/policy</ep:URL></ep:dataPolicy>")

# (id, where: "description" or "about", payload, valid in a response)
PAYLOADS: list[tuple[str, str, str, bool]] = [
    # ---- eprints
    ("eprints-full", "description", eprints(
        "<ep:content><ep:text>Research outputs</ep:text>"
        "<ep:URL>https://repo.example.org/about</ep:URL><ep:text>in English</ep:text>"
        "</ep:content>" + POLICIES
        + "<ep:submissionPolicy><ep:URL>https://repo.example.org/deposit</ep:URL>"
        "</ep:submissionPolicy><ep:comment>one</ep:comment><ep:comment>two</ep:comment>"),
     True),
    ("eprints-empty-policies", "description",
     eprints("<ep:metadataPolicy/><ep:dataPolicy/>"), True),
    ("eprints-no-dataPolicy", "description",
     eprints("<ep:metadataPolicy><ep:text>x</ep:text></ep:metadataPolicy>"), False),
    ("eprints-policies-swapped", "description", eprints(
        "<ep:dataPolicy/><ep:metadataPolicy/>"), False),
    ("eprints-content-after-policies", "description",
     eprints(POLICIES + "<ep:content/>"), False),
    ("eprints-two-contents", "description",
     eprints("<ep:content/><ep:content/>" + POLICIES), False),
    ("eprints-bad-URL", "description", eprints(
        f"<ep:metadataPolicy><ep:URL>{BAD_URI}</ep:URL></ep:metadataPolicy><ep:dataPolicy/>"),
     False),
    ("eprints-unknown-child", "description",
     eprints(POLICIES + "<ep:licence>x</ep:licence>"), False),
    ("eprints-comment-with-markup", "description",
     eprints(POLICIES + "<ep:comment><ep:text>x</ep:text></ep:comment>"), False),
    ("eprints-unqualified-children", "description",
     eprints("<metadataPolicy/><dataPolicy/>"), False),
    # ---- friends
    ("friends-two", "description", friends(
        "<baseURL>https://a.example.org/oai</baseURL><baseURL>http://b.example.org/oai2"
        "</baseURL>"), True),
    ("friends-empty", "description", friends(""), True),
    ("friends-bad-url", "description", friends(f"<baseURL>{BAD_URI}</baseURL>"), False),
    ("friends-wrong-element", "description",
     friends("<url>https://a.example.org/oai</url>"), False),
    ("friends-baseURL-attribute", "description",
     friends('<baseURL kind="oai">https://a.example.org/oai</baseURL>'), False),
    # ---- branding
    ("branding-full", "description", branding(ICON + RENDER + RENDER), True),
    ("branding-empty", "description", branding(""), True),
    ("branding-icon-url-only", "description",
     branding("<collectionIcon><url>https://r.example.org/i.png</url></collectionIcon>"), True),
    ("branding-icon-without-url", "description",
     branding("<collectionIcon><title>x</title></collectionIcon>"), False),
    ("branding-width-not-integer", "description",
     branding(ICON.replace("<width>88</width>", "<width>wide</width>")), False),
    ("branding-icon-order", "description",
     branding(ICON.replace("<link>https://repo.example.org/</link><title>Repo</title>",
                           "<title>Repo</title><link>https://repo.example.org/</link>")),
     False),
    ("branding-two-icons", "description", branding(ICON + ICON), False),
    ("branding-rendering-first", "description", branding(RENDER + ICON), False),
    ("branding-mime-with-plus", "description",
     branding(RENDER.replace("text/xsl", "application/xslt+xml")), False),
    ("branding-mime-upper-case", "description",
     branding(RENDER.replace("text/xsl", "Text/XSL")), False),
    ("branding-rendering-no-namespace", "description",
     branding(RENDER.replace(f'metadataNamespace="{ns.OAI_DC}" ', "")), False),
    ("branding-rendering-bad-uri", "description",
     branding(RENDER.replace("https://repo.example.org/dc.xsl", BAD_URI)), False),
    # ---- rightsManifest
    ("manifest-reference-and-definition", "description", manifest(REF + DEF), True),
    ("manifest-without-appliesTo", "description", manifest(REF, ""), True),
    ("manifest-empty", "description", manifest(""), False),
    ("manifest-other-appliesTo", "description",
     manifest(REF, ' appliesTo="http://www.openarchives.org/OAI/2.0/entity#data"'), False),
    ("manifest-reference-without-ref", "description",
     manifest("<rights><rightsReference/></rights>"), False),
    ("manifest-reference-bad-ref", "description",
     manifest(f'<rights><rightsReference ref="{BAD_URI}"/></rights>'), False),
    ("manifest-both-in-one-rights", "description", manifest(
        f'<rights><rightsReference ref="https://x.example.org/"/>'
        f"<rightsDefinition>{DC}</rightsDefinition></rights>"), False),
    ("manifest-definition-empty", "description",
     manifest("<rights><rightsDefinition/></rights>"), False),
    ("manifest-definition-unknown-namespace", "description", manifest(
        '<rights><rightsDefinition><x:cc xmlns:x="urn:example:cc"/></rightsDefinition>'
        "</rights>"), False),
    ("manifest-definition-own-namespace", "description", manifest(
        "<rights><rightsDefinition><rights><rightsReference ref=\"https://x.example.org/\"/>"
        "</rights></rightsDefinition></rights>"), False),
    ("manifest-definition-no-namespace", "description", manifest(
        '<rights><rightsDefinition><cc xmlns=""/></rightsDefinition></rights>'), False),
    # ---- rights in a record's about container
    ("about-rights-reference", "about",
     rights('<rightsReference ref="https://creativecommons.org/licenses/by/4.0/"/>'), True),
    ("about-rights-definition", "about",
     rights(f"<rightsDefinition>{DC}</rightsDefinition>"), True),
    ("about-rights-empty", "about", rights(""), False),
    ("about-rights-reference-extra-attribute", "about",
     rights('<rightsReference ref="https://x.example.org/" lang="en"/>'), False),
    ("about-rights-definition-invalid-dc", "about", rights(
        f'<rightsDefinition><oai_dc:dc xmlns:oai_dc="{ns.OAI_DC}"><oai_dc:rights/>'
        "</oai_dc:dc></rightsDefinition>"), False),
    ("about-rights-manifest", "about", manifest(REF), True),
]


def response(where: str, payload: str) -> bytes:
    """A whole OAI-PMH response with `payload` in an Identify description or a record's about."""
    if where == "description":
        body = (
            "<Identify><repositoryName>R</repositoryName>"
            "<baseURL>https://repo.example.org/oai</baseURL><protocolVersion>2.0</protocolVersion>"
            "<adminEmail>a@repo.example.org</adminEmail>"
            "<earliestDatestamp>2000-01-01T00:00:00Z</earliestDatestamp>"
            "<deletedRecord>no</deletedRecord><granularity>YYYY-MM-DD</granularity>"
            f"<description>{payload}</description></Identify>")
        request = 'verb="Identify"'
    else:
        body = (
            "<GetRecord><record><header><identifier>oai:repo.example.org:1</identifier>"
            "<datestamp>2024-01-01</datestamp></header>"
            f"<metadata>{DC}</metadata><about>{payload}</about></record></GetRecord>")
        request = 'verb="GetRecord" identifier="oai:repo.example.org:1" metadataPrefix="oai_dc"'
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="{ns.OAI}">'
            f"<responseDate>2024-05-01T12:00:00Z</responseDate>"
            f"<request {request}>https://repo.example.org/oai</request>{body}</OAI-PMH>"
            ).encode()


def _verdict(schema: etree.XMLSchema, document: bytes | str) -> bool:
    data = document.encode() if isinstance(document, str) else document
    return bool(schema.validate(etree.fromstring(data, etree.XMLParser(no_network=True))))


IDS = [p[0] for p in PAYLOADS]
ARGS = [p[1:] for p in PAYLOADS]
OWN_XSDS = {ns.EPRINTS: "eprints.xsd", ns.FRIENDS: "friends.xsd", ns.BRANDING: "branding.xsd",
            ns.RIGHTS: "rightsManifest.xsd"}


# --------------------------------------------------------------------------- ours


@pytest.mark.parametrize(("where", "payload", "valid"), ARGS, ids=IDS)
def test_response_verdict(where: str, payload: str, valid: bool) -> None:
    document = response(where, payload)
    if valid:
        validate_response(document)
    else:
        with pytest.raises(SchemaViolation):
            validate_response(document)


def test_the_schemas_are_registered_and_catalogued() -> None:
    resolver = CatalogResolver(schema_dir() / "catalog.xml")
    for namespace, name in OWN_XSDS.items():
        assert resolver.lookup(NAMESPACE_SCHEMAS[namespace]) == (schema_dir() / name).resolve()
        root = etree.parse(str(schema_dir() / name)).getroot()
        assert root.get("targetNamespace") == namespace
    for url in (ns.RIGHTS_SCHEMA_URL, "https://www.openarchives.org/OAI/2.0/rights.xsd",
                "https://openarchives.org/OAI/2.0/branding.xsd"):
        assert resolver.lookup(url) is not None, url


def test_fragments_validate_by_prefix() -> None:
    validate_fragment("friends", friends("<baseURL>https://a.example.org/oai</baseURL>"))
    validate_fragment("rights", rights('<rightsReference ref="https://x.example.org/"/>'))
    with pytest.raises(SchemaViolation):
        validate_fragment("branding", branding(ICON + ICON))


# --------------------------------------------------------------------------- agreement


@pytest.fixture(scope="module")
def official() -> dict[str, etree.XMLSchema]:
    """The official schemas: each description namespace alone, rights.xsd alone, and a
    wrapper of all of them with OAI-PMH.xsd and oai_dc.xsd (key "response")."""
    catalog = REFERENCE_SCHEMAS / "catalog.xml"
    if not catalog.is_file():
        pytest.skip(f"official schemas not available at {REFERENCE_SCHEMAS}")
    resolver = CatalogResolver(catalog)
    parser = schema_parser(catalog)
    table = {ns.OAI: ns.OAI_SCHEMA_URL, ns.OAI_DC: ns.OAI_DC_SCHEMA_URL,
             **{n: NAMESPACE_SCHEMAS[n] for n in OWN_XSDS}}
    compiled: dict[str, etree.XMLSchema] = {}
    for namespace, url in [*table.items(), ("rights.xsd", ns.RIGHTS_SCHEMA_URL)]:
        local = resolver.lookup(url)
        assert local is not None and REFERENCE_SCHEMAS.resolve() in local.parents, url
        compiled[namespace] = etree.XMLSchema(etree.parse(url, parser))
    imports = "".join(f'<xs:import namespace="{n}" schemaLocation="{u}"/>'
                      for n, u in table.items())
    wrapper = f'<xs:schema xmlns:xs="{XS}">{imports}</xs:schema>'.encode()
    compiled["response"] = etree.XMLSchema(etree.fromstring(
        wrapper, parser, base_url=str(REFERENCE_SCHEMAS / "wrapper.xsd")))
    return compiled


@pytest.mark.parametrize(("where", "payload", "valid"), ARGS, ids=IDS)
def test_official_schemas_agree_in_responses(official: dict[str, etree.XMLSchema], where: str,
                                             payload: str, valid: bool) -> None:
    document = response(where, payload)
    assert _verdict(official["response"], document) is valid
    assert _verdict(response_schema(), document) is valid


@pytest.mark.parametrize(("where", "payload", "valid"), ARGS, ids=IDS)
def test_official_schemas_agree_alone(official: dict[str, etree.XMLSchema], where: str,
                                      payload: str, valid: bool) -> None:
    """Schema by schema, with nothing else compiled in (strict wildcards then fail alike)."""
    namespace = etree.QName(etree.fromstring(payload.encode())).namespace
    assert namespace in OWN_XSDS
    ours = _verdict(load_schema(OWN_XSDS[namespace]), payload)
    assert _verdict(official[namespace], payload) is ours
    if namespace == ns.RIGHTS and "rightsManifest" not in payload:
        rights_alone = _verdict(load_schema("rights.xsd"), payload)
        assert _verdict(official["rights.xsd"], payload) is rights_alone
        assert rights_alone is ours
    if "rightsDefinition" not in payload:  # nothing strict-wildcarded: same as in a response
        assert ours is valid
