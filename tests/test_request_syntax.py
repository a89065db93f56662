"""Argument values that no repository could ever have are badArgument (which echoes nothing),
and whatever reaches the request element is of its schema type: responses stay valid."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from oai.protocol.arguments import VERB_RULES
from oai.protocol.schemas import validate_response
from oai.protocol.syntax import (
    REQUEST_ATTRIBUTES,
    VERBS,
    echoable,
    is_identifier,
    is_metadata_prefix,
    is_set_spec,
)
from oai.protocol.writer import error_document
from oai.protocol.xmltext import strip_illegal_xml_chars
from oai.provider.app import create_app
from oai.store.repository import Store
from tests.conftest import NS, OAIClient, error_codes, make_config, put, record

ID = "oai:test.example.org:a"

# (query, argument at fault): each value breaks its OAI-PMH.xsd type.
ILLEGAL = [
    ("verb=ListRecords&metadataPrefix=%C3%A9", "metadataPrefix"),
    ("verb=ListIdentifiers&metadataPrefix=oai%20dc", "metadataPrefix"),
    ("verb=GetRecord&identifier=" + ID + "&metadataPrefix=oai_dc%0A", "metadataPrefix"),
    ("verb=ListRecords&metadataPrefix=oai_dc&set=%C3%A9", "set"),
    ("verb=ListRecords&metadataPrefix=oai_dc&set=a::b", "set"),
    ("verb=ListRecords&metadataPrefix=oai_dc&set=:a", "set"),
    ("verb=ListRecords&metadataPrefix=oai_dc&set=a:", "set"),
    ("verb=GetRecord&metadataPrefix=oai_dc&identifier=a%5Bb", "identifier"),
    ("verb=GetRecord&metadataPrefix=oai_dc&identifier=" + ID + "%25zz", "identifier"),
    ("verb=GetRecord&metadataPrefix=oai_dc&identifier=a%23b%23c", "identifier"),
    ("verb=ListMetadataFormats&identifier=1:a", "identifier"),
    ("verb=ListMetadataFormats&identifier=http://h:port/", "identifier"),
    ("verb=ListMetadataFormats&identifier=a%01b", "identifier"),
    ("verb=ListMetadataFormats&identifier=a%00", "identifier"),
    # digits of another script are not the protocol's digits
    ("verb=ListRecords&metadataPrefix=oai_dc&from=%D9%A2%D9%A0%D9%A0%D9%A1-01-01", "from"),
]


@pytest.fixture
def populated(oai: OAIClient, store: Store) -> OAIClient:
    put(store, record("a", sets=["s"]))
    return oai


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(("query", "argument"), ILLEGAL, ids=[q for q, _ in ILLEGAL])
def test_illegal_values_are_bad_argument(populated: OAIClient, query: str, argument: str,
                                         method: str) -> None:
    if method == "GET":
        resp = populated.client.get("/oai?" + query)
    else:
        resp = populated.client.post("/oai", data=query,
                                     content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 200
    validate_response(resp.data)
    root = etree.fromstring(resp.data)
    assert error_codes(root) == ["badArgument"]
    assert argument in root.findtext("o:error", namespaces=NS)
    assert root.find("o:request", NS).attrib == {}


@pytest.mark.parametrize(("params", "code"), [
    # legal syntax, nothing by that name here: the values are echoed, and valid
    ({"verb": "GetRecord", "identifier": "a b", "metadataPrefix": "oai_dc"}, "idDoesNotExist"),
    ({"verb": "GetRecord", "identifier": "oai:test.example.org:é", "metadataPrefix": "oai_dc"},
     "idDoesNotExist"),
    ({"verb": "GetRecord", "identifier": ID, "metadataPrefix": "x(y)~z"},
     "cannotDisseminateFormat"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "n:o-p_e.!~*'()"},
     "noRecordsMatch"),
])
def test_legal_but_unknown_values_are_echoed(populated: OAIClient, params: dict[str, str],
                                             code: str) -> None:
    root = populated(**params)
    assert error_codes(root) == [code]
    assert root.find("o:request", NS).attrib == params


@pytest.mark.parametrize(("value", "accepted"), [
    # what libxml2 really decides: it replaces spaces and non-ASCII before parsing
    ("oai:test.example.org:a", True), ("a b", True), ("é", True), ("a|b", True),
    ("a[b", False), ("%", False), ("%zz", False), ("a#b#c", False), ("1:a", False),
    ("::", False), ("http://h:p/", False), ("http://u@h@i/", False), ("a\x01", False),
])
def test_identifier_syntax_is_libxml2s_any_uri(value: str, accepted: bool) -> None:
    assert is_identifier(value) is accepted


def test_prefix_and_set_patterns() -> None:
    assert is_metadata_prefix("oai_dc") and is_metadata_prefix("a-b.c!~*'()")
    assert not any(map(is_metadata_prefix, ["", "a b", "a:b", "é", "oai_dc\n"]))
    assert is_set_spec("a") and is_set_spec("a:b:c-d")
    assert not any(map(is_set_spec, ["", ":", "a:", ":a", "a::b", "a b", "é", "a\n"]))


def test_verbs_are_the_schema_enumeration() -> None:
    assert set(VERB_RULES) == VERBS


_NAMES = st.sampled_from([*REQUEST_ATTRIBUTES, "other", "xmlns", "a b"])


@settings(max_examples=200, deadline=None)
@given(arguments=st.dictionaries(_NAMES, st.text(), max_size=7),
       base_url=st.one_of(st.text(), st.just("http://[bad/oai")))
def test_the_echo_never_breaks_the_schema(arguments: dict[str, str], base_url: str) -> None:
    """The net under the envelope: any attribute names, any values, any base URL."""
    body = error_document(0, base_url, [("idDoesNotExist", "x")], arguments)
    validate_response(body)
    echoed = etree.fromstring(body).find("o:request", NS).attrib
    # values are echoed as they are, less characters XML cannot carry at all
    assert dict(echoed) == {k: strip_illegal_xml_chars(v)
                            for k, v in echoable(arguments).items()}
    assert set(echoed) <= set(REQUEST_ATTRIBUTES)


def test_a_bad_base_url_is_made_a_uri() -> None:
    body = error_document(0, "http://ex[ample/o%ai", [("badArgument", "x")])
    validate_response(body)
    assert etree.fromstring(body).findtext("o:request", namespaces=NS) == \
        quote("http://ex[ample/o%ai", safe="/:@!$&'()*+,;=?~")


def test_a_configured_base_url_that_is_no_uri_cannot_break_identify(store: Store) -> None:
    client = create_app(make_config(base_url="http://ex[ample/oai"), store).test_client()
    resp = client.get("/oai?verb=Identify")
    validate_response(resp.data)
    assert etree.fromstring(resp.data).findtext("o:Identify/o:baseURL", namespaces=NS) == \
        "http://ex%5Bample/oai"
