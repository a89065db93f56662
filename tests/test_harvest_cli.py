"""`oai harvest` and `oai export` as a librarian uses them: exit codes, one-line reasons,
status and exports; every exported XML document is schema-valid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from oai.protocol.schemas import validate_response
from tests.quirk_server import QuirkServer, make_records, serve_quirks

OAI = str(Path(sys.executable).with_name("oai"))


@pytest.fixture
def quirks() -> Iterator[QuirkServer]:
    with serve_quirks(make_records(25), page_size=10) as server:
        yield server


@pytest.fixture
def oai(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = f"sqlite:///{tmp_path / 'h.sqlite'}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([OAI, *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=120)

    return run


def test_add_run_status_export(oai, quirks: QuirkServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert oai("harvest", "add", "good", quirks.url("ok")).returncode == 0
    refused = oai("harvest", "add", "bad", quirks.url("html"))
    assert refused.returncode == 1 and "HTML page" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert oai("harvest", "add", "bad", quirks.url("html"), "--no-check").returncode == 0
    listing = oai("harvest", "list").stdout
    assert "good" in listing and "bad" in listing

    ok = oai("harvest", "run", "good")
    assert ok.returncode == 0, ok.stderr
    assert "good: complete - 25 records (3 deleted) in 3 pages" in ok.stdout

    both = oai("harvest", "run", "--all", "--jobs", "2", "--retries", "1")
    assert both.returncode == 1
    reasons = [line for line in both.stderr.splitlines() if line.startswith("bad:")]
    assert len(reasons) == 1 and "failed" in reasons[0]
    assert "Traceback" not in both.stderr

    status = json.loads(oai("harvest", "status", "good", "--json").stdout)
    assert status["records"] == 25 and status["deleted"] == 3
    assert status["last_run"]["status"] == "complete" and status["last_run"]["pages"] == 3
    human = oai("harvest", "status").stdout
    assert "good: 25 records (3 deleted)" in human and "reason:" in human

    lines = oai("export", "good").stdout.splitlines()
    objects = [json.loads(line) for line in lines]
    assert len(objects) == 25
    assert set(objects[0]) == {"identifier", "datestamp", "deleted", "sets", "metadata"}
    deleted = [o for o in objects if o["deleted"]]
    assert len(deleted) == 3 and all(o["metadata"] is None for o in deleted)
    assert all(o["metadata"].startswith("<oai_dc:dc") for o in objects if not o["deleted"])

    out = tmp_path / "export.xml"
    assert oai("export", "good", "--format", "xml", "-o", str(out)).returncode == 0
    validate_response(out.read_bytes())


def test_json_logs_and_summary(oai, quirks: QuirkServer) -> None:  # type: ignore[no-untyped-def]
    oai("harvest", "add", "good", quirks.url("ok"))
    result = oai("harvest", "run", "good", "--json")
    assert result.returncode == 0
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    pages = [e for e in events if e["event"] == "page"]
    assert len(pages) == 3 and pages[0]["size"] == 25
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["status"] == "complete" and summary["records"] == 25


@pytest.mark.parametrize(("args", "message"), [
    (["harvest", "run", "nosuch"], "no source named"),
    (["harvest", "run"], "name one or more sources"),
    (["harvest", "add", "x", "ftp://example.org/oai"], "not an OAI-PMH base URL"),
    (["harvest", "add", "x", "http://example.org/oai", "--set", " "], "--set needs"),
    (["export", "nosuch"], "no source named"),
])
def test_cli_errors_are_one_line(oai, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    oai("init")
    result = oai(*args)
    assert result.returncode != 0 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_duplicate_source_is_refused(oai, quirks: QuirkServer) -> None:  # type: ignore[no-untyped-def]
    assert oai("harvest", "add", "a", quirks.url("ok")).returncode == 0
    again = oai("harvest", "add", "a", quirks.url("ok"))
    assert again.returncode == 1 and "already exists" in again.stderr


def test_jobs_never_send_two_requests_to_one_host(oai, quirks: QuirkServer) -> None:  # type: ignore[no-untyped-def]
    for name in ("one", "two", "three"):
        assert oai("harvest", "add", name, quirks.url("busy")).returncode == 0
    result = oai("harvest", "run", "--all", "--jobs", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("complete - 25 records") == 3
    assert quirks.state.max_in_flight == 1, "one request at a time per host"


def test_response_cap_is_an_error_not_a_truncation(oai, quirks: QuirkServer) -> None:  # type: ignore[no-untyped-def]
    oai("harvest", "add", "huge", quirks.url("huge"), "--no-check")
    result = oai("harvest", "run", "huge", "--max-response-mb", "1", "--retries", "1")
    assert result.returncode == 1
    assert "huge: failed:" in result.stderr and "response too large" in result.stderr
    assert "Traceback" not in result.stderr
    status = json.loads(oai("harvest", "status", "huge", "--json").stdout)
    assert status["records"] == 0
