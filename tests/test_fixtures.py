"""The bundled example records (fixtures/) and the synthetic record generator."""

from __future__ import annotations

import copy
import inspect
import json
import re
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from oai.cli.fixtures_cmd import fixtures
from oai.fixtures import generate_records, generated_sets
from oai.fixtures.generate import orcid_check_digit
from oai.paths import fixtures_dir
from oai.protocol.records import InvalidRecord, validate_record

RECORDS_DIR = fixtures_dir() / "records"
SETS_FILE = fixtures_dir() / "sets.json"

# Anything outside the XML 1.0 Char production:
# #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
ORCID_RE = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")


# ------------------------------------------------------------------------------------ helpers
def load_fixtures() -> list[tuple[Path, dict[str, Any]]]:
    out: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(RECORDS_DIR.iterdir()):
        if path.suffix == ".json":
            out.append((path, json.loads(path.read_text(encoding="utf-8"))))
        elif path.suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    out.append((path, json.loads(line)))
        else:
            pytest.fail(f"unexpected file in fixtures/records: {path.name}")
    return out


FIXTURES = load_fixtures()
BY_ID = {rec["id"]: rec for _, rec in FIXTURES}


def strings(value: Any) -> Iterator[str]:
    """Every string value (not key) anywhere in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def agents(rec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from rec.get("creators", [])
    yield from rec.get("contributors", [])
    yield from rec.get("book", {}).get("editors", [])


def orcid_ok(orcid: str) -> bool:
    digits = orcid.replace("-", "")
    return bool(ORCID_RE.match(orcid)) and orcid_check_digit(digits[:15]) == digits[15]


def issn_ok(issn: str) -> bool:
    d = issn.replace("-", "")
    total = sum(int(c) * (8 - i) for i, c in enumerate(d[:7]))
    check = (11 - total % 11) % 11
    return ("X" if check == 10 else str(check)) == d[7]


def isbn_ok(isbn: str) -> bool:
    d = isbn.replace("-", "")
    if len(d) == 10:
        total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(d))
        return total % 11 == 0
    return len(d) == 13 and d.isdigit() and sum(
        int(c) * (3 if i % 2 else 1) for i, c in enumerate(d)) % 10 == 0


def ancestors(spec: str) -> list[str]:
    parts = spec.split(":")
    return [":".join(parts[:i]) for i in range(1, len(parts) + 1)]


# ------------------------------------------------------------------------------------ fixtures
def test_about_fifty_records_in_json_and_jsonl() -> None:
    assert 45 <= len(FIXTURES) <= 60
    suffixes = {p.suffix for p, _ in FIXTURES}
    assert suffixes == {".json", ".jsonl"}


@pytest.mark.parametrize(("path", "rec"), FIXTURES, ids=[r["id"] for _, r in FIXTURES])
def test_fixture_validates(path: Path, rec: dict[str, Any]) -> None:
    validate_record(copy.deepcopy(rec))
    if path.suffix == ".json":
        assert path.stem == rec["id"]


def test_ids_unique() -> None:
    ids = [rec["id"] for _, rec in FIXTURES]
    assert len(ids) == len(set(ids))


def test_variety_of_types_and_access() -> None:
    types = {rec["type"] for _, rec in FIXTURES}
    assert {"article", "book", "book_section", "conference_item", "thesis", "dataset",
            "report", "working_paper", "software"} <= types
    statuses = {rec.get("access", {}).get("status") for _, rec in FIXTURES}
    assert {"open", "embargoed", "restricted", "metadata_only"} <= statuses
    langs = {lang for _, rec in FIXTURES for lang in rec.get("languages", [])}
    assert {"en", "cy", "de", "fr", "el", "zh", "ja"} <= langs
    assert any(ch for _, rec in FIXTURES for kw in rec.get("keywords", [])
               for ch in kw if ord(ch) >= 0x1F300)  # an emoji in a keyword


def test_reference_article() -> None:
    rec = BY_ID["123456"]
    validate_record(copy.deepcopy(rec))
    assert rec["type"] == "article" and rec["status"] == "published"
    assert rec["peer_reviewed"] is True and rec.get("deleted") is False
    assert rec["titles"][0]["text"] == ("Video Interaction Guidance: a return to traditional "
                                        "values and relationship-based practice?")
    assert rec["doi"] == "10.1093/bjsw/bcz067"
    people = {(c["family"], c["given"]): c for c in rec["creators"]}
    assert list(people) == [("Maxwell", "Nina"), ("Rees", "Alyson")]
    assert people["Maxwell", "Nina"]["orcid"] == "0000-0003-3931-7729"
    assert people["Rees", "Alyson"]["orcid"] == "0000-0003-2363-4965"
    for c in rec["creators"]:
        assert c["affiliations"] == [{"name": "Cardiff University",
                                      "ror": "https://ror.org/03kk7td41"}]
    assert rec["journal"] == {"title": "British Journal of Social Work", "volume": "49",
                              "issue": "6", "issn": "0045-3102", "eissn": "1468-263X"}
    assert rec["pages"]["start"] == "1415" and rec["pages"]["end"] == "1433"
    assert rec["publisher"] == "Oxford University Press"
    dates = rec["dates"]
    assert dates["accepted"] == dates["first_compliant_deposit"] == dates["deposited"] \
        == "2019-05-02"
    assert dates["published"].startswith("2019-09")
    assert rec["sets"] == ["school:social-sciences", "centre:cascade"]
    assert rec["access"] == {"status": "open"}
    assert rec["languages"] == ["en"]
    assert rec["url"] == "https://orca.cardiff.ac.uk/id/eprint/123456/"
    (pdf,) = rec["files"]
    assert pdf["version"] == "AM" and pdf["mime_type"] == "application/pdf"
    assert pdf["size"] == 314368
    assert pdf["url"].startswith("https://orca.cardiff.ac.uk/id/eprint/123456/1/")
    assert pdf["url"].endswith(".pdf")
    assert pdf["licence"].startswith("https://creativecommons.org/licenses/")
    assert 3 <= rec["abstracts"][0]["text"].count(". ") + 1 <= 6
    assert rec["keywords"]


def test_exactly_four_deleted() -> None:
    deleted = [rec["id"] for _, rec in FIXTURES if rec.get("deleted") is True]
    assert len(deleted) == 4


def test_xml_illegal_characters_present_as_escapes() -> None:
    dirty = [rec["id"] for _, rec in FIXTURES
             if any(XML_ILLEGAL.search(s) for s in strings(rec))]
    assert len(dirty) >= 3
    kinds = {m.group() for _, rec in FIXTURES for s in strings(rec)
             for m in XML_ILLEGAL.finditer(s)}
    assert {"\x0b", "\ufffe", "\x01"} <= kinds
    # The files themselves carry the characters only as JSON escapes.
    for path in RECORDS_DIR.iterdir():
        assert not XML_ILLEGAL.search(path.read_text(encoding="utf-8").replace("\n", " "))


def test_sets_file_covers_sets_and_ancestors() -> None:
    defined = json.loads(SETS_FILE.read_text(encoding="utf-8"))
    specs = [s["spec"] for s in defined]
    assert len(specs) == len(set(specs))
    for s in defined:
        assert s["name"].strip() and s["description"].strip()
    needed = {a for _, rec in FIXTURES for spec in rec.get("sets", []) for a in ancestors(spec)}
    assert needed <= set(specs)
    assert set(specs) <= needed  # nothing unused
    assert {"school", "school:social-sciences", "centre", "centre:cascade"} <= needed


def test_identifier_check_digits() -> None:
    for _, rec in FIXTURES:
        for agent in agents(rec):
            if "orcid" in agent:
                assert orcid_ok(agent["orcid"]), (rec["id"], agent["orcid"])
        for key in ("journal", "series"):
            for field in ("issn", "eissn"):
                if field in rec.get(key, {}):
                    assert issn_ok(rec[key][field]), (rec["id"], rec[key][field])
        for isbn in rec.get("isbn", []) + rec.get("book", {}).get("isbn", []):
            assert isbn_ok(isbn), (rec["id"], isbn)


# ------------------------------------------------------------------------------------ generator
def test_generator_is_lazy() -> None:
    stream = generate_records(10**9, seed=1)
    assert inspect.isgenerator(stream)
    assert len(list(islice(stream, 3))) == 3


def test_generator_deterministic_per_seed() -> None:
    a = list(generate_records(300, seed=42))
    b = list(generate_records(300, seed=42))
    assert a == b
    c = list(generate_records(300, seed=43))
    assert a != c
    assert sum(x != y for x, y in zip(a, c, strict=True)) > 250


def test_generator_shards_match() -> None:
    whole = list(generate_records(40, seed=7))
    tail = list(generate_records(20, seed=7, start=21))
    assert whole[20:] == tail


def test_generated_records_valid_unique_and_consistent() -> None:
    known = {s["spec"] for s in generated_sets()}
    ids: set[str] = set()
    types: set[str] = set()
    for rec in generate_records(2000, seed=5):
        validate_record(copy.deepcopy(rec))
        assert rec["id"] not in ids
        ids.add(rec["id"])
        types.add(rec["type"])
        assert 1 <= len(rec["creators"]) <= 8
        for agent in agents(rec):
            if "orcid" in agent:
                assert orcid_ok(agent["orcid"]), agent["orcid"]
        for spec in rec["sets"]:
            assert set(ancestors(spec)) <= known
        for field in ("issn", "eissn"):
            if field in rec.get("journal", {}):
                assert issn_ok(rec["journal"][field])
        for isbn in rec.get("isbn", []) + rec.get("book", {}).get("isbn", []):
            assert isbn_ok(isbn)
        assert "deleted" not in rec
    assert {"article", "book", "book_section", "thesis", "dataset", "conference_item"} <= types
    assert ids == {f"gen-{n:07d}" for n in range(1, 2001)}


def test_generated_sets_include_ancestors() -> None:
    sets = generated_sets()
    specs = [s["spec"] for s in sets]
    assert len(specs) == len(set(specs))
    for spec in specs:
        assert set(ancestors(spec)) <= set(specs)
    assert all(s["name"] and s["description"] for s in sets)


def test_deleted_ratio() -> None:
    recs = list(generate_records(2000, seed=9, deleted_ratio=0.1))
    n = sum(1 for r in recs if r.get("deleted") is True)
    assert 120 <= n <= 280
    for r in recs[:200]:
        validate_record(copy.deepcopy(r))
    assert all(r.get("deleted") is True for r in generate_records(20, deleted_ratio=1.0))


def test_generator_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        list(generate_records(-1))
    with pytest.raises(ValueError):
        list(generate_records(5, deleted_ratio=1.5))


def test_validator_sanity() -> None:
    rec = next(generate_records(1, seed=1))
    rec["type"] = "poem"
    with pytest.raises(InvalidRecord):
        validate_record(rec)


# ------------------------------------------------------------------------------------ CLI
def test_cli_generate_to_stdout() -> None:
    result = CliRunner().invoke(fixtures, ["generate", "--count", "25", "--seed", "3"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 25
    recs = [json.loads(line) for line in lines]
    assert recs == list(generate_records(25, seed=3))
    for rec in recs:
        validate_record(rec)


def test_cli_generate_to_file_and_sets(tmp_path: Path) -> None:
    out = tmp_path / "recs.jsonl"
    result = CliRunner().invoke(fixtures, ["generate", "--count", "40", "--seed", "1",
                                           "--start", "100", "--deleted-ratio", "0.5",
                                           "--output", str(out)])
    assert result.exit_code == 0, result.output
    recs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(recs) == 40
    assert recs[0]["id"] == "gen-0000100"
    assert any(r.get("deleted") for r in recs)

    sets_out = tmp_path / "sets.json"
    result = CliRunner().invoke(fixtures, ["sets", "--output", str(sets_out)])
    assert result.exit_code == 0, result.output
    assert json.loads(sets_out.read_text(encoding="utf-8")) == generated_sets()


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "x.jsonl"
    result = CliRunner().invoke(fixtures, ["generate", "--count", "3", "--output", str(target)])
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error:")
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
