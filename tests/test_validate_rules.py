"""Each protocol rule against a crafted repository over loopback HTTP (`tests/rules_server.py`):
the walk must report the broken rule, the expected number of times, and nothing else. Lone
pages (a file, a URL naming a verb) are judged by what they say of themselves."""

from __future__ import annotations

from collections import Counter

import pytest

from oai.validation import DOCUMENT_RULES, RULES, validate_bytes, validate_url
from tests.rules_server import FAULTS, IDS, RulesServer, list_page, serve_rules

# fault -> the problems a full walk finds (ListIdentifiers and ListRecords are both walked,
# so a list fault shows twice; five headers each, plus the one GetRecord, for dates)
EXPECTED: dict[str, Counter[str]] = {
    "ok": Counter(),
    "empty-page": Counter({"empty-page": 2, "schema": 2}),  # OAI-PMH.xsd wants >= 1 item too
    "empty-last-page": Counter({"empty-page": 2, "schema": 2}),
    "no-final-token": Counter({"last-page-token": 2}),
    "cursor-pages": Counter({"cursor": 4}),
    "list-size": Counter({"complete-list-size": 2}),
    "repeated-identifier": Counter({"repeated-identifier": 2}),
    "repeated-token": Counter({"repeated-token": 2}),
    "deleted-metadata": Counter({"deleted-with-metadata": 1}),  # ListRecords only
    "day-datestamps": Counter({"granularity": 11}),
    "echo-granularity": Counter({"granularity": 1}),  # ListIdentifiers' from=
    "before-earliest": Counter({"before-earliest": 11}),
    "oai-error": Counter({"oai-error": 1}),
    "http-status": Counter({"http-status": 1}),
}


@pytest.fixture(scope="module")
def server() -> RulesServer:
    with serve_rules() as running:
        yield running  # type: ignore[misc]


def test_every_rule_has_a_fault() -> None:
    broken = {rule for counts in EXPECTED.values() for rule in counts}
    assert set(RULES) <= broken
    assert set(EXPECTED) == set(FAULTS)


@pytest.mark.parametrize("fault", FAULTS)
def test_a_walk_reports_the_broken_rule_and_nothing_else(server: RulesServer,
                                                         fault: str) -> None:
    before = len(server.served.requests)
    report = validate_url(server.url(fault), pages=10)
    assert Counter(p.rule for p in report.problems) == EXPECTED[fault], \
        "\n".join(p.text() for p in report.problems)
    assert report.ok is (fault in ("ok", "http-status"))  # a warning alone does not fail
    assert {p.rule for p in report.problems} <= set(RULES) | set(DOCUMENT_RULES)
    # every response was checked, and only the empty-page faults sent one the schema
    # rejects: exactly those were found
    assert report.documents == report.responses == len(server.served.requests) - before
    sent_invalid = {q for f, q in server.served.invalid if f == fault}
    found_invalid = {p.target.split("?", 1)[1] for p in report.problems if p.rule == "schema"}
    assert sent_invalid == found_invalid


def test_findings_name_the_record_and_the_element(server: RulesServer) -> None:
    report = validate_url(server.url("repeated-identifier"), pages=10)
    assert {p.record for p in report.problems} == {IDS[0]}
    assert {p.xpath for p in report.problems} == {
        "/OAI-PMH/ListIdentifiers/header[1]/identifier",
        "/OAI-PMH/ListRecords/record[1]/header/identifier"}
    assert all(p.target.endswith("resumptionToken=p1") and p.line == 5
               for p in report.problems)
    deleted = validate_url(server.url("deleted-metadata"), pages=10).problems
    assert [(p.record, p.xpath) for p in deleted] == [
        (IDS[2], "/OAI-PMH/ListRecords/record[1]/metadata")]


def test_pages_bounds_the_walk(server: RulesServer) -> None:
    for pages, per_list in ((1, 1), (2, 2), (3, 3)):
        before = len(server.served.requests)
        report = validate_url(server.url("ok"), pages=pages)
        verbs = Counter(q.split("&")[0] for _, q in server.served.requests[before:])
        assert verbs == Counter({"verb=Identify": 1, "verb=ListMetadataFormats": 1,
                                 "verb=ListSets": 1, "verb=ListIdentifiers": per_list,
                                 "verb=ListRecords": per_list, "verb=GetRecord": 1})
        assert report.ok and report.documents == sum(verbs.values())
        assert report.records == 2 * min(5, 2 * per_list) + 1


def test_a_url_naming_a_verb_is_one_lone_page(server: RulesServer) -> None:
    before = len(server.served.requests)
    report = validate_url(server.url("list-size") + "?verb=ListRecords&resumptionToken=p2")
    assert len(server.served.requests) == before + 1
    assert [p.rule for p in report.problems] == ["complete-list-size"]
    assert "counted from the cursor" in report.problems[0].message


def _lone(fault: str, page: int, verb: str = "ListRecords") -> bytes:
    args = {"resumptionToken": f"p{page}"} if page else {"metadataPrefix": "oai_dc"}
    return list_page(fault, verb, args).encode()


def test_a_lone_page_is_judged_by_its_own_claims() -> None:
    def rules(data: bytes) -> list[str]:
        return [p.rule for p in validate_bytes(data).problems]

    for page in range(3):  # a correct list is correct page by page
        assert rules(_lone("ok", page)) == []
    # a cursor counting pages: harmless until the last page, whose total is then wrong
    assert rules(_lone("cursor-pages", 1)) == []
    assert rules(_lone("cursor-pages", 2)) == ["complete-list-size"]
    # the first page is known to follow nothing
    assert rules(_lone("ok", 0).replace(b'cursor="0"', b'cursor="1"')) == ["cursor"]
    # a resumed page that ends the list without a token
    assert rules(_lone("no-final-token", 2)) == ["last-page-token"]
    assert rules(_lone("list-size", 1)) == []  # 4 of 9 so far: possible
    assert rules(_lone("list-size", 2)) == ["complete-list-size"]
    assert rules(_lone("repeated-identifier", 1)) == []  # the repeat is on another page
    assert rules(_lone("deleted-metadata", 1)) == ["deleted-with-metadata"]
    # no Identify: granularity and earliestDatestamp cannot be judged from one page
    assert rules(_lone("day-datestamps", 0)) == []
    assert rules(_lone("before-earliest", 0)) == []
