"""`oai validate` on every file of the shared real responses: it must report exactly the
problems those files really have.

Schema problems are compared, per file, with what the official schemas say
(`tests/official_verdicts.py`, run in its own interpreter with libxml2 loading the reference
catalog itself, none of our code involved): the same errors, line and message, and the same
namespaces left unjudged. Once with our own schemas (the oracle restricted to the namespaces
we ship), once through `oai validate --schemas ../shared/reference-schemas/catalog.xml` (the
whole table); and the two runs must agree on every namespace both know. Protocol problems a
lone page shows are listed below, file by file, from what the shared index says of each.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from oai.protocol.schemas import namespace_schemas
from oai.validation import DOCUMENT_RULES, RULES, Report, validate_path
from tests.official_verdicts import TABLE

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"
REAL = SHARED / "real-responses"
REFERENCE = SHARED / "reference-schemas" / "catalog.xml"
OAI_CLI = str(Path(sys.executable).with_name("oai"))

# The protocol rules broken by a lone page, as the index's quirk column describes the files:
# DSpace's cursors count pages (or are otherwise off), so their last pages contradict their
# completeListSize; Zenodo's resumed page lists a deleted record with its metadata.
PROTOCOL_PROBLEMS: dict[str, Counter[str]] = {
    "dspace-colostate_ListRecords_oai_dc_page11_last.xml": Counter({"complete-list-size": 1}),
    "dspace-mit_ListIdentifiers_oai_dc_page2_last.xml": Counter({"complete-list-size": 1}),
    "dspace-mit_ListSets_lastpage.xml": Counter({"complete-list-size": 1}),
    "dspace-udel_ListRecords_oai_dc_page16_last.xml": Counter({"complete-list-size": 1}),
    "zenodo_ListRecords_oai_dc_resumed_deleted.xml": Counter({"deleted-with-metadata": 1}),
}
SCHEMA_RULES = {"schema", "no-schema", "not-well-formed"}


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is not available")


def official(namespaces: set[str]) -> dict[str, dict[str, Any]]:
    """The official verdict on every real file, the given namespaces' schemas known."""
    _need(REAL)
    _need(REFERENCE)
    env = {**os.environ, "XML_CATALOG_FILES": str(REFERENCE)}
    files = sorted(str(p) for p in REAL.glob("*.xml"))
    done = subprocess.run([sys.executable, str(PROJECT / "tests" / "official_verdicts.py"),
                           ",".join(sorted(namespaces)), *files], capture_output=True,
                          text=True, env=env, timeout=300, check=True)
    verdicts: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return verdicts


