"""The shared OAI-PMH writer: envelopes, errors and headers are well-formed and schema-valid,
and any text put into them comes back out unchanged (escaped, never breaking the document)."""

from __future__ import annotations

from lxml import etree

from oai.protocol.schemas import validate_response
from oai.protocol.writer import (
    CLOSE,
    error_document,
    error_elements,
    header,
    header_bytes,
    open_envelope,
)
from tests.conftest import NS

BASE = "http://example.org/oai"


def test_header_document_is_valid_and_round_trips() -> None:
    items = [header("oai:example.org:a&b<c>", "2024-01-02T03:04:05Z", False, ["s", "s:t"]),
             header("oai:example.org:gone", "2024-01-02", True)]
    document = (open_envelope(1_700_000_000, BASE, {"verb": "ListIdentifiers",
                                                     "metadataPrefix": "oai_dc"})
                + "<ListIdentifiers>" + b"".join(items).decode() + "</ListIdentifiers>" + CLOSE)
    validate_response(document.encode())
    root = etree.fromstring(document.encode())
    first, second = root.findall("o:ListIdentifiers/o:header", NS)
    assert first.findtext("o:identifier", namespaces=NS) == "oai:example.org:a&b<c>"
    assert [s.text for s in first.iterfind("o:setSpec", NS)] == ["s", "s:t"]
    assert first.get("status") is None
    assert second.get("status") == "deleted"
    assert second.findtext("o:datestamp", namespaces=NS) == "2024-01-02"
    assert root.find("o:request", NS).attrib == {"verb": "ListIdentifiers",
                                                  "metadataPrefix": "oai_dc"}


def test_header_escapes_any_set_spec_text() -> None:
    """Exports write whatever setSpecs a harvested source sent: the XML stays well-formed."""
    odd = ["a&b", "<x>", "c]]>d", "bell\x07"]
    element = etree.fromstring(header("oai:x:1", "2024-01-01", set_specs=odd))
    assert [s.text for s in element.iterfind("setSpec")] == ["a&b", "<x>", "c]]>d", "bell"]


def test_header_bytes_is_the_same_element_from_escaped_pieces() -> None:
    assert header_bytes(b"oai:x:a&amp;b", b"2024-01-01", True, b"<setSpec>s</setSpec>") == \
        header("oai:x:a&b", "2024-01-01", True, ["s"])


def test_error_document_is_valid_and_escapes_messages() -> None:
    body = error_document(0, BASE, [("badArgument", "no <good> & \x00bad")])
    validate_response(body)
    root = etree.fromstring(body)
    assert root.findtext("o:error", namespaces=NS) == "no <good> & bad"
    assert root.find("o:request", NS).attrib == {}
    assert root.findtext("o:request", namespaces=NS) == BASE
    assert error_elements([("a", "x"), ("b", "y")]).count("<error ") == 2
