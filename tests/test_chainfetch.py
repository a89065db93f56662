"""Resumption requests made ahead by a child process (`harvester.chainfetch`), over real
loopback HTTP: the same pages, the same requests at the server and the same accounting as
without a child; the client's policy (retries, budgets, stop) applied here to what the child
did; a chain that parts from ours (a token the child misread) mended; no child left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from flask import Flask, Response, request

from harvester import chainfetch
from harvester.client import OAIClient
from harvester.errors import BudgetExhausted, Interrupted, RetriesExhausted
from harvester.guard import Limits, RunGuard, StopRequest
from harvester.paging import ListPager
from tests.quirk_server import envelope, error_body, token_xml
from tests.serving import serve_in_thread

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the child process is used on Linux only")

PAGE = 10
PROJECT = Path(__file__).resolve().parent.parent


@dataclass
class Repository:
    """`total` records, PAGE a page, the token being the next offset. `failures[offset]`
    is how many times that page answers 500 before it answers; with `decoy`, each page
    ends with a comment holding another resumptionToken (which a tail scan reads)."""

    total: int = 95
    failures: dict[int, int] = field(default_factory=dict)
    decoy: bool = False
    delay: float = 0.0  # seconds before each answer from offset `slow_from` on
    slow_from: int = 0
    stalled: threading.Event = field(default_factory=threading.Event)  # a slow answer began
    seen: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _app(repo: Repository) -> Flask:
    app = Flask(__name__)

    @app.route("/oai")
    def oai() -> Response:
        token = request.args.get("resumptionToken")
        if repo.delay and (token or "0").isdigit() and int(token or 0) >= repo.slow_from:
            repo.stalled.set()
            time.sleep(repo.delay)
        with repo.lock:
            repo.seen.append(token or "first")
            if token is not None and not token.isdigit():
                return Response(error_body("badResumptionToken", "no such token"),
                                content_type="text/xml")
            offset = int(token or 0)
            if repo.failures.get(offset, 0) > 0:
                repo.failures[offset] -= 1
                return Response("busy", status=500)
        records = "".join(
            f"<record><header><identifier>oai:x:{i}</identifier>"
            f"<datestamp>2024-01-01T00:00:00Z</datestamp></header><metadata>"
            f'<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{escape(str(i))}'
            f"</dc:title></oai_dc:dc></metadata></record>"
            for i in range(offset, min(offset + PAGE, repo.total)))
        following = offset + PAGE
        tail = token_xml(str(following) if following < repo.total else "", offset, repo.total)
        if repo.decoy:
            tail += "<!-- <resumptionToken>decoy</resumptionToken> -->"
        return Response(envelope("ListRecords", records + tail), content_type="text/xml")

    return app


@contextmanager
def serving(repo: Repository) -> Iterator[str]:
    with serve_in_thread(_app(repo)) as base:
        yield base + "/oai"


def harvest(url: str, fetch_process: bool, guard: RunGuard | None = None
            ) -> tuple[list[str], OAIClient]:
    client = OAIClient(url, guard=guard or RunGuard(), backoff_base=0.01, backoff_cap=0.02)
    pager = ListPager(client, fetch_process=fetch_process)
    assert pager.fetch_process is fetch_process  # available on this machine
    identifiers = [r.identifier for page in pager.pages({"metadataPrefix": "oai_dc"})
                   for r in page.records]
    return identifiers, client


def _children_of(pid: int) -> set[int]:
    """The children (running or zombie) of every thread of `pid`."""
    found: set[int] = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as fh:
            found.update(int(c) for c in fh.read().split())
    return found


def no_children() -> bool:
    """This process has no child left, running or not reaped."""
    return not _children_of(os.getpid())


def test_the_same_pages_requests_and_counts_as_without_a_child() -> None:
    expected = [f"oai:x:{i}" for i in range(95)]
    for fetch_process in (False, True):
        repo = Repository()
        with serving(repo) as url:
            identifiers, client = harvest(url, fetch_process)
        assert identifiers == expected
        assert repo.seen == ["first", *(str(o) for o in range(10, 95, 10))]
        assert client.guard.requests == 10
    assert no_children()


def test_a_failed_attempt_is_retried_here_and_the_chain_goes_on() -> None:
    repo = Repository(failures={30: 2, 70: 1})
    with serving(repo) as url:
        identifiers, client = harvest(url, fetch_process=True)
    assert identifiers == [f"oai:x:{i}" for i in range(95)]
    # each failure answered once per attempt: 10 pages + 3 failed attempts, none twice more
    assert len(repo.seen) == 13 and repo.seen.count("30") == 3 and repo.seen.count("70") == 2
    assert client.guard.requests == 13
    assert no_children()


def test_retries_run_out_as_without_a_child() -> None:
    for fetch_process in (False, True):
        repo = Repository(failures={20: 99})
        with serving(repo) as url, pytest.raises(RetriesExhausted):
            harvest(url, fetch_process)
        assert repo.seen.count("20") == 4  # max_attempts, the first one the child's
    assert no_children()


def test_a_chain_that_parts_from_ours_is_mended() -> None:
    """The tail scan reads a decoy token (in a comment): the child follows it, ours does
    not; a new child takes over at the real token, and no page is lost or repeated."""
    repo = Repository(decoy=True)
    with serving(repo) as url:
        identifiers, _client = harvest(url, fetch_process=True)
    assert identifiers == [f"oai:x:{i}" for i in range(95)]
    assert [t for t in repo.seen if t.isdigit()] == [str(o) for o in range(10, 95, 10)]
    assert no_children()


def test_the_request_budget_holds_for_the_child_too() -> None:
    repo = Repository(total=500)
    guard = RunGuard(Limits(max_requests=5))
    with serving(repo) as url, pytest.raises(BudgetExhausted):
        harvest(url, fetch_process=True, guard=guard)
    assert len(repo.seen) == 5 and guard.requests == 5
    assert no_children()


def test_a_stop_ends_the_child_at_once() -> None:
    repo = Repository(total=5000)
    stop = StopRequest()
    with serving(repo) as url:
        client = OAIClient(url, guard=RunGuard(stop=stop))
        pager = ListPager(client, fetch_process=True)
        pages = 0
        with pytest.raises(Interrupted):
            for _page in pager.pages({"metadataPrefix": "oai_dc"}):
                pages += 1
                if pages == 3:
                    stop.request("the test")
    assert no_children()
    assert len(repo.seen) < 3 + chainfetch.ChainFetcher.AHEAD + 4  # ahead, not the list


def test_without_a_process_to_fork_the_list_is_read_here(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork that fails (no process left under the limits) costs nothing but the speed."""
    def refuse() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    repo = Repository()
    with serving(repo) as url:
        identifiers, client = harvest(url, fetch_process=True)
    assert identifiers == [f"oai:x:{i}" for i in range(95)]
    assert len(repo.seen) == 10 and client.guard.requests == 10
    assert no_children()


