"""The six verbs over a real store (SQLite and PostgreSQL); every response schema-validated."""

from __future__ import annotations

import gzip
import zlib

import pytest
from lxml import etree

from oai.formats import registry
from oai.protocol.datestamps import format_datestamp
from oai.protocol.namespaces import DC, OAI_DC, OAI_IDENTIFIER
from oai.provider.app import create_app
from oai.store.repository import Store
from tests.conftest import NS, Clock, OAIClient, error_codes, make_config, put, record

ID = "oai:test.example.org:"


def identifiers(items: list[etree._Element]) -> list[str]:
    return [i.findtext(".//o:identifier", namespaces=NS) for i in items]


def test_identify(oai: OAIClient, store: Store, clock: Clock) -> None:
    first = clock.now
    put(store, record("a"))
    clock.tick(100)
    put(store, record("b"))
    store.delete(["a"])
    root = oai(verb="Identify")
    ident = root.find("o:Identify", NS)
    assert ident.findtext("o:repositoryName", namespaces=NS) == "Test Repository"
    assert ident.findtext("o:baseURL", namespaces=NS) == "http://test.example.org/oai"
    assert ident.findtext("o:protocolVersion", namespaces=NS) == "2.0"
    assert ident.findtext("o:adminEmail", namespaces=NS) == "admin@test.example.org"
    assert ident.findtext("o:deletedRecord", namespaces=NS) == "persistent"
    assert ident.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    # "a" was re-datestamped by its deletion, so the earliest is now b's datestamp...
    assert ident.findtext("o:earliestDatestamp", namespaces=NS) == format_datestamp(first + 100)
    assert [c.text for c in ident.iterfind("o:compression", NS)] == ["gzip", "deflate"]
    desc = ident.find(f"o:description/{{{OAI_IDENTIFIER}}}oai-identifier", NS)
    assert desc.findtext(f"{{{OAI_IDENTIFIER}}}repositoryIdentifier") == "test.example.org"
    assert root.find("o:request", NS).attrib == {"verb": "Identify"}


def test_earliest_datestamp_counts_tombstones(oai: OAIClient, store: Store,
                                              clock: Clock) -> None:
    put(store, record("x"))
    store.delete(["x"])
    earliest = clock.now
    clock.tick(50)
    put(store, record("y"))
    root = oai(verb="Identify")
    assert root.findtext("o:Identify/o:earliestDatestamp", namespaces=NS) == \
        format_datestamp(earliest)


def test_list_metadata_formats(oai: OAIClient, store: Store) -> None:
    put(store, record("a"))
    root = oai(verb="ListMetadataFormats")
    prefixes = [e.text for e in root.iterfind(".//o:metadataPrefix", NS)]
    assert "oai_dc" in prefixes
    fmt = root.find(".//o:metadataFormat", NS)
    assert fmt.findtext("o:metadataNamespace", namespaces=NS) == OAI_DC
    one = oai(verb="ListMetadataFormats", identifier=ID + "a")
    carried = [p for p, f in registry().items() if f.unavailable(record("a")) is None]
    assert [e.text for e in one.iterfind(".//o:metadataPrefix", NS)] == carried
    assert error_codes(oai(verb="ListMetadataFormats", identifier=ID + "nope")) == \
        ["idDoesNotExist"]
    assert error_codes(oai(verb="ListMetadataFormats", identifier="oai:other.org:a")) == \
        ["idDoesNotExist"]


def test_get_record_and_tombstone(oai: OAIClient, store: Store) -> None:
    put(store, record("a", "Über & <Ünïcode>", sets=["school:eng"]))
    root = oai(verb="GetRecord", identifier=ID + "a", metadataPrefix="oai_dc")
    rec = root.find("o:GetRecord/o:record", NS)
    assert rec.findtext("o:header/o:identifier", namespaces=NS) == ID + "a"
    assert [s.text for s in rec.iterfind("o:header/o:setSpec", NS)] == ["school:eng"]
    assert rec.find(f".//{{{DC}}}title").text == "Über & <Ünïcode>"
    store.delete(["a"])
    root = oai(verb="GetRecord", identifier=ID + "a", metadataPrefix="oai_dc")
    header = root.find("o:GetRecord/o:record/o:header", NS)
    assert header.get("status") == "deleted"
    assert root.find("o:GetRecord/o:record/o:metadata", NS) is None
    # the tombstone keeps its set memberships
    assert [s.text for s in header.iterfind("o:setSpec", NS)] == ["school:eng"]


