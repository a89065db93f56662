"""The sync loop against the quirk server over loopback HTTP: outcomes, resumption, windows,
reconciliation; and nothing already stored is ever lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harvester.options import HarvestOptions, RunOutcome
from harvester.sync import SourceHarvester
from oai.store.harvest import HarvestStore, SourceRow
from oai.store.repository import Store
from tests.quirk_server import QuirkServer, make_records, serve_quirks

FAST = HarvestOptions(max_attempts=2, backoff_base=0.0, backoff_cap=0.0, read_timeout=5,
                      connect_timeout=2, sleep=lambda seconds: None, max_empty_pages=3)


@pytest.fixture
def hstore(tmp_path: Path) -> Iterator[HarvestStore]:
    store = Store.open(f"sqlite:///{tmp_path / 'h.sqlite'}", create=True)
    yield HarvestStore(store)
    store.close()


@pytest.fixture
def quirks() -> Iterator[QuirkServer]:
    with serve_quirks(make_records(25), page_size=10) as server:
        yield server


def harvest(hstore: HarvestStore, name: str, options: HarvestOptions = FAST) -> RunOutcome:
    source = hstore.require_source(name)
    return SourceHarvester(hstore, source, options).run()


def add(hstore: HarvestStore, quirks: QuirkServer, quirk: str, query: str = "",
        name: str | None = None) -> SourceRow:
    url = quirks.url(quirk) + (f"?{query}" if query else "")
    return hstore.add_source(name or quirk, url)


def test_complete_harvest_then_incremental(hstore: HarvestStore, quirks: QuirkServer) -> None:
    source = add(hstore, quirks, "ok")
    first = harvest(hstore, "ok")
    assert (first.status, first.records, first.deleted, first.pages) == ("complete", 25, 3, 3)
    assert hstore.counts(source.id) == (25, 3)
    refreshed = hstore.require_source("ok")
    assert refreshed.granularity == "YYYY-MM-DDThh:mm:ssZ"
    assert refreshed.deleted_record == "persistent"
    assert refreshed.last_complete_from is not None
    second = harvest(hstore, "ok")
    assert second.status == "complete"
    last = hstore.last_run(source.id)
    assert last is not None and last.mode == "incremental" and last.from_date is not None
    assert "from" in quirks.state.args[-3]  # the incremental run asked with `from`


@pytest.mark.parametrize(("quirk", "words"), [
    ("same-token", "same resumptionToken"),
    ("same-page", "same page"),
    ("cursor-backwards", "cursor went backwards"),
    ("empty-pages", "empty pages"),
])
def test_paging_loops_end_the_run_incomplete(hstore: HarvestStore, quirks: QuirkServer,
                                             quirk: str, words: str) -> None:
    add(hstore, quirks, quirk)
    outcome = harvest(hstore, quirk)
    assert outcome.status in ("incomplete", "failed")
    assert words in (outcome.reason or "")
    assert sum(quirks.state.hits.values()) < 30, "the loop must be cut short"


@pytest.mark.parametrize(("quirk", "words"), [
    ("html", "HTML"),
    ("json", ""),
    ("wrong-root", ""),
    ("empty-500", ""),
])
def test_garbage_fails_and_keeps_what_was_stored(hstore: HarvestStore, quirks: QuirkServer,
                                                 quirk: str, words: str) -> None:
    source = add(hstore, quirks, "ok", name="src")
    assert harvest(hstore, "src").ok
    hstore.update_profile(source.id, base_url=quirks.url(quirk))
    outcome = harvest(hstore, "src")
    assert outcome.status == "failed"
    assert outcome.reason and "\n" not in outcome.reason and words in outcome.reason
    assert hstore.counts(source.id) == (25, 3), "nothing already stored is lost"


def test_unreachable_source_fails_with_one_line(hstore: HarvestStore) -> None:
    hstore.add_source("down", "http://127.0.0.1:9/oai")
    outcome = harvest(hstore, "down")
    assert outcome.status == "failed" and outcome.reason and "\n" not in outcome.reason


def test_retry_after_date_and_5xx_are_survived(hstore: HarvestStore,
                                               quirks: QuirkServer) -> None:
    for quirk in ("retry-date", "too-many", "flaky-500"):
        add(hstore, quirks, quirk)
        options = HarvestOptions(max_attempts=4, sleep=lambda s: None, backoff_base=0)
        assert harvest(hstore, quirk, options).ok, quirk


def test_no_records_match_is_a_complete_empty_run(hstore: HarvestStore,
                                                  quirks: QuirkServer) -> None:
    source = add(hstore, quirks, "no-records")
    outcome = harvest(hstore, "no-records")
    assert (outcome.status, outcome.records) == ("complete", 0)
    assert hstore.counts(source.id) == (0, 0)


def test_bad_record_is_quarantined_alone(hstore: HarvestStore, quirks: QuirkServer) -> None:
    source = add(hstore, quirks, "bad-record")
    outcome = harvest(hstore, "bad-record")
    assert outcome.ok and outcome.quarantined >= 1
    assert hstore.counts(source.id)[0] == 24
    assert hstore.quarantine_count(source.id) >= 1


def test_control_characters_are_repaired_and_logged(hstore: HarvestStore,
                                                    quirks: QuirkServer) -> None:
    source = add(hstore, quirks, "ctrl-char")
    outcome = harvest(hstore, "ctrl-char")
    assert outcome.ok and hstore.counts(source.id)[0] == 3
    assert any(e.startswith("repaired:") for e in outcome.errors)
    assert hstore.quarantine_count(source.id) >= 1  # the raw bytes are kept


def test_expired_token_restarts_the_window(hstore: HarvestStore, quirks: QuirkServer) -> None:
    source = add(hstore, quirks, "expired-token", "k=2")
    outcome = harvest(hstore, "expired-token")
    assert outcome.status == "incomplete"
    assert "rejecting its own tokens" in (outcome.reason or "")
    assert any("window restarted" in e for e in outcome.errors)
    assert hstore.counts(source.id)[0] == 20  # pages before the expiry are kept


def test_seconds_refused_falls_back_to_day(hstore: HarvestStore, quirks: QuirkServer) -> None:
    source = add(hstore, quirks, "lying-granularity")
    assert harvest(hstore, "lying-granularity").ok  # full: no dates sent
    outcome = harvest(hstore, "lying-granularity")  # incremental: `from` in seconds refused
    assert outcome.ok, outcome.reason
    refreshed = hstore.require_source(source.name)
    assert "day-granularity" in refreshed.quirks and refreshed.granularity == "YYYY-MM-DD"
    dated = [a["from"] for a in quirks.state.args if a.get("from")]
    assert "T" in dated[0] and "T" not in dated[-1]  # seconds refused, then days


def test_failing_windows_are_halved(hstore: HarvestStore, quirks: QuirkServer) -> None:
    source = add(hstore, quirks, "narrow-only", "max_records=8")
    options = HarvestOptions(max_attempts=1, sleep=lambda s: None)
    outcome = harvest(hstore, "narrow-only", options)
    assert outcome.ok, outcome.reason
    assert hstore.counts(source.id)[0] == 25
    assert any("split at" in e for e in outcome.errors)


def test_transport_failure_mid_run_is_resumed(hstore: HarvestStore,
                                              quirks: QuirkServer) -> None:
    source = add(hstore, quirks, "ok", name="src")
    options = HarvestOptions(max_attempts=1, sleep=lambda s: None, prefetch=False)
    harvester = SourceHarvester(hstore, hstore.require_source("src"), options)
    original = harvester.client.request
    calls = {"n": 0}

    def failing_third_page(verb: str, **args: object):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4:  # Identify, page 1, page 2, then page 3 fails
            from harvester.errors import RetriesExhausted
            raise RetriesExhausted(1, url="x")
        return original(verb, **args)

    harvester.client.request = failing_third_page  # type: ignore[method-assign]
    first = harvester.run()
    assert first.status == "incomplete" and hstore.counts(source.id)[0] == 20
    second = harvest(hstore, "src", options)
    assert second.ok and second.resumed
    assert hstore.counts(source.id) == (25, 3)
    # the resumed request was the saved token, not a restart from scratch
    assert quirks.state.args[-1].get("resumptionToken") == "p20"


def test_full_harvest_reconciles_records_gone_from_the_source(tmp_path: Path) -> None:
    records = make_records(25)
    store = Store.open(f"sqlite:///{tmp_path / 'r.sqlite'}", create=True)
    hstore = HarvestStore(store)
    with serve_quirks(records, page_size=10) as server:
        source = hstore.add_source("src", server.url("ok"))
        assert harvest(hstore, "src").ok
        del records[5:10]  # the source silently drops five records (deletedRecord=no style)
        outcome = harvest(hstore, "src", HarvestOptions(full=True, sleep=lambda s: None))
        assert outcome.ok and outcome.reconciled == 5 - 1  # one of them was already deleted
    total, deleted = hstore.counts(source.id)
    assert total == 25 and deleted == 3 + 4
    store.close()


@pytest.mark.parametrize(("body", "expected"), [
    (b"<ListRecords><record/><resumptionToken cursor='0'>abc</resumptionToken></ListRecords>",
     "abc"),
    (b"<oai:resumptionToken completeListSize='9'>a&amp;b=1</oai:resumptionToken>", "a&b=1"),
    (b"<ListRecords><record/><resumptionToken cursor='90'/></ListRecords>", None),
    (b"<ListRecords><record/><resumptionToken></resumptionToken></ListRecords>", None),
    (b"<ListRecords><record/></ListRecords>", None),
])
def test_early_token_reads_the_tail(body: bytes, expected: str | None) -> None:
    from harvester.parsing import scan_token

    found = scan_token(b"x" * 20000 + body, tail_only=True)
    assert (found.value or None if found else None) == expected
