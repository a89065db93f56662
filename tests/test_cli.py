"""The `oai` command: init, load, delete, sets, stats; errors are one line, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from oai.cli.main import cli
from tests.conftest import record

OAI = str(Path(sys.executable).with_name("oai"))


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("OAI_"):
            monkeypatch.delenv(key)
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, ["--database-url", url, *args], catch_exceptions=False)

    return invoke


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_load_reports_each_outcome(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("init").exit_code == 0
    good = write_jsonl(tmp_path / "a.jsonl", [
        record("1"), record("2", sets=["s:t"]), "{not json", {"id": "3", "type": "article"},
        {"spec": "s:t", "name": "Set S:T", "description": "The S:T set"}])
    result = run("load", str(good))
    assert result.exit_code == 1, result.output  # anything rejected: not a success
    assert "2 added, 0 updated, 0 unchanged, 2 rejected; 1 sets defined" in result.output
    assert "a.jsonl:3: not valid JSON" in result.output
    assert "a.jsonl:4 (id 3): record: must contain ['titles']" in result.output or \
        "a.jsonl:4 (id 3)" in result.output
    assert result.output.rstrip().splitlines()[-1] == "Error: 2 of 5 inputs were rejected"
    again = run("load", "--json", str(good))
    assert again.exit_code == 1
    summary = json.loads(again.output.strip().splitlines()[0])
    assert (summary["added"], summary["unchanged"], len(summary["rejected"])) == (0, 2, 2)
    assert summary["ok"] is False
    stats = json.loads(run("stats", "--json").output)
    assert stats["records"] == 2 and stats["sets"] == 2


def test_delete_and_sets(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("init")
    (tmp_path / "r.json").write_text(json.dumps([record("1"), record("2")]))
    assert run("load", str(tmp_path / "r.json")).exit_code == 0
    result = run("delete", "1", "nope")
    assert result.exit_code == 1
    assert "1 deleted, 0 already deleted, 1 unknown" in result.output
    assert run("sets", "add", "a:b", "A B", "--description", "x").exit_code == 0
    listing = run("sets", "list", "--json").output.strip().splitlines()
    assert [json.loads(line)["spec"] for line in listing] == ["a", "a:b"]
    bad = run("sets", "add", "bad spec", "x")
    assert bad.exit_code == 1 and "not a valid setSpec" in bad.output
    assert json.loads(run("stats", "--json").output)["deleted"] == 1


def test_a_bad_record_never_corrupts_the_store(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("init")
    run("load", str(write_jsonl(tmp_path / "ok.jsonl", [record("keep", "Original")])))
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "keep", "titles": [], "type": "x"}])
    result = run("load", str(bad))
    assert result.exit_code == 1  # nothing could be loaded
    assert json.loads(run("stats", "--json").output)["records"] == 1


@pytest.mark.parametrize(("args", "message"), [
    (["serve"], "oai init"),
    (["stats"], "oai init"),
    (["load", "/no/such/path"], "does not exist"),
    (["--database-url", "postgresql+psycopg://x@127.0.0.1:1/none", "stats"],
     "cannot open the database"),
    (["--config", "/no/such.toml", "stats"], "does not exist"),
])
def test_errors_are_one_line_without_traceback(tmp_path: Path, args: list[str],
                                               message: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    proc = subprocess.run([OAI, *args], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert message in proc.stderr
    assert len([line for line in lines if line.startswith("Error")]) == 1


def test_config_file_and_environment(tmp_path: Path) -> None:
    (tmp_path / "oai.toml").write_text('page_size = "many"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    proc = subprocess.run([OAI, "stats"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode == 1 and "page_size" in proc.stderr
    assert "Traceback" not in proc.stderr
    (tmp_path / "oai.toml").write_text(f'database_url = "sqlite:///{tmp_path}/c.sqlite"\n')
    assert subprocess.run([OAI, "init"], env=env, cwd=tmp_path, timeout=60,
                          capture_output=True).returncode == 0
    assert (tmp_path / "c.sqlite").exists()


def test_help_explains_itself() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    for command in ("init", "load", "delete", "sets", "serve", "stats", "fixtures"):
        assert command in result.output


def test_serve_on_a_taken_port_is_one_line(tmp_path: Path) -> None:
    import socket

    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = f"sqlite:///{tmp_path / 's.sqlite'}"
    subprocess.run([OAI, "init"], env=env, cwd=tmp_path, timeout=60, check=True,
                   capture_output=True)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([OAI, "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_command_closes_its_store_and_keeps_its_exit_status_and_output(
        tmp_path: Path) -> None:
    """`oai` ends without the interpreter's teardown, but only after the command's store is
    closed (SQLite's last close checkpoints the log into the file: no -wal is left), its
    output flushed and its exit status kept."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = f"sqlite:///{tmp_path / 'w.sqlite'}"
    assert subprocess.run([OAI, "init"], env=env, cwd=tmp_path, timeout=60,
                          capture_output=True).returncode == 0
    records = write_jsonl(tmp_path / "r.jsonl", [record(str(i)) for i in range(50)])
    loaded = subprocess.run([OAI, "load", str(records)], env=env, cwd=tmp_path, timeout=120,
                            capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert (tmp_path / "w.sqlite").exists()
    assert not (tmp_path / "w.sqlite-wal").exists()
    stats = subprocess.run([OAI, "stats", "--json"], env=env, cwd=tmp_path, timeout=60,
                           capture_output=True, text=True)
    assert stats.returncode == 0 and json.loads(stats.stdout)["records"] == 50
    missing = subprocess.run([OAI, "harvest", "run", "nosuch"], env=env, cwd=tmp_path,
                             timeout=60, capture_output=True, text=True)
    assert missing.returncode == 1 and "nosuch" in missing.stderr
