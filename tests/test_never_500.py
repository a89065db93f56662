"""Any request to /oai gets an OAI-PMH answer at the WSGI level: every HTTP method, any bytes
in the query or the body, any token, any length. Property tests (hypothesis) and the cases
they grew from; the same over real HTTP against `oai serve` is in test_serve_robustness."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from oai.protocol.schemas import validate_response
from oai.store.repository import Store
from tests.conftest import NS, OAIClient, error_codes, put, record
from tests.token_forgery import bad_tokens

ID = "oai:test.example.org:r01"
OTHER_METHODS = ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "PROPFIND",
                 "FOO", "M-SEARCH"]


@pytest.fixture
def populated(oai: OAIClient, store: Store) -> OAIClient:
    put(store, *[record(f"r{i:02d}", sets=[f"s{i % 7}", "t:u"]) for i in range(12)])
    return oai


def check(resp: Any, method: str = "GET") -> etree._Element | None:
    """HTTP 200, XML, and (unless HEAD) a schema-valid OAI-PMH document."""
    assert resp.status_code == 200, (resp.status_code, resp.data[:300])
    assert resp.content_type == "text/xml; charset=utf-8"
    if method == "HEAD":
        assert resp.data == b""
        return None
    validate_response(resp.data)
    return etree.fromstring(resp.data)


@pytest.mark.parametrize("method", OTHER_METHODS)
def test_other_methods_get_bad_argument(populated: OAIClient, method: str) -> None:
    resp = populated.client.open("/oai?verb=Identify", method=method)
    root = check(resp)
    assert root is not None and error_codes(root) == ["badArgument"]
    assert method in root.findtext("o:error", namespaces=NS)
    assert resp.headers["Allow"] == "GET, HEAD, POST"


def test_head_is_get_without_a_body(populated: OAIClient) -> None:
    head = populated.client.head("/oai?verb=Identify")
    check(head, "HEAD")
    get = populated.client.get("/oai?verb=Identify")
    assert int(head.headers["Content-Length"]) == len(get.data)


def test_unknown_paths_are_404_not_500(populated: OAIClient) -> None:
    for path in ("/nope", "/oai/", "/oai/x", "/OAI", "/%FF", "/oai%00"):
        assert populated.client.get(path + "?verb=Identify").status_code == 404


def test_an_oversized_post_body_is_bad_argument(populated: OAIClient) -> None:
    resp = populated.client.post("/oai", data=b"verb=Identify&x=" + b"a" * 200_000,
                                 content_type="application/x-www-form-urlencoded")
    root = check(resp)
    assert root is not None and error_codes(root) == ["badArgument"]


def test_very_long_arguments(populated: OAIClient) -> None:
    long = "x" * 100_000
    for params in ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": ID + long},
                   {"verb": "ListRecords", "metadataPrefix": long},
                   {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": long},
                   {"verb": "ListSets", "resumptionToken": long + "." + long},
                   {"verb": long}, {long: "x", "verb": "Identify"}):
        for method in ("GET", "POST"):
            populated.raw(method, **params)


# -- properties ---------------------------------------------------------------------------


_NAMES = st.sampled_from(["verb", "metadataPrefix", "identifier", "from", "until", "set",
                          "resumptionToken", "Verb", "x", ""])
_VALUES = st.one_of(
    st.sampled_from(["Identify", "ListRecords", "ListIdentifiers", "GetRecord", "ListSets",
                     "ListMetadataFormats", "oai_dc", "2001-01-01", "2001-01-01T00:00:00Z",
                     "9999-12-31", "0001-01-01T00:00:00Z", ID, "s1", "t:u", ""]),
    st.text(max_size=30),
    st.text(max_size=5).map(lambda t: t * 3000),  # long values
)


@pytest.fixture
def real_tokens(populated: OAIClient) -> list[str]:
    """A first-page token of each kind of list."""
    found = []
    for verb, params in (("ListRecords", {"metadataPrefix": "oai_dc"}),
                         ("ListIdentifiers", {"metadataPrefix": "oai_dc", "set": "t"}),
                         ("ListSets", {})):
        token = populated(verb=verb, **params).findtext(f"o:{verb}/o:resumptionToken",
                                                        namespaces=NS)
        assert token
        found.append(token)
    return found


_SETTINGS = settings(max_examples=120, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(data=st.data())
def test_any_arguments_and_tokens(populated: OAIClient, store: Store, real_tokens: list[str],
                                  data: st.DataObject) -> None:
    secret = store.setting("token_secret")
    assert secret
    pairs = data.draw(st.lists(st.tuples(_NAMES, _VALUES), max_size=5))
    if data.draw(st.booleans()):
        verb = data.draw(st.sampled_from(["ListRecords", "ListIdentifiers", "ListSets"]))
        token = data.draw(bad_tokens(secret, real_tokens))
        pairs = [("verb", verb), ("resumptionToken", token), *pairs[:data.draw(
            st.integers(0, 1))]]
    query = urlencode(pairs, encoding="utf-8", errors="surrogatepass")
    method = data.draw(st.sampled_from(["GET", "POST", "HEAD"]))
    if method == "POST":
        resp = populated.client.post("/oai", data=query,
                                     content_type="application/x-www-form-urlencoded")
    else:
        resp = populated.client.open("/oai?" + query, method=method)
    check(resp, method)


@_SETTINGS
@given(raw=st.one_of(st.binary(max_size=300),
                     st.lists(st.sampled_from([b"verb=", b"ListRecords", b"&", b"=", b"%",
                                               b"%C3", b"%A9", b"%00", b"%ZZ", b"+",
                                               b"metadataPrefix", b"oai_dc", b"set",
                                               b"resumptionToken", b"identifier", b";",
                                               b"\xff", b"%ED%A0%80"]), max_size=20)
                     .map(b"".join)),
       method=st.sampled_from(["GET", "POST", "PUT", "OPTIONS", "DELETE"]),
       query_too=st.booleans())
def test_any_bytes_in_query_or_body(populated: OAIClient, raw: bytes, method: str,
                                    query_too: bool) -> None:
    query = raw.decode("latin-1") if method != "POST" or query_too else ""
    resp = populated.client.open("/oai", method=method, data=raw if method == "POST" else None,
                                 environ_overrides={"QUERY_STRING": query},
                                 content_type="application/x-www-form-urlencoded")
    check(resp, method)


@_SETTINGS
@given(method=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126),
                      min_size=1, max_size=12),
       verb=st.sampled_from(["Identify", "ListSets", "Nope"]))
def test_any_method(populated: OAIClient, method: str, verb: str) -> None:
    resp = populated.client.open("/oai?verb=" + quote(verb), method=method)
    check(resp, method.upper() if method.upper() == "HEAD" else method)
