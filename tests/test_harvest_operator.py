"""`oai harvest` in a librarian's hands, as real processes against a real server: sources
checked before they are saved, edited and removed; remotes inspected; one-off windows; and
Ctrl-C / SIGTERM that stop cleanly, record the run and say how to resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.hostile_server import Hostile, Item, Running, items, serve_hostile

OAI = str(Path(sys.executable).with_name("oai"))
pytestmark = pytest.mark.timeout(120)

Oai = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    clean["OAI_DATABASE_URL"] = f"sqlite:///{tmp_path / 'h.sqlite'}"
    return clean


@pytest.fixture
def oai(env: dict[str, str], tmp_path: Path) -> Oai:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([OAI, *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=100)
    return run


@pytest.fixture
def server() -> Iterator[Running]:
    spaced = Item("oai:x:space", "2024-03-01T00:00:00Z", ("with space",))
    repo = Hostile([*items(30, sets=("s:one",)), spaced], earliest="2024-01-01T00:00:00Z",
                   page_size=10)
    with serve_hostile(repo) as running:
        yield running


def one_line_error(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode != 0, result.stdout
    assert words in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


# --- sources: checked, edited, removed ----------------------------------------------------------


@pytest.mark.parametrize(("args", "words"), [
    (["", "{url}"], "not a valid source name"),
    (["has space", "{url}"], "not a valid source name"),
    (["x", "http://"], "not an OAI-PMH base URL"),
    (["x", "http://127.0.0.1:99999/oai"], "invalid port"),
    (["x", "ftp://example.org/oai"], "not an OAI-PMH base URL"),
    (["x", "{url}", "--prefix", "marcxml"], "does not offer metadataPrefix 'marcxml'"),
    (["x", "{url}", "--set", "nosuch"], "has no set 'nosuch'"),
])
def test_add_refuses_what_cannot_work(oai: Oai, server: Running, args: list[str],
                                      words: str) -> None:
    one_line_error(oai("harvest", "add", *[a.format(url=server.url()) for a in args]), words)
    assert oai("harvest", "list").stdout == ""


def test_add_says_what_it_found(oai: Oai, server: Running) -> None:
    result = oai("harvest", "add", "hostile", server.url(), "--set", "with space")
    assert result.returncode == 0, result.stderr
    for words in ("repository:   Hostile", "granularity:  YYYY-MM-DDThh:mm:ssZ",
                  "deletions:    persistent", "earliest:     2024-01-01T00:00:00Z",
                  "records:      1"):
        assert words in result.stdout
    asked = [r["verb"] for r in server.repo.requests]
    assert asked[:3] == ["Identify", "ListMetadataFormats", "ListSets"]
    listed = json.loads(oai("harvest", "list", "--json").stdout)
    assert listed["sets"] == ["with space"]
    run = oai("harvest", "run", "hostile")
    assert run.returncode == 0 and "1 records" in run.stdout
    again = oai("harvest", "add", "offline", "http://127.0.0.1:9/oai", "--no-check")
    assert again.returncode == 0 and "repository:" not in again.stdout


def test_edit_and_remove(oai: Oai, server: Running) -> None:
    assert oai("harvest", "add", "h", server.url()).returncode == 0
    assert oai("harvest", "run", "h").returncode == 0
    status = json.loads(oai("harvest", "status", "h", "--json").stdout)
    assert status["records"] == 31 and status["incremental_from"]
    one_line_error(oai("harvest", "edit", "h", "--set", "nosuch"), "has no set")
    edited = oai("harvest", "edit", "h", "--set", "s:one", "--rate-limit", "0.01")
    assert edited.returncode == 0, edited.stderr
    assert "harvests everything again" in edited.stdout
    status = json.loads(oai("harvest", "status", "h", "--json").stdout)
    assert status["sets"] == ["s:one"] and status["incremental_from"] is None
    assert status["records"] == 31  # the copy stays until the next run
    one_line_error(oai("harvest", "remove", "h"), "confirm with --yes")
    removed = oai("harvest", "remove", "h", "--yes")
    assert removed.returncode == 0 and "31 records" in removed.stdout
    assert oai("harvest", "list").stdout == ""
    one_line_error(oai("harvest", "status", "h"), "no source named")


def test_remote_inspection(oai: Oai, server: Running) -> None:
    ident = oai("remote", "identify", server.url())
    assert ident.returncode == 0 and "Hostile" in ident.stdout and "persistent" in ident.stdout
    info = json.loads(oai("remote", "identify", server.url(), "--json").stdout)
    assert info["granularity"] == "YYYY-MM-DDThh:mm:ssZ" and info["protocol_version"] == "2.0"
    formats = oai("remote", "formats", server.url(), "--json").stdout.splitlines()
    assert [json.loads(f)["prefix"] for f in formats] == ["oai_dc"]
    sets = oai("remote", "sets", server.url())
    assert "with space" in sets.stdout and "s:one" in sets.stdout
    one_line_error(oai("remote", "sets", "http://127.0.0.1:9/oai"), "connection failed")
    assert oai("harvest", "list").stdout == ""  # nothing was added


def test_one_off_window_leaves_the_incremental_state(oai: Oai, server: Running) -> None:
    assert oai("harvest", "add", "h", server.url()).returncode == 0
    assert oai("harvest", "run", "h").returncode == 0
    before = json.loads(oai("harvest", "status", "h", "--json").stdout)["incremental_from"]
    result = oai("harvest", "run", "h", "--from", "2024-01-05", "--until", "2024-01-09")
    assert result.returncode == 0, result.stderr
    last = server.repo.list_requests()[-1]
    assert (last["from"], last["until"]) == ("2024-01-05", "2024-01-09")
    status = json.loads(oai("harvest", "status", "h", "--json").stdout)
    assert status["incremental_from"] == before
    assert status["last_run"]["mode"] == "window" and status["last_run"]["records"] == 5
    one_line_error(oai("harvest", "run", "h", "--from", "2024-13-01"), "--from")
    one_line_error(oai("harvest", "run", "h", "--from", "2024-02-01", "--until", "2024-01-01"),
                   "later than --until")


# --- stopping ------------------------------------------------------------------------------------


def _pages_committed(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            row = conn.execute("SELECT coalesce(sum(pages), 0) FROM harvest_runs").fetchone()
            return int(row[0])
    except sqlite3.Error:
        return 0


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([OAI, "harvest", "run", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_pages(db: Path, count: int, proc: subprocess.Popen[str]) -> None:
    while _pages_committed(db) < count:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)


@pytest.fixture
def slow() -> Iterator[Running]:
    repo = Hostile(items(200), earliest="2024-01-01T00:00:00Z", page_size=5, delay=0.15)
    with serve_hostile(repo) as running:
        yield running


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_run_recorded_and_resumable(
        oai: Oai, env: dict[str, str], tmp_path: Path, slow: Running, signum: int,
        code: int) -> None:
    assert oai("harvest", "add", "h", slow.url("slow")).returncode == 0
    proc = _start(env, "h")
    _wait_for_pages(tmp_path / "h.sqlite", 2, proc)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == code, err
    assert "interrupted: run 'oai harvest run h' to resume" in err
    assert "Traceback" not in err
    status = json.loads(oai("harvest", "status", "h", "--json").stdout)
    run = status["last_run"]
    assert run["status"] == "interrupted" and signal.Signals(signum).name in run["reason"]
    assert status["records"] == run["records"] >= 10 and status["harvested_by"] is None
    again = oai("harvest", "run", "h")
    assert again.returncode == 0 and "(resumed)" in again.stdout, again.stderr
    assert json.loads(oai("harvest", "status", "h", "--json").stdout)["records"] == 200


def test_ctrl_c_twice_still_records_the_run(oai: Oai, env: dict[str, str], tmp_path: Path,
                                            slow: Running) -> None:
    assert oai("harvest", "add", "h", slow.url("slow")).returncode == 0
    proc = _start(env, "h")
    _wait_for_pages(tmp_path / "h.sqlite", 1, proc)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=20)
    assert proc.returncode == 130
    status = json.loads(oai("harvest", "status", "h", "--json").stdout)
    assert status["last_run"]["status"] == "interrupted"  # never left "running"
    again = oai("harvest", "run", "h")
    assert again.returncode == 0 and "(resumed)" in again.stdout


def test_jobs_stop_together(oai: Oai, env: dict[str, str], tmp_path: Path,
                            slow: Running) -> None:
    other = slow.url("slow").replace("127.0.0.1", "localhost")  # another host: in parallel
    assert oai("harvest", "add", "a", slow.url("slow")).returncode == 0
    assert oai("harvest", "add", "b", other).returncode == 0
    proc = _start(env, "--all", "--jobs", "2", "--json")
    _wait_for_pages(tmp_path / "h.sqlite", 3, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    summaries = {json.loads(line)["source"]: json.loads(line) for line in out.splitlines()}
    assert {s["status"] for s in summaries.values()} == {"interrupted"}
    for name in ("a", "b"):
        status = json.loads(oai("harvest", "status", name, "--json").stdout)
        assert status["last_run"]["status"] == "interrupted"