@pytest.mark.parametrize(("params", "code"), [
    ({"identifier": ID + "zzz", "metadataPrefix": "oai_dc"}, "idDoesNotExist"),
    ({"identifier": "not-an-oai-id", "metadataPrefix": "oai_dc"}, "idDoesNotExist"),
    ({"identifier": ID + "a", "metadataPrefix": "marcxml-nope"}, "cannotDisseminateFormat"),
    ({"identifier": ID + "a", "metadataPrefix": "OAI_DC"}, "cannotDisseminateFormat"),
])
def test_get_record_errors(oai: OAIClient, store: Store, params: dict[str, str],
                           code: str) -> None:
    put(store, record("a"))
    root = oai(verb="GetRecord", **params)
    assert error_codes(root) == [code]
    # non-argument errors echo the (legal) arguments
    assert root.find("o:request", NS).attrib == {"verb": "GetRecord", **params}


def test_control_characters_never_reach_a_response(oai: OAIClient, store: Store) -> None:
    put(store, record("c", "bad\x0bchar\ufffe here", abstracts=[{"text": "x\x01y"}]))
    data = oai.raw(verb="ListRecords", metadataPrefix="oai_dc")
    assert b"badchar here" in data and b"xy" in data


def test_paging_cursor_size_and_final_empty_token(oai: OAIClient, store: Store) -> None:
    put(store, *[record(f"r{i:03d}") for i in range(25)])  # page size 10
    root = oai(verb="ListIdentifiers", metadataPrefix="oai_dc")
    seen: list[str] = []
    cursors: list[tuple[str, str]] = []
    while True:
        body = root.find("o:ListIdentifiers", NS)
        headers = body.findall("o:header", NS)
        assert headers, "no page may be empty"
        seen += identifiers(headers)
        token = body.find("o:resumptionToken", NS)
        cursors.append((token.get("cursor"), token.get("completeListSize")))
        if not token.text:
            break
        root = oai(verb="ListIdentifiers", resumptionToken=token.text)
    assert seen == [ID + f"r{i:03d}" for i in range(25)]
    assert cursors == [("0", "25"), ("10", "25"), ("20", "25")]


def test_single_page_list_has_no_token(oai: OAIClient, store: Store) -> None:
    put(store, *[record(f"r{i}") for i in range(10)])  # exactly one page
    root = oai(verb="ListRecords", metadataPrefix="oai_dc")
    assert len(root.findall("o:ListRecords/o:record", NS)) == 10
    assert root.find("o:ListRecords/o:resumptionToken", NS) is None


def test_from_until_inclusive_at_both_granularities(oai: OAIClient, store: Store,
                                                   clock: Clock) -> None:
    clock.now = 1_700_000_000  # 2023-11-14T22:13:20Z
    put(store, record("a"))
    clock.tick(10)
    put(store, record("b"))
    clock.now += 86400
    put(store, record("c"))
    t_a, t_b = format_datestamp(1_700_000_000), format_datestamp(1_700_000_010)

    def ids(**params: str) -> list[str]:
        return identifiers(oai.harvest("ListIdentifiers", metadataPrefix="oai_dc", **params))

    assert ids(**{"from": t_a, "until": t_a}) == [ID + "a"]
    assert ids(**{"from": t_b}) == [ID + "b", ID + "c"]
    assert ids(until=t_b) == [ID + "a", ID + "b"]
    assert ids(**{"from": "2023-11-14", "until": "2023-11-14"}) == [ID + "a", ID + "b"]
    assert ids(**{"from": "2023-11-15"}) == [ID + "c"]
    assert ids(**{"from": "1900-01-01"}) == [ID + "a", ID + "b", ID + "c"]
    assert error_codes(oai(verb="ListIdentifiers", metadataPrefix="oai_dc",
                           until="2000-01-01")) == ["noRecordsMatch"]


def test_set_hierarchy(oai: OAIClient, store: Store) -> None:
    store.add_set("school", "Schools", "All schools")
    put(store, record("a", sets=["school:eng:civil"]), record("b", sets=["school:eng"]),
        record("c", sets=["school:law"]), record("d"))

    def ids(spec: str) -> list[str]:
        return sorted(identifiers(oai.harvest("ListIdentifiers", metadataPrefix="oai_dc",
                                              set=spec)))

    assert ids("school") == [ID + "a", ID + "b", ID + "c"]
    assert ids("school:eng") == [ID + "a", ID + "b"]
    assert ids("school:eng:civil") == [ID + "a"]
    assert error_codes(oai(verb="ListRecords", metadataPrefix="oai_dc", set="nope")) == \
        ["noRecordsMatch"]
    specs = []
    root = oai(verb="ListSets")
    while True:
        specs += [s.text for s in root.iterfind("o:ListSets/o:set/o:setSpec", NS)]
        token = root.findtext("o:ListSets/o:resumptionToken", namespaces=NS)
        if not token:
            break
        root = oai(verb="ListSets", resumptionToken=token)
    # ancestors were created; sets page size is 5 so this needed two pages
    assert specs == ["school", "school:eng", "school:eng:civil", "school:law"]
    described = oai(verb="ListSets").find("o:ListSets/o:set", NS)
    assert described.find(f".//{{{DC}}}description").text == "All schools"


