"""The harvester against servers that misbehave the way real ones do, over loopback HTTP:
bounded, polite, faithful, and every failure one clear line with the run recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from harvester.options import HarvestOptions, RunOutcome
from harvester.sync import SourceHarvester
from oai.protocol.datestamps import parse_protocol_date
from oai.store.harvest import HarvestStore
from oai.store.repository import Store
from tests.hostile_server import DC, OAI_DC, XSI, Hostile, Item, items, serve_hostile

pytestmark = pytest.mark.timeout(60)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def hstore(tmp_path: Path) -> Iterator[HarvestStore]:
    store = Store.open(f"sqlite:///{tmp_path / 'h.sqlite'}", create=True)
    yield HarvestStore(store)
    store.close()


def harvest(hstore: HarvestStore, url: str, name: str = "src", **options: object,
            ) -> RunOutcome:
    if hstore.get_source(name) is None:
        hstore.add_source(name, url)
    opts = {"sleep": Sleeps(), "backoff_base": 0.01, "read_timeout": 5.0, **options}
    return SourceHarvester(hstore, hstore.require_source(name),
                           HarvestOptions(**opts)).run()  # type: ignore[arg-type]


def one_line(text: str | None) -> str:
    assert text and "\n" not in text and "Traceback" not in text, text
    return text


def test_first_harvest_asks_once_not_once_a_year(hstore: HarvestStore) -> None:
    """earliestDatestamp 37 years back and one record: Identify and one ListRecords."""
    repo = Hostile([Item("oai:x:1", "2024-05-01T00:00:00Z")], earliest="1990-01-01T00:00:00Z")
    with serve_hostile(repo) as server:
        outcome = harvest(hstore, server.url("ok"))
    assert outcome.ok and outcome.records == 1
    assert [r["verb"] for r in repo.requests] == ["Identify", "ListRecords"]
    assert not {"from", "until"} & set(repo.requests[1])


def test_first_millennium_dates_are_zero_padded(hstore: HarvestStore) -> None:
    """A repository claiming records since year 2, whose big lists fail: every window the
    split asks for is a legal date, and everything is harvested."""
    ancient = [Item(f"oai:x:old{i}", f"0{500 + i}-03-01T00:00:00Z") for i in range(10)]
    repo = Hostile(ancient + items(20, "2024-01-01"), earliest="0002-01-01T00:00:00Z",
                   max_window=8)
    with serve_hostile(repo) as server:
        outcome = harvest(hstore, server.url("ok"), max_attempts=1)
    assert outcome.ok, outcome.reason
    assert hstore.counts(hstore.require_source("src").id) == (30, 0)
    held = {r.identifier: r.datestamp for r in hstore.iter_records(1)}
    assert held["oai:x:old3"] == "0503-03-01T00:00:00Z"
    dates = [r[k] for r in repo.list_requests() for k in ("from", "until") if k in r]
    assert dates and all(parse_protocol_date(d) for d in dates)  # raises on "2-01-01"
    assert any(d.startswith("0") for d in dates), dates
    # halving: about two requests per level for each cluster, not one per year (2,024 here)
    assert len(repo.list_requests()) < 60


def test_set_spec_with_a_space_survives(hstore: HarvestStore) -> None:
    repo = Hostile([Item("oai:x:1", "2024-05-01T00:00:00Z", ("a b", "c")),
                    Item("oai:x:2", "2024-05-02T00:00:00Z", ("  padded ",))])
    with serve_hostile(repo) as server:
        hstore.add_source("src", server.url("ok"), set_specs=["a b"])
        outcome = harvest(hstore, server.url("ok"))
    assert outcome.ok and outcome.records == 1
    assert repo.list_requests()[0]["set"] == "a b"
    [row] = list(hstore.iter_records(hstore.require_source("src").id))
    assert row.set_specs == ("a b", "c")
    assert hstore.require_source("src").set_specs == ("a b",)


def test_metadata_exactly_as_served_with_only_the_declarations_it_needs(
        hstore: HarvestStore) -> None:
    uses_xsi = (f"<oai_dc:dc xmlns:oai_dc='{OAI_DC}' xmlns:dc='{DC}' "
                f"xsi:schemaLocation='{OAI_DC} x.xsd'>\n  <dc:title a='1'  >T &amp; &#13;"
                "</dc:title><dc:empty/></oai_dc:dc>")
    own = (f'<oai_dc:dc xmlns:oai_dc="{OAI_DC}" xmlns:dc="{DC}">'
           "<dc:title>Own</dc:title></oai_dc:dc>")
    default_ns = "<doc xmlns='urn:d'><inner/></doc>"
    repo = Hostile([Item("oai:x:1", "2024-05-01T00:00:00Z", metadata=uses_xsi),
                    Item("oai:x:2", "2024-05-02T00:00:00Z", metadata=own),
                    Item("oai:x:3", "2024-05-03T00:00:00Z", metadata=default_ns)],
                   root_declarations=f'xmlns:xsi="{XSI}" xmlns:unused="urn:unused"')
    with serve_hostile(repo) as server:
        assert harvest(hstore, server.url("ok")).ok
    stored = {r.identifier: r.metadata for r in hstore.iter_records(1)}
    assert stored["oai:x:1"] == uses_xsi.replace(
        "<oai_dc:dc ", f'<oai_dc:dc xmlns:xsi="{XSI}" ', 1)  # needed, so declared
    assert stored["oai:x:2"] == own  # byte for byte: no xmlns:xsi, no xmlns:unused
    assert stored["oai:x:3"] == default_ns
    for text in stored.values():
        etree.fromstring((text or "").encode())  # each stands alone


def test_server_error_on_every_list_is_bounded_and_recorded(hstore: HarvestStore) -> None:
    repo = Hostile(items(5), earliest="1990-01-01T00:00:00Z")
    with serve_hostile(repo) as server:
        outcome = harvest(hstore, server.url("always-500"), breaker=6)
    assert outcome.status == "failed"
    assert "consecutive failed requests" in one_line(outcome.reason)
    assert len(repo.list_requests()) == 6  # the breaker, not 264 requests
    run = hstore.last_run(hstore.require_source("src").id)
    assert run is not None and run.status == "failed" and run.requests == 7


def test_retry_after_of_a_year_stops_at_once(hstore: HarvestStore) -> None:
    repo = Hostile(items(5))
    with serve_hostile(repo) as server:
        outcome = harvest(hstore, server.url("retry-year"), max_retry_after=300)
    assert outcome.status == "failed" and "retry after 31536000 s" in one_line(outcome.reason)
    assert len(repo.list_requests()) == 1  # no capped wait, no second attempt


def test_retry_after_in_the_past_backs_off(hstore: HarvestStore) -> None:
    repo = Hostile(items(5))
    sleeps = Sleeps()
    with serve_hostile(repo) as server:
        outcome = harvest(hstore, server.url("retry-past"), sleep=sleeps, backoff_base=2.0)
    assert outcome.ok and len(repo.list_requests()) == 2
    assert len(sleeps) == 1  # a backoff wait (jittered up to 2 s), never "retry now" with 0


def test_trickling_server_is_cut_by_the_deadline(hstore: HarvestStore) -> None:
    """One byte every 0.1 s: the whole request is bounded, not each gap (which would take
    minutes here); the list is split, then the breaker ends the run, recorded."""
    repo = Hostile(items(3), delay=0.1)
    with serve_hostile(repo) as server:
        outcome = harvest(hstore, server.url("trickle"), deadline=0.5, read_timeout=5.0,
                          breaker=4)
    assert outcome.status == "failed"
    assert "deadline" in one_line(outcome.reason)
    assert len(repo.list_requests()) == 4


def test_silent_server_is_given_up_after_two_timeouts(hstore: HarvestStore) -> None:
    repo = Hostile(items(3))
    with serve_hostile(repo) as server:
        outcome = harvest(hstore, server.url("silent"), read_timeout=0.3, max_attempts=5)
    assert outcome.status == "failed" and "no answer within 0.3 s" in one_line(outcome.reason)
    assert [r["verb"] for r in repo.requests] == ["Identify", "Identify"]
    assert hstore.last_run(hstore.require_source("src").id) is not None  # recorded


@pytest.mark.parametrize(("behaviour", "words"), [
    ("redirect-loop", "redirect loop"),
    ("redirect-pingpong", "redirect loop"),
    ("redirect-file", "file: URL"),
])
def test_bad_redirects_are_refused_in_one_line(hstore: HarvestStore, behaviour: str,
                                               words: str) -> None:
    repo = Hostile(items(3))
    with serve_hostile(repo) as server:
        outcome = harvest(hstore, server.url(behaviour))
    assert outcome.status == "failed" and words in one_line(outcome.reason)
    run = hstore.last_run(hstore.require_source("src").id)
    assert run is not None and run.status == "failed" and run.reason == outcome.reason
    assert len(repo.requests) <= 6


def test_a_good_redirect_is_followed(hstore: HarvestStore) -> None:
    repo = Hostile(items(12))
    with serve_hostile(repo) as server:
        outcome = harvest(hstore, server.url("redirect-once"))
    assert outcome.ok and outcome.records == 12


def test_request_budget_ends_the_run_resumable(hstore: HarvestStore) -> None:
    repo = Hostile(items(50), page_size=5)
    with serve_hostile(repo) as server:
        first = harvest(hstore, server.url("ok"), max_requests=4)
        assert first.status == "incomplete" and "budget of 4 requests" in one_line(first.reason)
        assert first.records == 15  # Identify and 3 pages; the 4th page's request is over
        second = harvest(hstore, server.url("ok"))
    assert second.ok and second.resumed
    assert hstore.counts(hstore.require_source("src").id) == (50, 0)
    assert "resumptionToken" in repo.list_requests()[len(repo.list_requests()) - 8]


def test_store_failure_mid_run_is_recorded_with_the_right_counts(
        hstore: HarvestStore) -> None:
    """A write that cannot succeed (a trigger refuses record 23) ends the run in one line,
    recorded failed with what was committed, never left running."""
    with hstore.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER refuse BEFORE INSERT ON harvested_records "
            "WHEN NEW.identifier = 'oai:hostile.example.org:23' "
            "BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
    repo = Hostile(items(40), page_size=10)
    with serve_hostile(repo) as server:
        outcome = harvest(hstore, server.url("ok"))
    assert outcome.status == "incomplete"
    assert "disk says no" in one_line(outcome.reason)
    assert "INSERT" not in (outcome.reason or "")  # no SQL, no parameters
    assert (outcome.records, outcome.pages) == (20, 2)
    run = hstore.last_run(hstore.require_source("src").id)
    assert run is not None and (run.status, run.records, run.pages) == ("incomplete", 20, 2)


def test_export_of_an_empty_source_is_a_valid_document(hstore: HarvestStore) -> None:
    import io

    from harvester.export import write_xml
    from oai.protocol.schemas import validate_response

    source = hstore.add_source("empty", "http://127.0.0.1:9/oai")
    out = io.BytesIO()
    assert write_xml(hstore.iter_records(source.id), out, source.base_url, "oai_dc") == 0
    validate_response(out.getvalue())
    assert b'code="noRecordsMatch"' in out.getvalue()


def test_json_events_name_each_wait(hstore: HarvestStore) -> None:
    events: list[dict[str, object]] = []
    repo = Hostile(items(5))
    with serve_hostile(repo) as server:
        hstore.add_source("src", server.url("retry-past"))
        SourceHarvester(hstore, hstore.require_source("src"),
                        HarvestOptions(sleep=Sleeps(), backoff_base=0.01),
                        events.append).run()
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and "wait" in kinds and kinds[-1] == "end"
    assert all(e["source"] == "src" for e in events)
    json.dumps(events)  # serialisable as JSON lines


def test_a_run_stopped_by_the_breaker_is_resumed_later(hstore: HarvestStore) -> None:
    repo = Hostile(items(30), page_size=10)
    with serve_hostile(repo) as server:
        failed = harvest(hstore, server.url("always-500"), breaker=3)
        assert failed.status == "failed"
        source = hstore.require_source("src")
        hstore.edit_source(source.id, base_url=server.url("ok"))  # the server recovers
        again = harvest(hstore, server.url("ok"))
    assert again.ok and again.resumed and again.run_id == failed.run_id
    assert hstore.counts(source.id) == (30, 0)


def test_live_progress_rows_say_records_rate_state_and_waits() -> None:
    """One row per source, drawn by rich: what a librarian sees on a terminal."""
    import io

    from rich.console import Console

    from harvester.cli.progress import LiveReporter

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    reporter = LiveReporter(["orca", "zenodo"], console)
    reporter({"source": "orca", "event": "start"})
    reporter({"source": "orca", "event": "list"})
    for _ in range(3):
        reporter({"source": "orca", "event": "page", "records": 100, "size": 1000})
    reporter({"source": "zenodo", "event": "wait", "seconds": 30.0})
    reporter.close()
    text = out.getvalue()
    assert "orca" in text and "zenodo" in text
    assert "300/1,000 records" in text and "harvesting" in text
    assert "retrying in 30.0 s" in text