def test_not_used_where_requests_are_spaced_or_the_session_is_someone_elses() -> None:
    import requests

    assert chainfetch.available(OAIClient("http://127.0.0.1:9/oai"))
    assert not chainfetch.available(OAIClient("http://127.0.0.1:9/oai", min_interval=1.0))
    with requests.Session() as session:
        assert not chainfetch.available(OAIClient("http://127.0.0.1:9/oai", session=session))


def _dead(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_the_child_dies_with_a_killed_harvester(tmp_path: Path) -> None:
    """SIGKILL of the harvesting process (no cleanup can run) kills its child at once, even
    in the middle of a request that would keep it a minute."""
    repo = Repository(total=100_000, delay=60, slow_from=30)
    script = tmp_path / "harvest.py"
    script.write_text(
        "import sys\n"
        "from harvester.client import OAIClient\n"
        "from harvester.paging import ListPager\n"
        "pager = ListPager(OAIClient(sys.argv[1]), fetch_process=True)\n"
        "for page in pager.pages({'metadataPrefix': 'oai_dc'}):\n"
        "    print(len(page.records), flush=True)\n")
    with serving(repo) as url:
        proc = subprocess.Popen([sys.executable, str(script), url], stdout=subprocess.PIPE,
                                cwd=PROJECT)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == b"10"
            assert repo.stalled.wait(30), "the child never asked for the slow page"
            children = _children_of(proc.pid)
            assert children, "the harvester forked no child"
        finally:
            proc.kill()
            proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while not all(_dead(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(_dead(c) for c in children)
