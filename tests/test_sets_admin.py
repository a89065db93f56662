"""Set administration: `add_set` keeps a description unless given one; removing a set is
refused while records or sub-sets use it, and a forced removal takes the set's subtree out of
its records through the normal write path (JSON, memberships, header setSpecs, content hash,
datestamp) before removing the subtree. Store-level on SQLite and PostgreSQL, and the `oai
sets` commands as a user runs them."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from oai.protocol.rendering import prepare_record
from oai.store.errors import SetInUse, UnknownSet
from oai.store.repository import Store
from oai.store.setadmin import remove_set, set_usage
from oai.store.tables import record_sets, records
from tests.conftest import NS, Clock, OAIClient, error_codes, put, record

OAI = str(Path(sys.executable).with_name("oai"))


def descriptions(store: Store) -> dict[str, tuple[str, str | None]]:
    return {s.spec: (s.name, s.description) for s in store.sets_page(None, 100)}


def rows(store: Store) -> dict[str, tuple[int, bool, str, str, str]]:
    with store.engine.connect() as conn:
        return {r.id: (r.datestamp, r.deleted, r.set_specs, r.content_hash, r.data)
                for r in conn.execute(select(records))}


def memberships(store: Store) -> set[tuple[str, str, int]]:
    with store.engine.connect() as conn:
        return {(r.set_spec, r.record_id, r.datestamp) for r in conn.execute(select(record_sets))}


def test_add_set_keeps_the_description_unless_given_one(store: Store) -> None:
    store.add_set("a", "A", "the A set")
    assert store.add_set("a", "A renamed") is False
    assert descriptions(store)["a"] == ("A renamed", "the A set")
    store.add_set("a", "A", "a new description")
    assert descriptions(store)["a"] == ("A", "a new description")
    store.add_set("a", "A", None)
    assert descriptions(store)["a"] == ("A", None)


def test_removal_is_refused_while_records_or_subsets_use_the_set(store: Store,
                                                                 clock: Clock) -> None:
    store.add_set("a:b", "A B")
    store.add_set("e", "Empty")
    put(store, record("1", sets=["a:b"]), record("2", sets=["a"]))
    store.delete(["2"])
    before = (rows(store), memberships(store), descriptions(store))
    clock.tick()
    with pytest.raises(SetInUse, match=r"set a still has 2 records \(1 of them deleted\) and "
                                       r"1 sub-set \(a:b\)"):
        remove_set(store, "a")
    with pytest.raises(SetInUse, match=r"set a:b still has 1 record$"):
        remove_set(store, "a:b")
    assert (rows(store), memberships(store), descriptions(store)) == before
    with pytest.raises(UnknownSet, match="no set 'nope'"):
        remove_set(store, "nope")
    usage = set_usage(store, "a")
    assert (usage.records, usage.deleted, usage.subsets) == (2, 1, ("a:b",))
    assert remove_set(store, "e").sets_removed == ("e",)  # nothing uses it: no force needed
    assert "e" not in descriptions(store)


def test_forced_removal_rewrites_the_records_and_removes_the_subtree(
        store: Store, clock: Clock, oai: OAIClient) -> None:
    store.add_set("a_x", "A look-alike: _ is a LIKE wildcard")
    put(store, record("1", sets=["a:b", "c"]), record("2", sets=["a"]), record("3", sets=["c"]),
        record("4", sets=["a:b:d"]), record("5", sets=["a_x"]))
    store.delete(["4"])
    before = rows(store)
    later = clock.tick(100)

    removal = remove_set(store, "a", force=True, batch_size=2)  # several bounded batches

    assert removal.records_updated == 3
    assert removal.sets_removed == ("a", "a:b", "a:b:d")
    assert set(descriptions(store)) == {"a_x", "c"}
    after = rows(store)
    for rid, sets in (("1", ["c"]), ("2", None), ("4", None)):
        datestamp, deleted, specs, content_hash, data = after[rid]
        assert datestamp == later  # harvesters asking from `later` see the change
        assert json.loads(data).get("sets") == sets
        assert json.loads(specs) == (sets or [])
        assert content_hash == hashlib.sha256(data.encode()).hexdigest() != before[rid][3]
        assert deleted == (rid == "4")
    assert after["3"] == before["3"] and after["5"] == before["5"]
    assert {(s, r) for s, r, _ in memberships(store)} == {("c", "1"), ("c", "3"), ("a_x", "5")}

    header = oai(verb="GetRecord", metadataPrefix="oai_dc",
                 identifier="oai:test.example.org:1").find("o:GetRecord/o:record/o:header", NS)
    assert header is not None
    assert [e.text for e in header.iterfind("o:setSpec", NS)] == ["c"]
    changed = oai.harvest("ListIdentifiers", metadataPrefix="oai_dc", **{"from": _iso(later)})
    assert sorted(h.findtext("o:identifier", namespaces=NS) or "" for h in changed) == [
        f"oai:test.example.org:{n}" for n in ("1", "2", "4")]
    specs = [e.text for e in oai(verb="ListSets").iterfind("o:ListSets/o:set/o:setSpec", NS)]
    assert specs == ["a_x", "c"]
    assert error_codes(oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set="a")) == [
        "noRecordsMatch"]


def _iso(epoch: int) -> str:
    from oai.protocol.datestamps import format_datestamp

    return format_datestamp(epoch)


def test_write_if_hash_never_overwrites_a_concurrent_change(store: Store) -> None:
    put(store, record("1", "First"))
    read_hash = rows(store)["1"][3]
    put(store, record("1", "Changed meanwhile"))
    stale = prepare_record(record("1", "Based on the first"))
    summary = store.write([stale], if_hash={"1": read_hash})
    assert (summary.added, summary.updated, summary.unchanged) == (0, 0, 0)
    assert json.loads(rows(store)["1"][4])["titles"][0]["text"] == "Changed meanwhile"


# -- the commands --------------------------------------------------------------------------


@pytest.fixture
def oai_cmd(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = f"sqlite:///{tmp_path / 's.sqlite'}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([OAI, *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=60)

    assert run("init").returncode == 0
    return run


def test_sets_commands(oai_cmd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = oai_cmd
    assert run("sets", "add", "a", "A", "--description", "kept").returncode == 0
    assert run("sets", "add", "a", "A renamed").returncode == 0
    listed = [json.loads(line) for line in run("sets", "list", "--json").stdout.splitlines()]
    assert listed == [{"spec": "a", "name": "A renamed", "description": "kept"}]
    assert run("sets", "add", "a", "A", "--description", "").returncode == 0
    assert json.loads(run("sets", "list", "--json").stdout)["description"] is None

    assert run("sets", "add", "a:b", "A B").returncode == 0
    (tmp_path / "r.jsonl").write_text(json.dumps(record("1", sets=["a:b"])) + "\n")
    assert run("load", str(tmp_path / "r.jsonl")).returncode == 0
    for spec, message in (
            ("a", "Error: set a still has 1 record and 1 sub-set (a:b): give --force"),
            ("nope", "Error: no set 'nope' is defined")):
        refused = run("sets", "remove", spec)
        assert refused.returncode == 1
        assert len(refused.stderr.splitlines()) == 1
        assert refused.stderr.startswith(message)
    forced = run("sets", "remove", "a", "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout == "removed set a and 1 sub-set; 1 record updated\n"
    assert run("sets", "list").stdout == ""
