"""Resumption tokens: whatever a client sends as a token (non-ASCII, truncated, or a payload
re-signed with the repository's real secret but holding fields of the wrong type or range),
the answer is badResumptionToken in a schema-valid HTTP 200 response, never a server error."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from oai.protocol.errors import BadResumptionToken
from oai.protocol.schemas import validate_response
from oai.protocol.tokens import ListPosition, SetListPosition, TokenCodec
from oai.store.repository import Store
from tests.conftest import NS, OAIClient, error_codes, put, record
from tests.token_forgery import b64, mac, payload_of, sign

LIST_VERBS = ["ListRecords", "ListIdentifiers"]
EPOCH_MAX = 253402300799  # 9999-12-31T23:59:59Z


@pytest.fixture
def harvestable(oai: OAIClient, store: Store) -> OAIClient:
    put(store, *[record(f"r{i:02d}", sets=[f"s{i % 7}"]) for i in range(15)])
    return oai


@pytest.fixture
def secret(store: Store) -> str:
    value = store.setting("token_secret")
    assert value
    return value


def first_token(oai: OAIClient, verb: str) -> str:
    params = {} if verb == "ListSets" else {"metadataPrefix": "oai_dc"}
    token = oai(verb=verb, **params).findtext(f"o:{verb}/o:resumptionToken", namespaces=NS)
    assert token
    return token


def ask(oai: OAIClient, verb: str, token: str, method: str = "GET") -> etree._Element:
    """Send a token verbatim (already percent-encoded for the query or body)."""
    query = f"verb={verb}&resumptionToken={token}"
    if method == "GET":
        resp = oai.client.get("/oai?" + query)
    else:
        resp = oai.client.post("/oai", data=query,
                               content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 200, resp.data[:300]
    validate_response(resp.data)
    return etree.fromstring(resp.data)


FOREIGN = ["abc.%C3%A9", "%C3%A9.abc", "%C3%A9", "abc.def%C3%A9", "%E2%80%8B.abc", "a.b.c", ".",
           "abc.", ".abc", "%FF.%FE"]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("verb", [*LIST_VERBS, "ListSets"])
def test_foreign_tokens_of_any_characters(harvestable: OAIClient, verb: str,
                                          method: str) -> None:
    for token in FOREIGN:
        root = ask(harvestable, verb, token, method)
        assert error_codes(root) == ["badResumptionToken"], token


@pytest.mark.parametrize("verb", [*LIST_VERBS, "ListSets"])
def test_truncated_and_extended_real_tokens(harvestable: OAIClient, verb: str) -> None:
    token = first_token(harvestable, verb)
    for bad in (token[:-1], token[:len(token) // 2], token + "A", token + "%C3%A9",
                token.replace(".", "%C3%A9.")):
        assert error_codes(ask(harvestable, verb, quote(bad, safe="%"))) == \
            ["badResumptionToken"]


@pytest.mark.parametrize("verb", [*LIST_VERBS, "ListSets"])
def test_a_resigned_untouched_payload_still_works(harvestable: OAIClient, secret: str,
                                                  verb: str) -> None:
    """The control for the tampering tests: the test signer is the repository's."""
    token = first_token(harvestable, verb)
    again = sign(secret, payload_of(token))
    root = ask(harvestable, verb, again)
    assert root.find(f"o:{verb}", NS) is not None
    assert error_codes(root) == []


# (payload index, value): fields of [format, verb, prefix, set, from, until, last datestamp,
# last id, cursor, size] that no token of ours can hold.
LIST_TAMPERING: list[tuple[int, Any]] = [
    (0, 3), (0, True), (0, 1.0), (0, "1"),
    (2, 5), (2, None), (2, ""), (2, "é"), (2, "oai dc"), (2, ["oai_dc"]),
    (3, 5), (3, ""), (3, "a::b"), (3, "é"), (3, ["s1"]), (3, {"s": 1}),
    (4, 10**30), (4, -10**30), (4, "2020-01-01"), (4, True), (4, 1.5), (4, EPOCH_MAX + 1),
    (5, 10**30), (5, None), (5, "0"), (5, False), (5, -62135596801), (5, 1e300),
    (6, 10**30), (6, -1.5), (6, None), (6, [1]), (6, True),
    (7, 5), (7, None), (7, ""), (7, "a\u0000b"), (7, "\ud800"), (7, ["r01"]),
    (8, 10**30), (8, "5"), (8, True), (8, -1), (8, 2.0), (8, None), (8, 10**6),
    (9, 10**30), (9, "15"), (9, False), (9, -1), (9, 1), (9, 15.0),
]  # a size of 0 is a list too large to count (completeListSize left out): valid


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_resigned_list_tokens_with_bad_fields(harvestable: OAIClient, secret: str,
                                              verb: str) -> None:
    original = payload_of(first_token(harvestable, verb))
    for index, value in LIST_TAMPERING:
        payload = list(original)
        payload[index] = value
        root = ask(harvestable, verb, sign(secret, payload))
        assert error_codes(root) == ["badResumptionToken"], (index, value)