def by_file(problems: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {p.name: [] for p in REAL.glob("*.xml")}
    for problem in problems:
        found[Path(problem["target"]).name].append(problem)
    return found


_SUBJECT = re.compile(r"\A(?:Element|attribute) '[^']*'(?:, attribute '[^']*')?")


def subject(message: str) -> str:
    """What an error is about (the element, and the attribute if any), without the schema's
    own wording: our XSDs are written anew, so a pattern or an enumeration they quote may be
    spelt differently from the official one while the verdict is the same."""
    found = _SUBJECT.match(message)
    return found.group(0) if found else message


def assert_as_official(problems: list[dict[str, Any]], verdicts: dict[str, dict[str, Any]],
                       beyond: frozenset[str] = frozenset()) -> None:
    """Per file: the same schema errors (line, element and attribute), the same unjudged
    namespaces, the same well-formedness, and exactly the protocol problems listed above.
    Namespaces in `beyond` (ours judges them, the reference has no schema for them, e.g. the
    oai_datacite wrapper) are left out of the comparison."""
    found = by_file([p for p in problems if p["namespace"] not in beyond])
    assert set(found) == set(verdicts)
    assert {p["rule"] for p in problems} <= set(RULES) | set(DOCUMENT_RULES)
    for name, verdict in verdicts.items():
        mine = found[name]
        assert any(p["rule"] == "not-well-formed" for p in mine) is not verdict["well_formed"], \
            name
        errors = sorted((p["line"], subject(p["message"])) for p in mine
                        if p["rule"] == "schema")
        assert errors == sorted((line, subject(m)) for line, m in verdict["errors"]), name
        unjudged = sorted(p["namespace"] for p in mine if p["rule"] == "no-schema")
        assert unjudged == [n for n in verdict["unknown"] if n not in beyond], name
        protocol = Counter(p["rule"] for p in mine if p["rule"] not in SCHEMA_RULES)
        assert protocol == PROTOCOL_PROBLEMS.get(name, Counter()), name


def _dicts(report: Report) -> list[dict[str, Any]]:
    return [p.as_dict() for p in report.problems]


@pytest.fixture(scope="module")
def ours() -> list[dict[str, Any]]:
    _need(REAL)
    return _dicts(validate_path(REAL))


@pytest.fixture(scope="module")
def with_reference() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """`oai validate --schemas ../shared/reference-schemas/catalog.xml` over the folder, as CI
    would type it from the project's root."""
    _need(REAL)
    _need(REFERENCE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    done = subprocess.run([OAI_CLI, "validate", "--schemas", "../shared/reference-schemas/"
                           "catalog.xml", "--json", "../shared/real-responses"], cwd=PROJECT,
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stderr  # some files really are invalid
    assert done.stderr == ""
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return lines[:-1], lines[-1]["summary"]


def test_our_schemas_judge_as_the_official_ones(ours: list[dict[str, Any]]) -> None:
    shipped = set(namespace_schemas())
    assert_as_official(ours, official(shipped & set(TABLE)), frozenset(shipped - set(TABLE)))


def test_the_reference_catalog_judges_as_the_official_schemas(
        with_reference: tuple[list[dict[str, Any]], dict[str, Any]]) -> None:
    problems, summary = with_reference
    assert_as_official(problems, official(set(TABLE)))
    # the findings are real: MARC, MODS, DataCite, OpenAIRE files among the invalid ones
    invalid = {p["namespace"] for p in problems if p["rule"] == "schema"}
    assert {"http://www.loc.gov/MARC21/slim", "http://www.loc.gov/mods/v3",
            "http://datacite.org/schema/kernel-4",
            "http://namespace.openaire.eu/schema/oaire/"} <= invalid
    assert summary["documents"] == len(list(REAL.glob("*.xml")))
    assert summary["schemas"]["http://www.loc.gov/MARC21/slim"].endswith("MARC21slim.xsd")


def test_both_catalogs_agree_on_the_namespaces_both_know(
        ours: list[dict[str, Any]],
        with_reference: tuple[list[dict[str, Any]], dict[str, Any]]) -> None:
    both = set(namespace_schemas())

    def judged(problems: list[dict[str, Any]]) -> Counter[tuple[str, Any, str, str]]:
        return Counter((Path(p["target"]).name, p["line"], p["rule"], subject(p["message"]))
                       for p in problems if p["rule"] != "no-schema"
                       and (p["namespace"] is None or p["namespace"] in both))

    assert judged(ours) == judged(with_reference[0])
    assert judged(ours)  # not vacuous: some of those problems exist


def test_rioxx_records_in_the_example_spelling_are_named(ours: list[dict[str, Any]]) -> None:
    """The six RIOXX records (root <rioxx> in no namespace: the official verdict is "no
    declaration", compared above as an unjudged namespace) are errors saying so."""
    found = by_file(ours)
    rioxx = sorted(name for name in found if "_rioxx_" in name)
    assert len(rioxx) == 6
    for name in rioxx:
        [problem] = found[name]
        assert (problem["rule"], problem["severity"], problem["namespace"]) == (
            "no-schema", "error", ""), name
        assert problem["message"].startswith(
            "RIOXX record in the profile's example spelling: root <rioxx> has no namespace; "
            "the RIOXX v3.0 XSD requires http://www.rioxx.net/schema/v3.0/rioxx/"), name
        assert "http://docs.rioxx.net/schema/v3.0/rioxxterms/" in problem["message"], name
