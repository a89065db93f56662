"""`oai report`: the page a librarian opens to see how each source is doing.

Sources are harvested for real over loopback HTTP (one whose records partly fail their schema,
one clean, one whose server is down, one never harvested), then `oai report` is run as a user
runs it. The page is checked as data (every figure against the store), as a self-contained
document (nothing it would fetch), and in a real headless Chromium, with a screenshot kept.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import html

from harvester.options import HarvestOptions
from harvester.report.chart import MAX_BARS, records_chart
from harvester.report.model import YearCount
from harvester.sync import SourceHarvester
from oai.protocol.namespaces import DC, OAI_DC
from oai.store.harvest import HarvestStore
from oai.store.repository import Store
from tests.browser import chromium, screenshot
from tests.hostile_server import Hostile, Item, Running, items, serve_hostile

OAI_CLI = str(Path(sys.executable).with_name("oai"))
FAST = HarvestOptions(max_attempts=1, backoff_base=0.0, backoff_cap=0.0, read_timeout=5,
                      connect_timeout=2, sleep=lambda seconds: None)
HOSTILE_NAME = '<script>alert("x")</script> & Co'


def dc(inner: str) -> str:
    return f'<oai_dc:dc xmlns:oai_dc="{OAI_DC}" xmlns:dc="{DC}">{inner}</oai_dc:dc>'


@pytest.fixture
def repository() -> Iterator[Running]:
    works = [Item(f"oai:hostile.example.org:work-{n}", f"2021-0{n}-01T00:00:00Z",
                  metadata=dc(f"<dc:title>On the harvesting of repositories, part {n}</dc:title>"
                              "<dc:creator>Maxwell, Nina</dc:creator><dc:date>2021</dc:date>"
                              f"<dc:identifier>https://doi.org/10.1234/WORK.{n}</dc:identifier>"))
             for n in (1, 2)]
    content = [*items(10), *works,
               Item("oai:hostile.example.org:bad", "2023-05-01T00:00:00Z",
                    metadata=dc("<dc:foo>not Dublin Core</dc:foo>")),
               Item("oai:hostile.example.org:gone", "2022-03-01T00:00:00Z", deleted=True)]
    with serve_hostile(Hostile(content, earliest="2020-01-01T00:00:00Z", page_size=5)) as r:
        yield r


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def harvested(database_url: str, repository: Running) -> Iterator[tuple[str, HarvestStore]]:
    store = Store.open(database_url, create=True)
    try:
        hstore = HarvestStore(store)
        checked = hstore.add_source("checked", repository.url(), validate_records=True)
        plain = hstore.add_source("plain", repository.url())
        down = hstore.add_source("down", f"http://127.0.0.1:{closed_port()}/oai")
        hstore.add_source("never", "https://never.example.org/oai")
        for source in (checked, plain, down):
            SourceHarvester(hstore, source, FAST).run()
        hstore.update_profile(plain.id, repository_name=HOSTILE_NAME)
        yield database_url, hstore
    finally:
        store.engine.dispose()


def oai(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = database_url
    return subprocess.run([OAI_CLI, *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_report_tells_each_sources_story(harvested: tuple[str, HarvestStore],
                                         tmp_path: Path) -> None:
    url, hstore = harvested
    page = tmp_path / "report.html"
    swept = oai(url, "reconcile", "checked", "--json")
    assert swept.returncode == 0, swept.stderr
    outcome = json.loads(swept.stdout)
    done = oai(url, "report", "--html", str(page))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("checked [warn]: 14 records (1 deleted)")
    assert lines[1].startswith("down [fail]:") and "never" in lines[2] and "[never]" in lines[2]
    assert lines[3].startswith("plain [ok]: 14 records (1 deleted)")
    assert lines[-1].startswith("4 sources, 28 records, 1 failing, 1 with warnings; report")

    doc = html.fromstring(page.read_bytes())
    # self-contained: nothing to fetch, nothing to run
    assert not doc.xpath("//script | //link | //img | //iframe | //object | //*[@src]")
    overview = {row.xpath("string(td[1])"): row.xpath("string(td[2])").strip()
                for row in doc.xpath("//table[@id='overview']/tbody/tr")}
    assert overview == {"checked": "warn", "down": "fail", "never": "never", "plain": "ok"}
    for source in hstore.list_sources():
        section = doc.get_element_by_id(f"source-{source.name}")
        text = section.text_content()
        total, deleted = hstore.counts(source.id)
        facts = [" ".join(d.text_content().split())
                 for d in section.xpath(".//div[@class='facts']/div")]
        assert f"{total:,} records held" in facts and f"{deleted:,} deleted (tombstones)" in facts
        runs = hstore.recent_runs(source.id)
        rows = section.xpath(".//table[@class='runs']/tbody/tr")
        assert [r.xpath("string(td[1])") for r in rows] == [f"#{run.id}" for run in runs]
        if runs:
            assert rows[0].xpath("string(td[3])") == runs[0].status
        bars = section.xpath(".//svg//*[local-name()='title']")
        assert [b.text for b in bars] == [
            f"{y}: {live:,} records, {gone:,} deleted"
            for y, live, gone in hstore.records_by_year(source.id)]
        if source.name == "checked":
            assert "1 record(s) failing their schema" in text
            assert "oai:hostile.example.org:bad" in text
        if source.name == "down":
            assert runs[0].status == "failed" and runs[0].reason and runs[0].reason in text
        if source.name == "never":
            assert "Never harvested" in text and "No records held yet." in text
    # what a source sent is shown, never obeyed
    plain = doc.get_element_by_id("source-plain")
    assert HOSTILE_NAME in plain.xpath("string(.//p[@class='sub'])")

    # the last reconciliation, as `oai reconcile` reported it
    checked = doc.get_element_by_id("source-checked").xpath(".//div[contains(@class, 'extra')]")
    summary = " ".join(checked[0].text_content().split())
    assert summary.startswith(f"Last reconciliation #{outcome['reconciliation']} complete at ")
    assert all(f"{n:,} {kind}" in summary for kind, n in outcome["counts"].items())
    assert "(report only)" in summary and "not scheduled" in summary
    never = doc.get_element_by_id("source-never").xpath(".//div[contains(@class, 'extra')]")
    assert " ".join(never[0].text_content().split()).startswith("Never reconciled")

    # duplicates shared with other sources, as `oai duplicates` finds them
    clusters = [json.loads(line) for line in oai(url, "duplicates", "--json").stdout.splitlines()]
    shared = {m["identifier"] for c in clusters for m in c["members"]
              if m["source"] == "checked" and any(o["source"] == "plain" for o in c["members"])}
    assert len(shared) == 2
    assert "2 record(s) of this source are also held by other sources" in checked[1].text_content()
    assert checked[1].xpath("string(.//tr/th)") == "plain"

    as_json = json.loads(oai(url, "report", "--json").stdout)
    assert as_json["totals"] == {"sources": 4, "records": 28, "deleted": 2, "failing": 1,
                                 "warnings": 1}
    assert [s["name"] for s in as_json["sources"]] == ["checked", "down", "never", "plain"]


def test_report_in_a_browser(harvested: tuple[str, HarvestStore], tmp_path: Path) -> None:
    url, _ = harvested
    page = tmp_path / "report.html"
    assert oai(url, "report", "--html", str(page)).returncode == 0
    with chromium() as driver:
        driver.get(page.as_uri())
        text = driver.find_element("tag name", "body").text
        assert "Harvest report" in text and "4\nsources" in text
        assert HOSTILE_NAME in text
        assert not driver.execute_script("return document.querySelectorAll('script').length")
        fetched: list[Any] = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)")
        assert fetched == []
        link = driver.find_element("link text", "down")
        link.click()
        assert driver.current_url.endswith("#source-down")
        section = driver.find_element("id", "source-down").text
        assert "FAIL" in section and "last run failed" in section
        bars = driver.find_elements("css selector", "#source-checked svg g.bar rect")
        assert bars and all(float(b.get_attribute("height")) >= 0 for b in bars)
        screenshot(driver, "report")


def test_report_of_unknown_source_and_unwritable_file(harvested: tuple[str, HarvestStore],
                                                      tmp_path: Path) -> None:
    url, _ = harvested
    unknown = oai(url, "report", "nosuch")
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1 and "nosuch" in unknown.stderr
    target = tmp_path / "missing-dir" / "r.html"
    bad = oai(url, "report", "--html", str(target))
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().startswith("error: cannot write") or "cannot write" in bad.stderr
    assert not target.exists()


def test_chart_groups_long_histories_into_at_most_thirty_bars() -> None:
    years = tuple(YearCount(y, y - 1900, 1 if y % 10 == 0 else 0) for y in range(1901, 2025))
    chart = records_chart(years)
    assert chart is not None and len(chart.bars) <= MAX_BARS
    assert sum(int(b.title.split(": ")[1].split(" records")[0].replace(",", ""))
               for b in chart.bars) == sum(y.live for y in years)
    tallest = max(b.live_height + b.deleted_height for b in chart.bars)
    assert tallest <= chart.baseline - 8 + 1e-6  # inside the plot area
    assert records_chart(()) is None
