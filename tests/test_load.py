"""`oai load` as a user runs it: any rejection fails the load (exit 1, said on its last line);
--dry-run checks everything and writes nothing; a record naming an undefined set is rejected,
naming the set, unless --create-sets; sets defined anywhere in the inputs count, whatever the
file order; nothing stored is ever lost by a bad input."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oai.cli.inputs import iter_inputs
from tests.conftest import PROJECT, record

OAI = str(Path(sys.executable).with_name("oai"))


@pytest.fixture
def oai(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = f"sqlite:///{tmp_path / 's.sqlite'}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([OAI, *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=120)

    assert run("init").returncode == 0
    return run


def jsonl(path: Path, *rows: object) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return str(path)


def record_data(tmp_path: Path) -> dict[str, tuple[int, str]]:
    """Each record's datestamp and canonical JSON, read straight from the file."""
    import sqlite3

    with sqlite3.connect(f"file:{tmp_path / 's.sqlite'}?mode=ro", uri=True) as conn:
        return {rid: (ds, data) for rid, ds, data
                in conn.execute("SELECT id, datestamp, data FROM records")}


def test_any_rejection_fails_the_load(oai, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = jsonl(tmp_path / "in.jsonl", record("1"), {"id": "2", "type": "article"})
    proc = oai("load", source)
    assert proc.returncode == 1
    assert proc.stdout == "1 added, 0 updated, 0 unchanged, 1 rejected\n"
    assert proc.stderr.splitlines()[-1] == "Error: 1 of 2 inputs were rejected"
    assert "Traceback" not in proc.stderr
    assert set(record_data(tmp_path)) == {"1"}  # the good record is loaded all the same
    as_json = oai("load", "--json", source)
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["ok"] is False
    clean = oai("load", "--json", jsonl(tmp_path / "ok.jsonl", record("3")))
    assert clean.returncode == 0 and json.loads(clean.stdout)["ok"] is True


def test_dry_run_checks_everything_and_writes_nothing(oai, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert oai("load", jsonl(tmp_path / "first.jsonl", record("same"), record("old", "Old"),
                             {"spec": "s", "name": "S"})).returncode == 0
    store_file = tmp_path / "s.sqlite"
    before = (hashlib.sha256(store_file.read_bytes()).hexdigest(), record_data(tmp_path),
              oai("sets", "list", "--json").stdout)
    source = jsonl(tmp_path / "second.jsonl", record("same"), record("old", "New title"),
                   record("new", sets=["s"]), record("bad", sets=["undefined"]),
                   {"id": "worse", "titles": [], "type": "article"},
                   {"spec": "t", "name": "T"})
    proc = oai("load", "--dry-run", source)
    assert proc.returncode == 1
    assert proc.stdout == ("dry run, nothing written: 1 to add, 1 to update, 1 unchanged, "
                           "2 rejected; 1 sets to define\n")
    assert "second.jsonl:4 (id bad): record.sets: set undefined is not defined" in proc.stderr
    assert proc.stderr.splitlines()[-1] == "Error: 2 of 6 inputs would be rejected"
    after = (hashlib.sha256(store_file.read_bytes()).hexdigest(), record_data(tmp_path),
             oai("sets", "list", "--json").stdout)
    assert after == before
    ok = oai("load", "--dry-run", "--json", jsonl(tmp_path / "fine.jsonl", record("new")))
    assert ok.returncode == 0
    assert json.loads(ok.stdout) == {"ok": True, "dry_run": True, "added": 1, "updated": 0,
                                     "unchanged": 0, "sets": 0, "rejected": []}
    assert "new" not in record_data(tmp_path)


def test_undefined_sets_are_rejected_unless_created(oai, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert oai("sets", "add", "known", "Known").returncode == 0
    source = jsonl(tmp_path / "in.jsonl", record("1", sets=["known", "x:y", "z"]),
                   record("2", sets=["known"]), record("3", sets=["p"]),
                   {"spec": "p:q", "name": "P Q"})  # defines p:q, hence its parent p
    proc = oai("load", source)
    assert proc.returncode == 1
    rejected = [line for line in proc.stderr.splitlines() if line.startswith("rejected")]
    assert rejected == [f"rejected {source}:1 (id 1): record.sets: sets x:y, z are not defined "
                        "(define it in the inputs or with 'oai sets add', or load with "
                        "--create-sets)"]
    assert set(record_data(tmp_path)) == {"2", "3"}
    created = oai("load", "--create-sets", source)
    assert created.returncode == 0, created.stderr
    sets = {json.loads(line)["spec"]: json.loads(line)["name"]
            for line in oai("sets", "list", "--json").stdout.splitlines()}
    assert sets == {"known": "Known", "p": "p", "p:q": "P Q", "x": "x", "x:y": "x:y", "z": "z"}


def test_sets_defined_later_in_the_inputs_count(oai, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "corpus"
    jsonl(folder / "records" / "a.jsonl", record("1", sets=["school:x"]), record("2"),
          {"spec": "late", "name": "Defined after its record"}, record("3", sets=["late"]))
    (folder / "records" / "b.json").write_text(json.dumps([record("4", sets=["late"])]))
    (folder / "sets.json").write_text(json.dumps([
        {"spec": "school", "name": "Schools", "description": "All schools"},
        {"spec": "school:x", "name": "School X"}]))
    proc = oai("load", str(folder))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "4 added, 0 updated, 0 unchanged, 0 rejected; 3 sets defined\n"
    assert proc.stderr == ""
    assert oai("sets", "add", "school:x", "School X", "--description", "set by hand"
               ).returncode == 0
    assert oai("load", str(folder / "sets.json")).returncode == 0  # no description given: kept
    sets = {json.loads(line)["spec"]: json.loads(line)["description"]
            for line in oai("sets", "list", "--json").stdout.splitlines()}
    assert sets == {"late": None, "school": "All schools", "school:x": "set by hand"}


def test_the_demo_fixtures_load_with_no_rejection(tmp_path: Path) -> None:
    """`make demo` runs exactly this: records/*.json are read before sets.json."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_CONFIG"] = str(PROJECT / "etc" / "demo.toml")
    for args in (["init"], ["load", str(PROJECT / "fixtures")]):
        proc = subprocess.run([OAI, *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "rejected" not in proc.stderr
    assert ", 0 rejected; " in proc.stdout
    assert (tmp_path / "var" / "demo.sqlite").exists()


def test_a_bad_input_never_loses_what_is_stored(oai, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert oai("load", jsonl(tmp_path / "ok.jsonl", record("keep", "Original"))).returncode == 0
    before = record_data(tmp_path)
    for rows in ([{"id": "keep", "titles": [], "type": "x"}],
                 [record("keep", "Replaced", sets=["undefined"])],
                 ["{broken"], [{"spec": "bad spec", "name": "x"}]):
        bad = jsonl(tmp_path / "bad.jsonl", *rows)
        for extra in ([], ["--dry-run"]):
            proc = oai("load", *extra, bad)
            assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert record_data(tmp_path) == before


def test_the_first_pass_reads_only_set_definitions(tmp_path: Path) -> None:
    jsonl(tmp_path / "a.jsonl", record("1"), "{not json at all", {"spec": "a", "name": "A"},
          '{"\\u0073pec": "b", "name": "B"}', {"id": "2", "spec": "not a set: it has an id"})
    (tmp_path / "b.json").write_text(json.dumps([record("3"), {"spec": "c", "name": "C"}]))
    (tmp_path / "c.json").write_text(json.dumps(record("4")))
    (tmp_path / "empty.json").write_text("")
    found = [(item.where.rsplit("/", 1)[1], item.value["spec"])
             for item in iter_inputs([str(tmp_path)]).set_items()]
    assert found == [("a.jsonl:3", "a"), ("a.jsonl:4", "b"), ("b.json[1]", "c")]


def test_loading_on_workers_stores_what_one_process_stores(tmp_path: Path) -> None:
    from oai.fixtures import generate_records

    rows: list[object] = list(generate_records(600, seed=3))
    rows.insert(17, {"id": "bad-1", "titles": []})
    rows.insert(400, "{not json")
    rows.insert(590, {"id": "bad-2", "type": "article"})
    source = jsonl(tmp_path / "in" / "records.jsonl", *rows)
    outputs = {}
    for jobs in ("1", "2"):
        env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
        env["OAI_DATABASE_URL"] = f"sqlite:///{tmp_path / f'j{jobs}.sqlite'}"
        proc = subprocess.run([OAI, "load", "--create-sets", "--jobs", jobs, source],
                              capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        assert proc.returncode == 1
        outputs[jobs] = (proc.stdout, proc.stderr, _dump(tmp_path / f"j{jobs}.sqlite"))
    assert outputs["1"] == outputs["2"]
    stdout, stderr, (records, renditions) = outputs["2"]
    assert stdout == "600 added, 0 updated, 0 unchanged, 3 rejected\n"
    assert [line.split(":")[1] for line in stderr.splitlines()[:3]] == [
        "18 (id bad-1)", "401", "591 (id bad-2)"]
    assert len(records) == 600 and len(renditions) >= 600


def _dump(path: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        return (conn.execute("SELECT id, data FROM records ORDER BY id").fetchall(),
                conn.execute("SELECT record_id, prefix, xml FROM renditions "
                             "ORDER BY record_id, prefix").fetchall())
