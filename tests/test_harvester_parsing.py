"""Page parsing: real captured responses, quirks served over loopback, and inline edge cases."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from harvester.client import OAIClient
from harvester.errors import (
    MalformedResponse,
    NotOAIResponse,
    OAIProtocolError,
    ResponseTooLarge,
)
from harvester.parsing import Page, parse_formats, parse_identify, parse_page, parse_sets
from oai.protocol.datestamps import Granularity
from oai.protocol.namespaces import OAI
from tests.quirk_server import QuirkServer, serve_quirks

pytestmark = pytest.mark.timeout(60)

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-responses"


def _real_rows() -> list[dict[str, str]]:
    index = REAL / "index.csv"
    if not index.is_file():
        return []
    with index.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


REAL_ROWS = _real_rows()
NOT_RESPONSES = {"document", "record", "records"}
needs_real = pytest.mark.skipif(not REAL_ROWS, reason=f"reference responses not found in {REAL}")


@pytest.fixture
def quirks() -> Iterator[QuirkServer]:
    with serve_quirks() as server:
        yield server


def fetch(server: QuirkServer, quirk: str, **args: str) -> bytes:
    client = OAIClient(server.url(quirk), sleep=lambda s: None)
    return client.request("ListRecords", metadataPrefix="oai_dc", **args).body


def assert_standalone(xml: str) -> etree._Element:
    """Metadata must be well-formed on its own, with its namespaces declared."""
    return etree.fromstring(xml.encode("utf-8"))


def title(page: Page, i: int) -> str:
    md = page.records[i].metadata
    assert md is not None
    return assert_standalone(md).findtext("{http://purl.org/dc/elements/1.1/}title") or ""


# --- real responses ---------------------------------------------------------------------------


@needs_real
@pytest.mark.parametrize("row", REAL_ROWS, ids=[r["file"] for r in REAL_ROWS] or None)
def test_real_response(row: dict[str, str]) -> None:
    body = (REAL / row["file"]).read_bytes()
    verb, quirk = row["verb"], row["quirk"]
    expected = int(row["records_in_file"] or 0)
    if "empty (0-byte) body" in quirk:
        with pytest.raises(NotOAIResponse):
            parse_page(body, verb)
        return
    if verb in NOT_RESPONSES:
        # bare metadata documents and <record> dumps (the format validator's corpus): a
        # harvester must refuse them as responses, never read them as an empty page
        with pytest.raises(NotOAIResponse, match="not <OAI-PMH>"):
            parse_page(body, "ListRecords")
        return
    if verb == "Identify":
        info = parse_identify(body)
        assert info.repository_name and info.base_url.startswith("http")
        assert info.protocol_version == "2.0"
        assert isinstance(info.granularity, Granularity) and info.admin_emails
        return
    page = parse_page(body, verb if verb != "none" else "ListRecords")
    code = re.search(r"error:(\w+)", quirk)
    if code:
        assert page.records == []
        if code.group(1) == "noRecordsMatch":
            assert page.no_records_match and page.errors == []
        else:
            assert [c for c, _ in page.errors] == [code.group(1)]
            with pytest.raises(OAIProtocolError):
                page.raise_for_errors()
        return
    assert page.errors == [] and page.quarantined == []
    assert page.response_date and page.response_epoch
    if verb == "ListSets":
        assert len(page.sets) == expected and all(s.spec for s in page.sets)
    elif verb == "ListMetadataFormats":
        assert len(page.formats) == expected
        assert "oai_dc" in [f.prefix for f in page.formats]
    else:
        assert len(page.records) == expected > 0
        for rec in page.records:
            assert rec.identifier and rec.datestamp_epoch is not None
            if rec.deleted or verb == "ListIdentifiers":
                assert rec.metadata is None
            else:
                assert rec.metadata is not None
                assert_standalone(rec.metadata)
        assert any(r.deleted for r in page.records) == ("deleted" in quirk)
    if "control character" in quirk:
        assert any("U+000B" in r for r in page.repairs) and page.raw == body
    else:
        assert page.repairs == [] and page.raw is None
    token = re.search(rb"<resumptionToken[^>]*?(?:/>|>([^<]*)<)", body)
    if token is None:
        assert page.token is None
    else:
        assert page.token is not None
        assert page.next_token == ((token.group(1) or b"").strip().decode() or None)
    if "cursor counts pages" in quirk:
        assert page.token is not None and page.token.cursor == 0


@needs_real
def test_real_hex_setspecs_and_cr_references_are_kept() -> None:
    page = parse_page((REAL / "eprints-cogprints_ListRecords_oai_dc.xml").read_bytes(),
                      "ListRecords")
    assert page.repairs == []
    assert any(re.fullmatch(r"[0-9a-fA-F=:]+", s) for r in page.records for s in r.set_specs)


# --- quirks over loopback ---------------------------------------------------------------------


def test_control_characters_literal_and_as_references(quirks: QuirkServer) -> None:
    body = fetch(quirks, "ctrl-char")
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(body)
    page = parse_page(body, "ListRecords")
    assert len(page.records) == 3 and not page.quarantined
    assert title(page, 0) == "Verticaltab" and title(page, 1) == "Charref"
    assert any("U+000B" in r for r in page.repairs)
    assert any("&#11;" in r and "&#x0B;" in r for r in page.repairs)
    assert page.raw == body


def test_latin1_bytes_declared_utf8(quirks: QuirkServer) -> None:
    page = parse_page(fetch(quirks, "latin1-as-utf8"), "ListRecords")
    assert title(page, 0) == "Café Ørsted São Paulo"
    assert any("not UTF-8" in r for r in page.repairs)


def test_utf8_bytes_declared_latin1_is_not_mojibake(quirks: QuirkServer) -> None:
    body = fetch(quirks, "utf8-as-latin1")
    assert "Ã©" in etree.tostring(etree.fromstring(body), encoding="unicode")  # the trap
    page = parse_page(body, "ListRecords")
    assert title(page, 0) == "Café Ørsted São Paulo"
    assert any("ISO-8859-1" in r for r in page.repairs)


def test_wrong_declared_encoding(quirks: QuirkServer) -> None:
    page = parse_page(fetch(quirks, "wrong-encoding"), "ListRecords")
    assert title(page, 0) == "Café Ørsted"
    assert page.repairs


def test_one_bad_record_is_quarantined_alone(quirks: QuirkServer) -> None:
    body = fetch(quirks, "bad-record")
    page = parse_page(body, "ListRecords")
    assert [r.identifier[-9:] for r in page.records] == ["rec-00000", "rec-00002"]
    assert len(page.quarantined) == 1
    bad = page.quarantined[0]
    assert bad.index == 1 and bad.identifier == "oai:quirks.example.org:rec-00001"
    assert b"</dc:titel>" in bad.raw and bad.raw in body
    assert page.next_token == "p3" and page.raw == body


def test_external_entities_and_dtd_are_never_loaded(quirks: QuirkServer,
                                                   tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    body = fetch(quirks, "entity", secret=str(secret))
    page = parse_page(body, "ListRecords")
    assert quirks.state.leak_hits == 0
    md = page.records[0].metadata or ""
    assert "TOP-SECRET" not in md and "LEAKED" not in md
    assert title(page, 0) == "before  after"


@pytest.mark.parametrize("quirk", ["prefixed", "no-namespace"])
def test_prefixed_or_unnamespaced_oai_elements(quirks: QuirkServer, quirk: str) -> None:
    body = fetch(quirks, quirk)
    assert (b"<oai:OAI-PMH" in body) == (quirk == "prefixed")
    page = parse_page(body, "ListRecords")
    assert len(page.records) == 10 and page.next_token == "p10"
    assert page.token is not None and page.token.complete_list_size == 25
    assert page.response_date == "2024-02-01T00:00:00Z"


# --- inline edge cases ------------------------------------------------------------------------

HEAD = f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI}">' \
       "<responseDate>2024-01-01T00:00:00Z</responseDate><request>http://x/oai</request>"


def rec(ident: str, inner: str = "<t xmlns='urn:t'>ok</t>", extra: str = "") -> str:
    return (f"<record><header><identifier>{ident}</identifier><datestamp>2024-01-01"
            f"</datestamp></header><metadata>{inner}</metadata>{extra}</record>")


def page_of(*records: str, token: str = "", head: str = HEAD) -> bytes:
    return (head + "<ListRecords>" + "".join(records) + token + "</ListRecords></OAI-PMH>"
            ).encode("utf-8")


@pytest.mark.parametrize("body", [
    b"", b"  \n", b"<!DOCTYPE html><html><body>Oops</body></html>",
    b"<html><head><title>OAI</title></head></html>", b'{"records": []}',
    b"Service Unavailable", b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"/>',
])
def test_non_oai_bodies_are_errors(body: bytes) -> None:
    with pytest.raises(NotOAIResponse):
        parse_page(body, "ListRecords")


def test_oai_page_without_list_or_error_is_not_zero_records() -> None:
    with pytest.raises(MalformedResponse):
        parse_page((HEAD + "</OAI-PMH>").encode(), "ListRecords")


def test_unrepairable_page_without_records() -> None:
    with pytest.raises(MalformedResponse):
        parse_page((HEAD + "<ListRecords><resumptionToken>x</ListRecords>").encode(),
                   "ListRecords")


def test_byte_cap() -> None:
    body = page_of(rec("a"))
    with pytest.raises(ResponseTooLarge):
        parse_page(body, "ListRecords", max_bytes=len(body) - 1)
    assert len(parse_page(body, "ListRecords", max_bytes=len(body)).records) == 1


def test_metadata_is_exact_standalone_xml_without_tail() -> None:
    inner = ("<x:doc xmlns:x='urn:x' xmlns:y='urn:y'><y:a y:k='v'>A &amp; B</y:a></x:doc>"
             "tail text")
    page = parse_page(page_of(rec("a", inner, "<about><prov xmlns='urn:p'/></about>")),
                      "ListRecords")
    md = page.records[0].metadata or ""
    root = assert_standalone(md)
    assert root.tag == "{urn:x}doc" and root[0].get("{urn:y}k") == "v"
    assert root[0].text == "A & B" and not md.endswith("tail text")
    assert page.records[0].about and assert_standalone(page.records[0].about[0]).tag == \
        "{urn:p}prov"


def test_mixed_encoding_keeps_both_utf8_and_latin1_text() -> None:
    body = page_of(rec("a", "<t xmlns='urn:t'>Zürich</t>"), rec("b", "<t xmlns='urn:t'>XX</t>"))
    body = body.replace(b"XX", "Málaga".encode("latin-1"))
    page = parse_page(body, "ListRecords")
    texts = [assert_standalone(r.metadata or "").text for r in page.records]
    assert texts == ["Zürich", "Málaga"]
    assert page.repairs and all("\ufffd" not in (r.metadata or "") for r in page.records)


def test_nested_marc_records_do_not_confuse_the_salvage() -> None:
    marc = ("<record xmlns='http://www.loc.gov/MARC21/slim'><leader>x</leader>"
            "<datafield tag='245'><subfield code='a'>{}</subfield></datafield></record>")
    body = page_of(rec("a", marc.format("good")), rec("b", marc.format("bad</subfeld>")),
                   rec("c", marc.format("also good")),
                   token='<resumptionToken cursor="0">tok</resumptionToken>')
    page = parse_page(body, "ListRecords")
    assert [r.identifier for r in page.records] == ["a", "c"]
    assert [q.identifier for q in page.quarantined] == ["b"]
    assert "also good" in (page.records[1].metadata or "")
    assert page.next_token == "tok"


def test_broken_envelope_token_read_by_pattern() -> None:
    head = HEAD.replace("</responseDate>", "</responseDat>")
    body = page_of(rec("a"), rec("b"),
                   token='<resumptionToken completeListSize="9" cursor="0">t2</resumptionToken>',
                   head=head)
    page = parse_page(body, "ListRecords")
    assert len(page.records) == 2 and page.next_token == "t2"
    assert page.token is not None and page.token.complete_list_size == 9


def test_bare_ampersand_is_repaired() -> None:
    page = parse_page(page_of(rec("a", "<t xmlns='urn:t'>AT&T</t>")), "ListRecords")
    assert assert_standalone(page.records[0].metadata or "").text == "AT&T"
    assert any("&" in r for r in page.repairs)


def test_record_without_identifier_is_quarantined() -> None:
    page = parse_page(page_of(rec("a"), rec("")), "ListRecords")
    assert len(page.records) == 1 and len(page.quarantined) == 1


def test_identify_formats_and_sets() -> None:
    identify = (HEAD + "<Identify><repositoryName>R</repositoryName><baseURL>http://x/oai"
                "</baseURL><protocolVersion>2.0</protocolVersion><adminEmail>a@x</adminEmail>"
                "<earliestDatestamp>2001-01-01</earliestDatestamp><deletedRecord>no"
                "</deletedRecord><granularity>YYYY-MM-DD</granularity></Identify></OAI-PMH>")
    info = parse_identify(identify.encode())
    assert info.granularity is Granularity.DAY and info.admin_emails == ["a@x"]
    formats = (HEAD + "<ListMetadataFormats><metadataFormat><metadataPrefix>oai_dc"
               "</metadataPrefix><schema>s</schema><metadataNamespace>n</metadataNamespace>"
               "</metadataFormat></ListMetadataFormats></OAI-PMH>")
    assert [f.prefix for f in parse_formats(formats.encode())] == ["oai_dc"]
    no_sets = HEAD + '<error code="noSetHierarchy">none</error></OAI-PMH>'
    assert parse_sets(no_sets.encode()).errors == [("noSetHierarchy", "none")]
    with pytest.raises(OAIProtocolError):
        parse_identify(no_sets.encode())


# --- payload scanning ---------------------------------------------------------------------------

_NAMES = st.sampled_from(["metadata", "about", "oai:metadata", "x:about", "header", "record",
                          "metadataX", "xabout", "a", "dc:title"])


@st.composite
def _xmlish(draw: st.DrawFn) -> str:
    """Well-formed XML (no `<` in attribute values) whose tags, attributes and text mention
    the container names."""
    def element(depth: int) -> str:
        name = draw(_NAMES)
        attrs = draw(st.sampled_from(["", ' a="metadata>x"', " b='/about>'", ' c="x:about"']))
        if depth > 3 or draw(st.booleans()):
            return f"<{name}{attrs}/>"
        inner = "".join(element(depth + 1) if draw(st.booleans())
                        else draw(st.sampled_from(["text", " metadata ", "about:", "&amp;"]))
                        for _ in range(draw(st.integers(0, 3))))
        return f"<{name}{attrs}>{inner}</{name}>"
    return "<r>" + "".join(element(0) for _ in range(draw(st.integers(1, 4)))) + "</r>"


_PROLOGS = st.sampled_from([
    "", '<?xml version="1.0"?>\n', '\ufeff<?xml version="1.0" encoding="UTF-8"?>',
    '<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="/metadata/about.xsl"?>\n',
    '<?xml version="1.0"?>\n<!-- <metadata> about --><?pi <about>?> ',
    '<?xml version="1.0"?><!DOCTYPE r>'])


@given(_PROLOGS, _xmlish())
def test_the_fast_container_scan_agrees_with_the_general_one(prolog: str, text: str) -> None:
    """The page scan (which steps over the prolog and takes the fast path when it can) finds
    the same containers as the general expression over the whole page."""
    from harvester.parsing.payload import _pair, _tags_by_regex, container_spans

    data = (prolog + text).encode("utf-8")
    assert container_spans(data) == _pair(_tags_by_regex(data))


def test_a_stylesheet_instruction_in_the_prolog_keeps_the_fast_scan(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from harvester.parsing import payload

    def general(data: bytes) -> None:
        raise AssertionError("the general scan ran on a page the fast one reads")

    monkeypatch.setattr(payload, "_tags_by_regex", general)
    data = (b'<?xml version="1.0"?><?xml-stylesheet href="x.xsl"?>'
            b"<r><metadata><a/></metadata></r>")
    assert payload.container_spans(data) == [("metadata", data.index(b"<a/>"),
                                              data.index(b"</metadata>"))]


@needs_real
def test_the_fast_container_scan_agrees_on_real_responses() -> None:
    from harvester.parsing.payload import _pair, _tags_by_find, _tags_by_regex, container_spans

    for row in REAL_ROWS:
        data = (REAL / row["file"]).read_bytes()
        assert container_spans(data) == _pair(_tags_by_regex(data)), row["file"]
        assert _pair(_tags_by_find(data, 0)) == _pair(_tags_by_regex(data)), row["file"]


_VALUES = st.sampled_from(['"1"', "'a>b'", '"it\'s"', "'say \"hi\"'", '"x:y"', '""'])


@given(st.sampled_from(["a", "p:doc", "x.y-z"]),
       st.lists(st.tuples(st.sampled_from(["k", "xmlns", "xmlns:p", "p:k"]), _VALUES),
                max_size=4, unique_by=lambda kv: kv[0]),
       st.sampled_from(["", " ", "\n  "]), st.booleans(), st.sampled_from(["", "<c/>text"]))
def test_start_tags_are_read_as_the_general_expression_reads_them(
        name: str, attributes: list[tuple[str, str]], space: str, empty: bool,
        rest: str) -> None:
    from harvester.parsing.payload import _START_TAG, _start_tag

    text = (f"<{name}{''.join(f' {k}={v}' for k, v in attributes)}{space}"
            f"{'/' if empty else ''}>{rest}")
    m = _START_TAG.match(text)
    assert m is not None
    assert _start_tag(text) == (m.group(1), m.group(2), m.start(2))


@pytest.mark.parametrize(("inner", "needs_default"), [
    ("<dc><title>T</title></dc>", True),  # a careless feed: the payload inherits OAI's default
    ("<p:dc xmlns:p='urn:p'><title>T</title></p:dc>", True),  # only a child inherits it
    ("<p:dc xmlns:p='urn:p'><p:title>T</p:title></p:dc>", False),
    ("<p:dc xmlns:p='urn:p'><t xmlns='urn:t'>T</t></p:dc>", False),  # redeclared below
    ("<dc xmlns='urn:d'><title>T</title></dc>", False),  # declares its own default
])
def test_an_inherited_default_namespace_is_declared_only_when_used(
        inner: str, needs_default: bool) -> None:
    """A payload keeps the namespaces it has in the page when it stands alone: the envelope's
    default namespace is added exactly when one of its unprefixed elements is in it."""
    page = parse_page(page_of(rec("a", inner)), "ListRecords")
    md = page.records[0].metadata or ""
    alone = assert_standalone(md)
    in_page = etree.fromstring(page_of(rec("a", inner))).find(f".//{{{OAI}}}metadata")[0]
    assert [e.tag for e in alone.iter()] == [e.tag for e in in_page.iter()]
    assert (f'xmlns="{OAI}"' in md) is needs_default
    if not needs_default:
        assert md == inner  # byte for byte
