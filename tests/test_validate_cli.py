"""`oai validate` as a user runs it: targets of every kind, one line per problem, a summary,
`--json`, exit status 1 only when something failed, and bad input in one line."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from oai.protocol.namespaces import OAI
from tests.rules_server import RulesServer, list_page, serve_rules
from tests.serving import free_port

OAI_CLI = str(Path(sys.executable).with_name("oai"))
GOOD = list_page("ok", "ListRecords", {"metadataPrefix": "oai_dc"}).encode()
BAD = list_page("deleted-metadata", "ListRecords", {"resumptionToken": "p1"}).encode()
UNKNOWN = (f'<record xmlns="{OAI}"><header><identifier>oai:x:1</identifier><datestamp>'
           '2024-01-01</datestamp></header><metadata><x:thing xmlns:x="urn:example:thing">'
           "<x:part>1</x:part></x:thing></metadata></record>").encode()


def oai(*args: str, stdin: bytes | None = None, cwd: Path | None = None,
        **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    done = subprocess.run([OAI_CLI, "validate", *args], input=stdin.decode() if stdin else None,
                          capture_output=True, text=True, env={**clean, **env}, cwd=cwd,
                          timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def summary(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])["summary"]
    return result


@pytest.fixture(scope="module")
def server() -> Iterator[RulesServer]:
    with serve_rules() as running:
        yield running


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    (tmp_path / "good.xml").write_bytes(GOOD)
    (tmp_path / "nested" / "deeper" / "bad.xml").write_bytes(BAD)
    (tmp_path / "nested" / "notes.txt").write_text("not looked at")
    return tmp_path


def test_a_valid_file_exits_0_with_a_summary(folder: Path) -> None:
    done = oai(str(folder / "good.xml"))
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[:4] == [
        "targets            1", "documents          1", "responses          1",
        "records            2"]
    assert done.stdout.splitlines()[-1] == "valid: 0 error(s), 0 warning(s)"


def test_a_folder_is_read_recursively_and_problems_are_lines(folder: Path) -> None:
    done = oai(str(folder))
    assert done.returncode == 1
    bad = folder / "nested" / "deeper" / "bad.xml"
    first = done.stdout.splitlines()[0]
    assert first.startswith(f"{bad}:5: error [deleted-with-metadata] oai:rules.example.org:3 "
                            "/OAI-PMH/ListRecords/record[1]/metadata: ")
    assert "  deleted-with-metadata       1         0" in done.stdout
    assert done.stdout.splitlines()[-1] == "INVALID: 1 error(s), 0 warning(s)"


def test_json_is_one_object_per_problem_then_the_summary(folder: Path) -> None:
    done = oai("--json", str(folder), str(folder / "missing.xml"))
    assert done.returncode == 1
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(p["rule"], p["severity"]) for p in lines[:-1]] == [
        ("deleted-with-metadata", "error"), ("unreadable", "error")]
    assert lines[1] == {"target": str(folder / "missing.xml"), "rule": "unreadable",
                        "message": "No such file or directory", "severity": "error",
                        "line": None, "xpath": None, "record": None, "namespace": None}
    assert summary(done) == {
        "ok": False, "targets": 2, "documents": 2, "responses": 2, "records": 4, "errors": 2,
        "warnings": 0, "schemas": {OAI: "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd",
                                   "http://www.openarchives.org/OAI/2.0/oai_dc/":
                                   "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"},
        "problems": {"deleted-with-metadata": {"error": 1, "warning": 0},
                     "unreadable": {"error": 1, "warning": 0}}}


def test_warnings_alone_do_not_fail_and_stdin_is_a_target() -> None:
    done = oai("-", stdin=UNKNOWN)
    assert done.returncode == 0
    assert done.stdout.splitlines()[0] == (
        "<stdin>:1: warning [no-schema] oai:x:1 /record/metadata/x:thing: no schema for "
        "namespace urn:example:thing: <thing> not validated")
    not_xml = oai("-", stdin=b"<OAI-PMH><unclosed></OAI-PMH>")
    assert not_xml.returncode == 1
    assert not_xml.stdout.startswith("<stdin>:1: error [not-well-formed] - -: ")


def test_another_catalog_from_the_option_or_the_settings(tmp_path: Path) -> None:
    (tmp_path / "thing.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace='
        '"urn:example:thing" elementFormDefault="qualified"><xs:element name="thing">'
        '<xs:complexType><xs:sequence><xs:element name="part" type="xs:date"/></xs:sequence>'
        "</xs:complexType></xs:element></xs:schema>")
    catalog = tmp_path / "catalog.xml"
    catalog.write_text('<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">'
                       '<uri name="http://example.org/thing.xsd" uri="thing.xsd"/></catalog>')
    document = tmp_path / "thing.xml"
    document.write_bytes(UNKNOWN.split(b"<metadata>")[1].split(b"</metadata>")[0])
    for done in (oai("--schemas", str(catalog), str(document)),
                 oai(str(document), OAI_VALIDATE_SCHEMAS=str(catalog))):
        assert done.returncode == 1
        assert done.stdout.startswith(f"{document}:1: error [schema] - /x:thing/x:part: "
                                      "Element '{urn:example:thing}part': '1' is not a valid "
                                      "value of the atomic type 'xs:date'.")
    (tmp_path / "oai.toml").write_text(f'[validate]\nschemas = "{catalog}"\n')
    assert oai(str(document), cwd=tmp_path).returncode == 1
    assert oai(str(document)).returncode == 0  # ours: no schema for it, a warning


@pytest.mark.parametrize(("value", "message"), [
    ("nowhere.xml", "Error: --schemas nowhere.xml: no such file"),
    ("README.md", "Error: --schemas README.md: not an XML catalog"),
])
def test_a_bad_catalog_is_one_line(value: str, message: str) -> None:
    done = oai("--schemas", value, "x.xml", cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(message)


def test_walking_a_repository(server: RulesServer) -> None:
    ok = oai(server.url("ok"), "--json")
    assert ok.returncode == 0, ok.stdout
    assert ok.stderr == ""  # no progress when stderr is not a terminal
    assert summary(ok)["documents"] == 10  # Identify, formats, sets, 3 + 3 pages, GetRecord
    assert summary(oai(server.url("ok"), "--json", "--pages", "1"))["documents"] == 6
    assert summary(oai(server.url("ok"), "--json", OAI_VALIDATE_PAGES="2"))["documents"] == 8
    broken = oai(server.url("list-size"))
    assert broken.returncode == 1
    assert broken.stdout.splitlines()[0].startswith(
        f"{server.url('list-size')}?verb=ListIdentifiers&resumptionToken=p2:5: error "
        "[complete-list-size] - /OAI-PMH/ListIdentifiers/resumptionToken: completeListSize is 9")


def test_progress_on_a_terminal(server: RulesServer) -> None:
    """Progress goes to stderr when it is a terminal (a pseudo-terminal here), rewriting one
    line per request, and leaves it clean for the summary."""
    leader, follower = pty.openpty()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    try:
        done = subprocess.run([OAI_CLI, "validate", "--pages", "1", server.url("ok")],
                              stdout=subprocess.PIPE, stderr=follower, env=clean, timeout=60)
        os.close(follower)
        shown = b""
        with suppress(OSError):  # EIO once everything written was read
            while chunk := os.read(leader, 65536):
                shown += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0
    steps = shown.decode().split("\r\x1b[K")
    assert steps[1] == f"{server.url('ok')}: Identify (request 1)"
    assert steps[-2].endswith(": GetRecord identifier=oai:rules.example.org:1 "
                              "metadataPrefix=oai_dc (request 6)")
    assert steps[-1] == ""  # cleared before the summary
    assert done.stdout.decode().splitlines()[-1] == "valid: 0 error(s), 0 warning(s)"


def test_an_unreachable_repository_is_a_problem_of_that_target() -> None:
    url = f"http://127.0.0.1:{free_port()}/oai"
    done = oai(url, OAI_HARVEST_RETRIES="1")
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].startswith(
        f"{url}?verb=Identify: error [request-failed] - -: ")
    assert "Connection refused" in done.stdout.splitlines()[0]
    assert done.stderr == ""
