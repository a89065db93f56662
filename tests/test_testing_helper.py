"""`oai.testing.assert_valid_oai`, as another project's test suite would use it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from oai.testing import assert_valid_oai
from tests.rules_server import list_page, serve_rules

GOOD = list_page("ok", "ListRecords", {"metadataPrefix": "oai_dc"}).encode()
BAD = list_page("list-size", "ListRecords", {"resumptionToken": "p2"}).encode()
# the first record's payload in a namespace no catalog knows
FOREIGN = re.sub(rb"<metadata>.*?</metadata>", b'<metadata><x:thing xmlns:x="urn:x"/></metadata>',
                 GOOD, count=1)


def test_bytes_paths_and_responses(tmp_path: Path) -> None:
    assert_valid_oai(GOOD)
    (tmp_path / "page.xml").write_bytes(GOOD)
    assert_valid_oai(tmp_path / "page.xml")
    assert_valid_oai(str(tmp_path / "page.xml"))
    with serve_rules() as server:
        assert_valid_oai(requests.get(server.url("ok"), params={"verb": "Identify"},
                                      timeout=10))
        with pytest.raises(AssertionError, match=r"\[complete-list-size\]"):
            assert_valid_oai(requests.get(server.url("list-size"), timeout=10, params={
                "verb": "ListRecords", "resumptionToken": "p2"}))


def test_the_failure_lists_the_problem_lines() -> None:
    with pytest.raises(AssertionError) as failure:
        assert_valid_oai(BAD)
    lines = str(failure.value).splitlines()
    assert lines[0] == "<bytes> is not valid OAI-PMH (1 problem(s)):"
    assert lines[1].startswith("  <bytes>:5: error [complete-list-size] - "
                               "/OAI-PMH/ListRecords/resumptionToken: completeListSize is 9")


def test_warnings_fail_only_when_asked() -> None:
    assert_valid_oai(FOREIGN)
    with pytest.raises(AssertionError, match=r"warning \[no-schema\]"):
        assert_valid_oai(FOREIGN, warnings=True)


def test_anything_else_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="got int"):
        assert_valid_oai(42)
