"""Metadata formats as plug-ins: a third party's format is registered, rendered at write time,
served and checked exactly like the built-in ones; `oai formats rebuild` re-renders the store
when a crosswalk changes, touching only the records whose rendering changed, and resumes after
a kill; `oai check` says what each format carries and why not."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from oai.formats import MANDATORY_PREFIX, Format, installed, refresh, registry, select
from oai.formats.check import check
from oai.provider.app import create_app
from oai.store.repository import Store
from tests.conftest import NS, OAIClient, error_codes, make_config, put, record
from tests.format_plugin import NAMESPACE, SCHEMA_URL, install

OAI = str(Path(sys.executable).with_name("oai"))


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The demo plug-in installed where entry points are looked for (sys.path)."""
    root = tmp_path / "plugin"
    root.mkdir()
    install(root)
    monkeypatch.syspath_prepend(str(root))
    refresh()
    yield root
    sys.modules.pop("demo_format", None)
    refresh()


def test_the_built_in_formats_register_through_the_entry_point() -> None:
    formats = registry()
    assert next(iter(formats)) == MANDATORY_PREFIX
    dc = formats["oai_dc"]
    assert isinstance(dc, Format) and dc.catalog.is_file() and dc.version
    assert dc.unavailable(record("1")) is None


def test_a_third_party_format_is_served(demo: Path, store: Store) -> None:
    assert next(iter(registry())) == "oai_dc" and "demo" in registry()  # beside the built-ins
    put(store, record("with", doi="10.1234/abc"), record("without"))
    oai = OAIClient(create_app(make_config(), store).test_client())
    formats = oai(verb="ListMetadataFormats")
    listed = {f.findtext("o:metadataPrefix", namespaces=NS): f.findtext("o:schema", namespaces=NS)
              for f in formats.iterfind(".//o:metadataFormat", NS)}
    assert {p: listed[p] for p in ("oai_dc", "demo")} == {
        "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", "demo": SCHEMA_URL}
    prefix = "oai:test.example.org:"
    only_dc = oai(verb="ListMetadataFormats", identifier=prefix + "without")
    without_demo = [p.text for p in only_dc.iterfind(".//o:metadataPrefix", NS)]
    assert without_demo[0] == "oai_dc" and "demo" not in without_demo
    refused = oai(verb="GetRecord", metadataPrefix="demo", identifier=prefix + "without")
    assert error_codes(refused) == ["cannotDisseminateFormat"]
    served = oai(verb="GetRecord", metadataPrefix="demo", identifier=prefix + "with")
    item = served.find(f".//o:metadata/{{{NAMESPACE}}}item", NS)
    assert item is not None and item.findtext(f"{{{NAMESPACE}}}doi") == "10.1234/abc"
    listed_records = oai.harvest(metadataPrefix="demo")  # every response schema-validated
    assert [r.findtext(".//o:identifier", namespaces=NS) for r in listed_records] == [
        prefix + "with"]


def test_check_counts_what_each_format_carries_and_why_not(demo: Path, store: Store) -> None:
    put(store, *[record(f"r{i}", doi=f"10.1234/{i}") for i in range(3)], record("n1"),
        record("n2"))
    by_prefix = {c.prefix: c for c in check(store, sample=10)}
    assert (by_prefix["oai_dc"].disseminated, by_prefix["oai_dc"].not_disseminated) == (5, 0)
    demo_check = by_prefix["demo"]
    assert (demo_check.disseminated, demo_check.not_disseminated) == (3, 2)
    assert demo_check.reasons == {"a DOI is required": 2}
    assert demo_check.sampled == 3 and demo_check.invalid == []
    assert not demo_check.up_to_date  # the store predates the plug-in: rebuild once


# --- the command, as processes (each imports the plug-in afresh) ---------------------------


def _env(tmp_path: Path, plugin: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OAI_", "DEMO_"))}
    env.update(OAI_DATABASE_URL=f"sqlite:///{tmp_path / 'store.sqlite'}",
               PYTHONPATH=str(plugin), **extra)
    return env


def _oai(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OAI, *args], env=env, capture_output=True, text=True, timeout=300)


def _load(tmp_path: Path, env: dict[str, str], count: int) -> None:
    lines = [json.dumps(record(f"r{i:04d}", doi=f"10.1234/{i}")) for i in range(count)]
    (tmp_path / "records.jsonl").write_text("\n".join(lines) + "\n")
    assert _oai(env, "init").returncode == 0
    loaded = _oai(env, "load", str(tmp_path / "records.jsonl"))
    assert loaded.returncode == 0, loaded.stderr


