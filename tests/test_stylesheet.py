"""The browsable feed, without a browser: the xml-stylesheet instruction, the switch that
turns it off, the route serving the XSLT, and what the XSLT makes of responses.

`stylesheet = false` must give harvesters exactly the bytes they got before the feature:
tests/golden/ holds the responses of a fixed store (the bundled fixtures, a fixed clock and
secret) as the provider wrote them before it had a stylesheet (main at bdced65); regenerate
them, from that commit's code, with `python tests/test_stylesheet.py --write`.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from lxml import etree

PROJECT = Path(__file__).resolve().parents[1]
if __name__ == "__main__":  # run as a script (against any checkout): import it, not us
    sys.path.insert(0, str(PROJECT))

from oai.formats import configure  # noqa: E402
from oai.protocol.rendering import prepare_record  # noqa: E402
from oai.provider.app import create_app  # noqa: E402
from oai.store.repository import Store  # noqa: E402
from tests.conftest import Clock, make_config  # noqa: E402

GOLDEN = Path(__file__).resolve().parent / "golden"
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
INSTRUCTION = b'<?xml-stylesheet type="text/xsl" href="/oai/static/oai2.xsl"?>\n'
RESPONSE_DATE = re.compile(rb"<responseDate>[^<]*</responseDate>")
SECRET = "golden-secret-of-the-tests"


@pytest.fixture(autouse=True)
def _every_format_afterwards() -> Any:
    yield
    configure(None)


def fixed_client(tmp: Path, **settings: Any) -> Any:
    """A test client over the bundled fixtures in a fresh store at a fixed clock, serving
    oai_dc only, as the provider did when the golden responses were written."""
    settings.setdefault("formats", ("oai_dc",))
    configure(settings["formats"])
    store = Store.open(f"sqlite:///{tmp / 'golden.sqlite'}", clock=Clock(1_700_000_000),
                       create=True)
    for spec in json.loads((PROJECT / "fixtures" / "sets.json").read_text()):
        store.add_set(spec["spec"], spec["name"], spec.get("description"))
    records: list[Any] = []
    for path in sorted((PROJECT / "fixtures" / "records").iterdir()):
        if path.suffix == ".jsonl":
            records += [json.loads(line) for line in path.read_text().splitlines() if line]
        elif path.suffix == ".json":
            data = json.loads(path.read_text())
            records += data if isinstance(data, list) else [data]
    store.write([prepare_record(r) for r in records])
    config = make_config(secret_key=SECRET, page_size=10, sets_page_size=10, **settings)
    return create_app(config, store).test_client()


def responses(client: Any) -> dict[str, bytes]:
    """Every kind of response, by name, with the responseDate blanked (it is the clock)."""
    out: dict[str, bytes] = {}

    def get(name: str, method: str = "GET", **params: str) -> bytes:
        if method == "GET":
            body = client.get("/oai?" + urlencode(params)).data
        else:
            body = client.open("/oai", method=method, data=urlencode(params),
                               content_type="application/x-www-form-urlencoded").data
        out[name] = RESPONSE_DATE.sub(b"<responseDate/>", body)
        return body

    def token(body: bytes) -> str:
        found = re.search(rb"<resumptionToken[^>]*>([^<]*)</resumptionToken>", body)
        return found.group(1).decode() if found else ""

    ident = "oai:test.example.org:133890"
    get("Identify", verb="Identify")
    get("ListMetadataFormats", verb="ListMetadataFormats")
    get("ListMetadataFormats-identifier", verb="ListMetadataFormats", identifier=ident)
    first = get("ListSets-1", verb="ListSets")
    get("ListSets-2", verb="ListSets", resumptionToken=token(first))
    first = get("ListIdentifiers-1", verb="ListIdentifiers", metadataPrefix="oai_dc")
    get("ListIdentifiers-2", verb="ListIdentifiers", resumptionToken=token(first))
    page = get("ListRecords-1", verb="ListRecords", metadataPrefix="oai_dc")
    number = 1
    while token(page):
        number += 1
        page = get(f"ListRecords-{number}", verb="ListRecords", resumptionToken=token(page))
    get("ListRecords-set", verb="ListRecords", metadataPrefix="oai_dc", set="centre:water")
    get("GetRecord", verb="GetRecord", metadataPrefix="oai_dc", identifier=ident)
    get("GetRecord-deleted", verb="GetRecord", metadataPrefix="oai_dc",
        identifier="oai:test.example.org:100101")
    get("GetRecord-POST", "POST", verb="GetRecord", metadataPrefix="oai_dc", identifier=ident)
    get("error-badVerb", verb="Frobnicate")
    get("error-badArgument", verb="ListRecords")
    get("error-idDoesNotExist", verb="GetRecord", metadataPrefix="oai_dc",
        identifier="oai:test.example.org:nope")
    get("error-cannotDisseminateFormat", verb="ListRecords", metadataPrefix="marc21")
    get("error-noRecordsMatch", verb="ListRecords", metadataPrefix="oai_dc",
        **{"from": "2099-01-01"})
    get("error-badResumptionToken", verb="ListRecords", resumptionToken="forged")
    get("error-method", "PUT", verb="Identify")
    return out


@pytest.fixture(scope="module")
def golden() -> dict[str, bytes]:
    files = sorted(GOLDEN.glob("*.xml"))
    assert files, "tests/golden/ is missing"
    return {f.stem: f.read_bytes() for f in files}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, dict[str, bytes]]:
    """The same requests with the stylesheet on (the default) and off."""
    out = {}
    for on in (True, False):
        tmp = tmp_path_factory.mktemp(f"stylesheet-{on}")
        settings = {} if on else {"stylesheet": False}
        out[on] = responses(fixed_client(tmp, **settings))
    return out


def test_off_is_byte_identical_to_before(served: dict[bool, dict[str, bytes]],
                                         golden: dict[str, bytes]) -> None:
    assert served[False].keys() == golden.keys()
    for name, body in served[False].items():
        assert body == golden[name], name


def test_on_adds_only_the_instruction_after_the_declaration(
        served: dict[bool, dict[str, bytes]], golden: dict[str, bytes]) -> None:
    for name, body in served[True].items():
        assert body.startswith(DECLARATION + INSTRUCTION), name
        assert body == DECLARATION + INSTRUCTION + golden[name][len(DECLARATION):], name


def test_every_response_is_valid_either_way(served: dict[bool, dict[str, bytes]]) -> None:
    from oai.protocol.schemas import validate_response

    for bodies in served.values():
        for name, body in bodies.items():
            validate_response(body.replace(b"<responseDate/>",
                                           b"<responseDate>2024-01-01T00:00:00Z</responseDate>"))
            assert name


def test_the_instruction_follows_the_base_url_path(tmp_path: Path) -> None:
    client = fixed_client(tmp_path, base_url="https://repo.example.org/cgi/oai2")
    body = client.get("/oai?verb=Identify").data
    assert body.startswith(DECLARATION + b'<?xml-stylesheet type="text/xsl" '
                           b'href="/cgi/oai2/static/oai2.xsl"?>\n<OAI-PMH ')


def test_the_stylesheet_route(tmp_path: Path) -> None:
    client = fixed_client(tmp_path)
    got = client.get("/oai/static/oai2.xsl")
    assert got.status_code == 200
    assert got.headers["Content-Type"] == "application/xslt+xml; charset=utf-8"
    assert got.headers["Cache-Control"] == "public, max-age=86400"
    assert got.data == (PROJECT / "oai" / "provider" / "static" / "oai2.xsl").read_bytes()
    etag = got.headers["ETag"]
    again = client.get("/oai/static/oai2.xsl", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    zipped = client.get("/oai/static/oai2.xsl", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["ETag"] != etag  # another representation, another tag
    import gzip

    assert gzip.decompress(zipped.data) == got.data
    assert client.head("/oai/static/oai2.xsl").status_code == 200
    assert client.post("/oai/static/oai2.xsl").status_code == 405  # not an OAI request
    assert client.get("/oai/static/other.xsl").status_code == 404


def test_over_http_every_answer_has_it_and_the_switch_removes_it(tmp_path: Path) -> None:
    """`oai serve`: verb answers, the app's own errors and gunicorn's refusals alike."""
    from tests.serving import oai_serve

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    Store.open(url, create=True).close()
    too_long = "/oai?verb=Identify&x=" + "a" * 9000
    for on in (True, False):
        settings = {} if on else {"stylesheet": "false"}
        with oai_serve(url, tmp_path / f"serve-{on}.log", **settings) as server:
            bodies = [server.request("GET", "/oai?verb=Identify").body,
                      server.request("PUT", "/oai?verb=Identify").body,
                      server.request("GET", too_long).body]
            xsl = server.request("GET", "/oai/static/oai2.xsl")
        assert xsl.status == 200 and xsl.headers["content-type"].startswith(
            "application/xslt+xml")
        for body in bodies:
            assert body.startswith(DECLARATION + (INSTRUCTION if on else b"") + b"<OAI-PMH "), \
                body[:200]


# --------------------------------------------------------------------------- the XSLT


@pytest.fixture(scope="module")
def transform() -> etree.XSLT:
    """The stylesheet as libxslt runs it (the engine Chromium uses as well)."""
    return etree.XSLT(etree.parse(str(PROJECT / "oai" / "provider" / "static" / "oai2.xsl")))


def page(transform: etree.XSLT, body: bytes) -> etree._Element:
    html = transform(etree.fromstring(body.replace(b"<responseDate/>", b"")))
    root = html.getroot()
    assert root is not None and root.tag == "html"
    return root


def text(root: etree._Element) -> str:
    return " ".join(" ".join(root.itertext()).split())


def test_pages_link_and_paginate(transform: etree.XSLT,
                                 served: dict[bool, dict[str, bytes]]) -> None:
    bodies = served[True]
    first = page(transform, bodies["ListRecords-1"])
    assert "Showing records 1\u201310 of 53" in text(first)
    next_link = first.find(".//a[@rel='next']")
    assert next_link is not None
    assert next_link.get("href", "").startswith("?verb=ListRecords&resumptionToken=")
    last = page(transform, bodies["ListRecords-6"])
    assert "Showing records 51\u201353 of 53" in text(last)
    assert last.find(".//a[@rel='next']") is None and "Last page of the list" in text(last)
    opens = [a.get("href") for a in first.iterfind(".//a[@class='open']")]
    assert len(opens) == 10
    assert opens[0] == "?verb=GetRecord&metadataPrefix=oai_dc&identifier=" \
                       "oai:test.example.org:100101"
    # a resumed page does not repeat the metadataPrefix: records open in oai_dc
    assert all("metadataPrefix=oai_dc" in (a.get("href") or "")
               for a in last.iterfind(".//a[@class='open']"))
    formats = page(transform, bodies["ListMetadataFormats-identifier"])
    assert [a.get("href") for a in formats.iterfind(".//a[@class='open']")] == [
        "?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:test.example.org:133890"]
    sets = page(transform, bodies["ListSets-1"])
    assert "?verb=ListRecords&metadataPrefix=oai_dc&set=centre:water" in \
        [a.get("href") for a in sets.iter("a")]


def test_error_pages_say_what_went_wrong(transform: etree.XSLT,
                                         served: dict[bool, dict[str, bytes]]) -> None:
    shown = text(page(transform, served[True]["error-idDoesNotExist"]))
    assert "idDoesNotExist" in shown
    assert "no record has the identifier 'oai:test.example.org:nope'" in shown


def test_query_values_are_percent_encoded(transform: etree.XSLT) -> None:
    body = (b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate/>'
            b'<request verb="ListIdentifiers">http://h/oai</request><ListIdentifiers><header>'
            b"<identifier>oai:h.org:a&amp;b c+d%e#f\xc3\xa9</identifier>"
            b"<datestamp>2024-01-01</datestamp><setSpec>x</setSpec></header>"
            b'<resumptionToken cursor="0">t=1&amp;2</resumptionToken></ListIdentifiers>'
            b"</OAI-PMH>")
    root = page(transform, body)
    hrefs = [a.get("href") for a in root.iter("a")]
    assert "?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:h.org:a%26b%20c%2Bd%25e%23f" \
           "\u00e9" in hrefs
    assert "?verb=ListIdentifiers&resumptionToken=t%3D1%262" in hrefs


def test_any_other_format_is_a_readable_tree(transform: etree.XSLT) -> None:
    marc = ('<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam a2200000 4500'
            '</leader><datafield tag="245" ind1="1" ind2="0"><subfield code="a">A title'
            '</subfield><subfield code="b">and its subtitle</subfield></datafield>'
            '<datafield tag="856" ind1="4" ind2="0"><subfield code="u">https://example.org/x'
            "</subfield></datafield></record>")
    body = ('<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate/>'
            '<request verb="GetRecord" identifier="oai:h.org:1" metadataPrefix="marc21">'
            "http://h/oai</request><GetRecord><record><header><identifier>oai:h.org:1"
            "</identifier><datestamp>2024-01-01</datestamp></header>"
            f"<metadata>{marc}</metadata></record></GetRecord></OAI-PMH>").encode()
    root = page(transform, body)
    tree = root.find(".//div[@class='tree']")
    assert tree is not None
    lines = [" ".join(" ".join(li.itertext()).split()) for li in tree.iter("li")]
    assert lines[0].startswith("record leader 00000nam")
    assert 'subfield code="a" A title' in lines
    assert 'datafield tag="245" ind1="1" ind2="0" subfield code="a" A title subfield ' \
           'code="b" and its subtitle' in lines
    link = tree.find(".//a[@class='external']")
    assert link is not None and link.get("href") == "https://example.org/x"
    assert "http://www.loc.gov/MARC21/slim" in text(tree)


if __name__ == "__main__":
    import tempfile

    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_stylesheet.py --write")
    with tempfile.TemporaryDirectory() as folder:
        GOLDEN.mkdir(exist_ok=True)
        for stale in GOLDEN.glob("*.xml"):
            stale.unlink()
        for name, data in responses(fixed_client(Path(folder))).items():
            (GOLDEN / f"{name}.xml").write_bytes(data)
    print(f"wrote {len(list(GOLDEN.glob('*.xml')))} files to {GOLDEN}")