@pytest.mark.parametrize("verb", LIST_VERBS)
def test_a_token_without_a_size_continues_the_list(harvestable: OAIClient, secret: str,
                                                   verb: str) -> None:
    payload = payload_of(first_token(harvestable, verb))
    payload[9] = 0
    root = ask(harvestable, verb, sign(secret, payload))
    assert error_codes(root) == []
    token = root.find(f"o:{verb}/o:resumptionToken", NS)
    # the last page (15 records, 10 a page): its size is known, whatever the token said
    assert token is not None and not token.text and token.get("completeListSize") == "15"


SETS_TAMPERING: list[tuple[int, Any]] = [
    (2, 5), (2, None), (2, ""), (2, "a b"), (2, "é"), (2, ["s1"]),
    (3, 10**30), (3, "5"), (3, True), (3, -1), (3, 5.0), (3, 10**6),
    (4, 10**30), (4, "7"), (4, False), (4, -1), (4, 0),
]


def test_resigned_set_tokens_with_bad_fields(harvestable: OAIClient, secret: str) -> None:
    original = payload_of(first_token(harvestable, "ListSets"))
    for index, value in SETS_TAMPERING:
        payload = list(original)
        payload[index] = value
        assert error_codes(ask(harvestable, "ListSets", sign(secret, payload))) == \
            ["badResumptionToken"], (index, value)


@pytest.mark.parametrize("verb", [*LIST_VERBS, "ListSets"])
def test_resigned_payloads_of_the_wrong_shape(harvestable: OAIClient, secret: str,
                                              verb: str) -> None:
    payload = payload_of(first_token(harvestable, verb))
    for shape in (payload[:-1], [*payload, 0], payload[:2], [], {}, None, 1, "x",
                  [1, "ListSets" if verb != "ListSets" else "ListRecords", *payload[2:]],
                  [1, None, *payload[2:]]):
        assert error_codes(ask(harvestable, verb, sign(secret, shape))) == \
            ["badResumptionToken"], shape
    for body in (b64(b"[" * 100_000), b64(b"\xff\xfe not json"), b64(b"9" * 5000)):
        token = f"{body}.{mac(secret, body)}"
        assert error_codes(ask(harvestable, verb, token)) == ["badResumptionToken"]


# -- the codec on its own, with arbitrary JSON ------------------------------------------------

SECRET = "s" * 32
_JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.integers() | st.integers(min_value=-10**40, max_value=10**40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=12)
_FIELD = st.one_of(_JSON, st.integers(min_value=-62135596800, max_value=EPOCH_MAX),
                   st.sampled_from(["oai_dc", "s1", "a:b", "r01"]))


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from([*LIST_VERBS, "ListSets"]),
       fields=st.lists(_FIELD, min_size=0, max_size=10))
def test_any_signed_payload_decodes_to_a_valid_position_or_bad_token(
        kind: str, fields: list[Any]) -> None:
    codec = TokenCodec(SECRET.encode())
    token = sign(SECRET, [1, kind, *fields])
    try:
        if kind == "ListSets":
            sets = codec.decode_sets(token)
            assert isinstance(sets, SetListPosition)
            assert 0 <= sets.cursor < sets.complete_list_size
            return
        position = codec.decode_list(token, kind)
    except BadResumptionToken:
        return
    assert isinstance(position, ListPosition)
    for epoch in (position.until_epoch, position.last_datestamp):
        assert type(epoch) is int and -62135596800 <= epoch <= EPOCH_MAX
    assert type(position.cursor) is int and type(position.complete_list_size) is int
    assert 0 <= position.cursor < position.complete_list_size < 2**63


@settings(max_examples=300, deadline=None)
@given(token=st.text())
def test_any_text_is_a_bad_token(token: str) -> None:
    codec = TokenCodec(SECRET.encode())
    for decode in (lambda t: codec.decode_list(t, "ListRecords"), codec.decode_sets):
        with pytest.raises(BadResumptionToken):
            decode(token)