def _datestamps(tmp_path: Path) -> dict[str, int]:
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:
        return dict(conn.execute("SELECT id, datestamp FROM records"))


def _demo_titles(tmp_path: Path) -> dict[str, str]:
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:
        rows = conn.execute("SELECT record_id, xml FROM renditions WHERE prefix = 'demo'")
        return {rid: etree.fromstring(xml.encode()).findtext(f"{{{NAMESPACE}}}title")
                for rid, xml in rows}


def test_rebuild_touches_only_what_changed(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    install(plugin)
    env = _env(tmp_path, plugin)
    _load(tmp_path, env, 40)
    listed = [json.loads(line) for line in _oai(env, "formats", "list", "--json").stdout
              .splitlines()]
    assert all(f["up_to_date"] for f in listed)  # a new store is current with every format
    assert {f["prefix"]: f["records"] for f in listed if f["prefix"] in ("oai_dc", "demo")} == {
        "oai_dc": 40, "demo": 40}
    before = _datestamps(tmp_path)
    time.sleep(1.1)  # so that a new datestamp differs from the old (whole seconds)
    v2 = _env(tmp_path, plugin, DEMO_FORMAT_VERSION="2", DEMO_TITLE_STYLE="upper")
    stale = [json.loads(line) for line in _oai(v2, "formats", "list", "--json").stdout
             .splitlines()]
    assert [f["prefix"] for f in stale if not f["up_to_date"]] == ["demo"]
    rebuilt = _oai(v2, "formats", "rebuild", "--json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    [report] = [json.loads(line) for line in rebuilt.stdout.splitlines()]
    assert (report["prefix"], report["records"], report["changed"]) == ("demo", 40, 8)
    after = _datestamps(tmp_path)
    moved = sorted(rid for rid in after if after[rid] != before[rid])
    assert moved == [f"r{i:04d}" for i in range(40) if i % 5 == 0]
    assert all(after[rid] > before[rid] for rid in moved)
    titles = _demo_titles(tmp_path)
    assert all(titles[rid].isupper() for rid in moved)
    again = _oai(v2, "formats", "rebuild")
    assert again.returncode == 0 and "every format is up to date" in again.stderr
    assert _datestamps(tmp_path) == after


def test_a_killed_rebuild_resumes_where_it_stopped(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    install(plugin)
    env = _env(tmp_path, plugin)
    _load(tmp_path, env, 3000)
    v2 = _env(tmp_path, plugin, DEMO_FORMAT_VERSION="2", DEMO_TITLE_STYLE="upper")
    proc = subprocess.Popen([OAI, "formats", "rebuild"], env=v2, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    done = None
    while proc.poll() is None and done is None:
        with sqlite3.connect(f"file:{tmp_path / 'store.sqlite'}?mode=ro", uri=True) as conn:
            done = conn.execute("SELECT rebuilt_after FROM format_versions "
                                "WHERE prefix = 'demo'").fetchone()[0]
        time.sleep(0.01)
    assert proc.poll() is None, "the rebuild ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    resumed = _oai(v2, "formats", "rebuild", "--json")
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout.splitlines()[-1])
    assert report["resumed"] and 0 < report["records"] < 3000
    titles = _demo_titles(tmp_path)
    assert len(titles) == 3000
    assert sum(t.isupper() for t in titles.values()) == 600  # every fifth record, once
    listed = [json.loads(line) for line in _oai(v2, "formats", "list", "--json").stdout
              .splitlines()]
    assert all(f["up_to_date"] for f in listed)


def test_a_broken_format_plug_in_fails_in_one_line(tmp_path: Path) -> None:
    root = tmp_path / "broken"
    root.mkdir()
    (root / "broken_format.py").write_text("raise RuntimeError('cannot load')\n")
    info = root / "broken_format-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-format\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[oai.formats]\nbroken = broken_format:FORMAT\n")
    env = _env(tmp_path, root)
    result = _oai(env, "init")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: the metadata format 'broken' (broken_format:FORMAT) cannot be loaded: "
        "RuntimeError: cannot load"]


def test_rebuilding_on_workers_gives_what_one_process_gives(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    install(plugin)
    env = _env(tmp_path, plugin)
    _load(tmp_path, env, 700)
    copy = tmp_path / "copy"
    copy.mkdir()
    with sqlite3.connect(tmp_path / "store.sqlite") as src, \
            sqlite3.connect(copy / "store.sqlite") as dst:
        src.backup(dst)
    results = {}
    for where, jobs in ((tmp_path, "1"), (copy, "2")):
        v2 = _env(where, plugin, DEMO_FORMAT_VERSION="2", DEMO_TITLE_STYLE="upper")
        rebuilt = _oai(v2, "formats", "rebuild", "--jobs", jobs, "--json")
        assert rebuilt.returncode == 0, rebuilt.stderr
        report = json.loads(rebuilt.stdout)
        results[jobs] = (report["records"], report["changed"], _demo_titles(where))
    assert results["1"] == results["2"]
    assert results["2"][:2] == (700, 140)


def test_a_repository_serves_only_the_formats_it_selects(demo: Path, store: Store) -> None:
    put(store, record("with", doi="10.1234/abc"))
    oai = OAIClient(create_app(make_config(formats=("oai_dc",)), store).test_client())
    try:
        listed = oai(verb="ListMetadataFormats")
        assert [p.text for p in listed.iterfind(".//o:metadataPrefix", NS)] == ["oai_dc"]
        refused = oai(verb="GetRecord", metadataPrefix="demo",
                      identifier="oai:test.example.org:with")
        assert error_codes(refused) == ["cannotDisseminateFormat"]
    finally:
        select(None)
    assert "demo" in registry() and registry() == installed()


@pytest.mark.parametrize(("selection", "message"), [
    ("oai_dc,nope", "Error: formats: no metadata format 'nope' is installed (installed: "),
    ("demo", "Error: formats: oai_dc must be among the formats served (OAI-PMH requires it "
             "for every record)"),
])
def test_a_bad_format_selection_fails_in_one_line(tmp_path: Path, selection: str,
                                                  message: str) -> None:
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    install(plugin)
    result = _oai(_env(tmp_path, plugin, OAI_FORMATS=selection), "init")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(message)


def _readme_example(root: Path) -> None:
    """The README's worked example, written out as an installed distribution: its files from
    the README's code blocks, its entry points from its pyproject.toml."""
    import re
    import tomllib

    from tests.conftest import PROJECT

    text = (PROJECT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- worked-example -->")[1].split("<!-- /worked-example -->")[0]
    files = {}
    for body in re.findall(r"```\w+\n(.*?)```", block, re.S):
        first, rest = body.split("\n", 1)
        name = first.strip().removeprefix("#").removeprefix("<!--").removesuffix("-->").strip()
        files[name] = rest
    project = tomllib.loads(files.pop("pyproject.toml"))["project"]
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content, encoding="utf-8")
    info = root / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\n"
                                   f"Version: {project['version']}\n")
    points = project["entry-points"]["oai.formats"]
    (info / "entry_points.txt").write_text(
        "[oai.formats]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()))


def test_the_readme_worked_example_is_served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             store: Store) -> None:
    _readme_example(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    refresh()
    try:
        assert "cite" in registry()
        example = json.loads((Path(__file__).parents[1] / "fixtures" / "records" / "123456.json")
                             .read_text())
        put(store, example, record("no-doi"))
        oai = OAIClient(create_app(make_config(), store).test_client())
        served = oai(verb="GetRecord", metadataPrefix="cite",
                     identifier="oai:test.example.org:123456")  # schema-validated
        cite = "{https://example.org/ns/cite/1.0/}"
        citation = served.find(f".//o:metadata/{cite}citation", NS)
        assert citation is not None and citation.get("doi") == example["doi"]
        assert [a.get("orcid") for a in citation.iterfind(f"{cite}author")] == [
            c.get("orcid") for c in example["creators"]]
        refused = oai(verb="GetRecord", metadataPrefix="cite",
                      identifier="oai:test.example.org:no-doi")
        assert error_codes(refused) == ["cannotDisseminateFormat"]
    finally:
        sys.modules.pop("oai_format_cite", None)
        monkeypatch.undo()
        refresh()


def test_formats_sharing_a_namespace_validate_in_one_response_schema(store: Store) -> None:
    """oai_openaire's DataCite-namespace properties and the datacite format's kernel share a
    namespace: the combined response schema must hold both (see oai.protocol.schema_hubs)."""
    example = json.loads((Path(__file__).parents[1] / "fixtures" / "records" / "123456.json")
                         .read_text())
    put(store, example)
    oai = OAIClient(create_app(make_config(), store).test_client())
    for prefix, root in (("oai_openaire", "{http://namespace.openaire.eu/schema/oaire/}resource"),
                         ("datacite", "{http://datacite.org/schema/kernel-4}resource")):
        served = oai(verb="GetRecord", metadataPrefix=prefix,  # validated as a whole
                     identifier="oai:test.example.org:123456")
        assert served.find(f".//o:metadata/{root}", NS) is not None