def test_no_set_hierarchy(oai: OAIClient, store: Store) -> None:
    put(store, record("a"))
    assert error_codes(oai(verb="ListSets")) == ["noSetHierarchy"]
    assert error_codes(oai(verb="ListRecords", metadataPrefix="oai_dc", set="x")) == \
        ["noSetHierarchy"]


def test_post_equals_get(oai: OAIClient, store: Store) -> None:
    put(store, *[record(f"r{i:02d}") for i in range(15)])
    for params in ({"verb": "Identify"}, {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
                   {"verb": "GetRecord", "identifier": ID + "r01", "metadataPrefix": "oai_dc"},
                   {"verb": "Nope"}):
        get = oai.raw("GET", **params).split(b"</responseDate>")[1]
        post = oai.raw("POST", **params).split(b"</responseDate>")[1]
        assert get == post


def test_tampered_and_foreign_tokens(oai: OAIClient, store: Store, config: object) -> None:
    put(store, *[record(f"r{i:02d}") for i in range(15)])
    token = oai(verb="ListRecords", metadataPrefix="oai_dc").findtext(
        "o:ListRecords/o:resumptionToken", namespaces=NS)
    body, mac = token.split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    for bad in (forged, token + "x", "garbage", token.replace(".", "")):
        root = oai(verb="ListRecords", resumptionToken=bad)
        assert error_codes(root) == ["badResumptionToken"]
    # a token of one verb is not accepted by another
    assert error_codes(oai(verb="ListIdentifiers", resumptionToken=token)) == \
        ["badResumptionToken"]
    # the same token works again (idempotent) and from another app over the same store
    again = oai(verb="ListRecords", resumptionToken=token)
    other = OAIClient(create_app(make_config(), store).test_client())
    assert identifiers(other(verb="ListRecords", resumptionToken=token).findall(
        "o:ListRecords/o:record", NS)) == identifiers(again.findall("o:ListRecords/o:record",
                                                                    NS))
    # another repository's secret rejects it
    foreign = OAIClient(create_app(make_config(secret_key="another-secret-of-32-bytes!!"),
                                   store).test_client())
    assert error_codes(foreign(verb="ListRecords", resumptionToken=token)) == \
        ["badResumptionToken"]


def test_compression_is_negotiated(oai: OAIClient, store: Store) -> None:
    put(store, record("a"))
    plain = oai.client.get("/oai?verb=Identify")
    assert "Content-Encoding" not in plain.headers
    for coding, decode in (("gzip", gzip.decompress), ("deflate", zlib.decompress)):
        resp = oai.client.get("/oai?verb=Identify", headers={"Accept-Encoding": coding})
        assert resp.headers["Content-Encoding"] == coding
        assert decode(resp.data).split(b"</responseDate>")[1] == \
            plain.data.split(b"</responseDate>")[1]
    refused = oai.client.get("/oai?verb=Identify",
                             headers={"Accept-Encoding": "gzip;q=0, br"})
    assert "Content-Encoding" not in refused.headers


def test_request_echo_is_verbatim(oai: OAIClient, store: Store) -> None:
    put(store, record("a"))
    root = oai(verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": "2000-01-01"})
    assert root.find("o:request", NS).attrib == {
        "verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": "2000-01-01"}


def test_safety_lag_freezes_upper_bound(store: Store, clock: Clock) -> None:
    oai = OAIClient(create_app(make_config(safety_lag=5), store).test_client())
    put(store, record("old"))
    clock.tick(10)
    put(store, record("fresh"))  # written "now": still within the lag
    got = identifiers(oai.harvest("ListIdentifiers", metadataPrefix="oai_dc"))
    assert got == [ID + "old"]
    clock.tick(5)
    got = identifiers(oai.harvest("ListIdentifiers", metadataPrefix="oai_dc"))
    assert got == [ID + "old", ID + "fresh"]


def test_compression_off_is_neither_advertised_nor_served(store: Store) -> None:
    put(store, record("a"))
    oai = OAIClient(create_app(make_config(compression=False), store).test_client())
    assert oai(verb="Identify").find("o:Identify/o:compression", NS) is None
    resp = oai.client.get("/oai?verb=Identify", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in resp.headers
