"""Provider benchmark: our OAI-PMH provider against pyoai 2.5.0's server, in the same run.

Builds (or reuses, from bench/var/) a SQLite corpus of N generated records, serves it with
`oai serve` and with pyoai (bench/pyoai_app.py: the same records from memory, same page size,
same gunicorn gthread workers, 4 threads each), then measures for each: fetch-only ListRecords
throughput, the same with Sickle, first/last page latency, GetRecord p50/p99 and worker peak
RSS. A second, larger corpus (ours only) checks that the last page costs no more than the
first and that worker memory stays flat as N grows. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from multiprocessing import Pool
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from xml.sax.saxutils import unescape

import requests

from oai.fixtures.generate import generate_records
from oai.protocol.rendering import PreparedRecord, prepare_record
from oai.store.repository import Store

BENCH_DIR = Path(__file__).resolve().parent
VAR = BENCH_DIR / "var"
BIN = Path(sys.executable).parent
REPOSITORY_ID = "bench.example.org"
CHUNK = 500
HTTP_TIMEOUT = 60.0
START_TIMEOUT = 900.0
TOKEN_RE = re.compile(rb"<resumptionToken\b[^>]*?(?:/>|>([^<]*)</resumptionToken>)")
LIST_ARGS = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}

# Targets (see README): fetch-only throughput ratio, last/first page ratio, RSS per worker.
TARGET_THROUGHPUT_RATIO = 3.0
TARGET_LAST_FIRST_RATIO = 1.5
TARGET_RSS_MB = 150.0
FLAT_RSS_TOLERANCE = 1.25  # "flat": peak RSS at the big N within 25% of the small N's


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- corpus --------------------------------------------------------------------------------


def corpus_path(count: int, seed: int) -> Path:
    return VAR / f"corpus-n{count}-seed{seed}.sqlite"


def _cached_corpora(seed: int) -> Iterator[tuple[int, Path]]:
    pattern = re.compile(rf"corpus-n(\d+)-seed{seed}\.sqlite")
    for path in VAR.glob(f"corpus-n*-seed{seed}.sqlite"):
        match = pattern.fullmatch(path.name)
        if match:
            yield int(match.group(1)), path


def _prepare_chunk(args: tuple[int, int, int]) -> list[PreparedRecord]:
    start, count, seed = args
    return [prepare_record(record) for record in generate_records(count, seed, start=start)]


def _default_sigterm() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _finish_sqlite(path: Path) -> int:
    """Checkpoint the WAL into the main file; return the number of records."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(connection.execute("SELECT count(*) FROM records").fetchone()[0])
    finally:
        connection.close()


def ensure_corpus(count: int, seed: int) -> Path:
    """The cached corpus of `count` records, built (extending a smaller cached one) if needed."""
    target = corpus_path(count, seed)
    if target.exists():
        Store.open(f"sqlite:///{target}", create=True).close()  # migrate to the current schema
        return target
    VAR.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    _remove_sqlite(partial)
    have = 0
    smaller = [(n, p) for n, p in _cached_corpora(seed) if n < count]
    if smaller:
        have, base = max(smaller)
        shutil.copyfile(base, partial)
        log(f"corpus {count}: extending the cached {have}-record corpus")
    store = Store.open(f"sqlite:///{partial}", create=True)
    chunks = [(s, min(CHUNK, count + 1 - s), seed) for s in range(have + 1, count + 1, CHUNK)]
    started = time.perf_counter()
    try:
        with Pool(os.cpu_count() or 2, initializer=_default_sigterm) as pool:
            for done, batch in enumerate(pool.imap(_prepare_chunk, chunks), 1):
                store.write(batch)
                if done % 100 == 0 or done == len(chunks):
                    written = have + min(done * CHUNK, count - have)
                    rate = (written - have) / (time.perf_counter() - started)
                    log(f"corpus {count}: {written} records ({rate:.0f}/s)")
    finally:
        store.close()
    loaded = _finish_sqlite(partial)
    if loaded != count:
        raise RuntimeError(f"corpus {partial} has {loaded} records, expected {count}")
    partial.rename(target)
    return target


# -- servers -------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    workers: int
    ready_dir: Path | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(command: list[str], env: dict[str, str], log_name: str) -> subprocess.Popen[bytes]:
    VAR.mkdir(parents=True, exist_ok=True)
    with (VAR / log_name).open("wb") as out:
        return subprocess.Popen(command, env=env, cwd=VAR, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def start_ours(db: Path, workers: int, page_size: int) -> Server:
    port = free_port()
    env = {**os.environ, "OAI_DATABASE_URL": f"sqlite:///{db}", "OAI_SAFETY_LAG": "0",
           "OAI_REPOSITORY_IDENTIFIER": REPOSITORY_ID, "OAI_PAGE_SIZE": str(page_size)}
    env.pop("OAI_CONFIG", None)
    command = [str(BIN / "oai"), "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers)]
    return Server("ours", _spawn(command, env, "server-ours.log"),
                  f"http://127.0.0.1:{port}/oai", workers)


def start_pyoai(db: Path, workers: int, page_size: int) -> Server:
    port = free_port()
    url = f"http://127.0.0.1:{port}/oai"
    ready_dir = Path(tempfile.mkdtemp(prefix="pyoai-ready-", dir=VAR))
    env = {**os.environ, "BENCH_PYOAI_DB": str(db), "BENCH_PYOAI_BASE_URL": url,
           "BENCH_PYOAI_PAGE_SIZE": str(page_size), "BENCH_PYOAI_READY_DIR": str(ready_dir),
           "BENCH_PYOAI_REPOSITORY_IDENTIFIER": REPOSITORY_ID}
    # the same gunicorn settings as `oai serve`: gthread workers, 4 threads, keep-alive 5 s,
    # heartbeat file in /dev/shm
    command = [str(BIN / "gunicorn"), "-w", str(workers), "-k", "gthread", "--threads", "4",
               "--keep-alive", "5", "--worker-tmp-dir", "/dev/shm",
               "-b", f"127.0.0.1:{port}", "--timeout", "900", "--log-level", "warning",
               "--pythonpath", str(BENCH_DIR), "pyoai_app:app"]
    return Server("pyoai", _spawn(command, env, "server-pyoai.log"), url, workers, ready_dir)


def worker_pids(master: int) -> list[int]:
    """The direct children of a process (the gunicorn master's: its workers), as the kernel
    lists them per thread; none once it is gone."""
    pids: set[int] = set()
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{master}/task").iterdir():
            with contextlib.suppress(OSError):
                pids.update(int(c) for c in (task / "children").read_text().split())
    return sorted(pids)


def status_mb(pid: int, key: str) -> float:
    """A kB figure of /proc/<pid>/status (VmHWM, RssAnon, RssFile...), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} for pid {pid}")


def peak_rss_mb(pid: int) -> float:
    return status_mb(pid, "VmHWM")


def _is_ready(server: Server) -> bool:
    if len(worker_pids(server.process.pid)) < server.workers:
        return False
    if server.ready_dir is not None and len(list(server.ready_dir.iterdir())) < server.workers:
        return False
    try:
        response = requests.get(server.url, params={"verb": "Identify"}, timeout=5)
    except requests.RequestException:
        return False
    return response.status_code == 200 and b"<Identify" in response.content


def wait_ready(server: Server, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not _is_ready(server):
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} server exited ({server.process.returncode}); "
                               f"see {VAR}/server-{server.name}.log")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.name} server not ready after {timeout:.0f}s")
        time.sleep(0.5)


def stop(server: Server) -> None:
    """Stop the server's process group: TERM, then KILL if it lingers."""
    for sig, grace in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
        if server.process.poll() is not None:
            break
        try:
            os.killpg(server.process.pid, sig)
        except ProcessLookupError:
            break
        try:
            server.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    if server.ready_dir is not None:
        shutil.rmtree(server.ready_dir, ignore_errors=True)


@contextmanager
def running(start: Callable[[], Server]) -> Iterator[Server]:
    server = start()
    try:
        log(f"starting {server.name} at {server.url}")
        wait_ready(server)
        warm_up(server.url)
        yield server
    finally:
        stop(server)


def warm_up(url: str) -> None:
    response = requests.get(url, params=LIST_ARGS, timeout=HTTP_TIMEOUT,
                            headers={"Accept-Encoding": "identity"})
    response.raise_for_status()


# -- measurements --------------------------------------------------------------------------


@dataclass
class Harvest:
    records: int
    pages: int
    bytes: int
    seconds: float
    first_args: dict[str, str]
    last_args: dict[str, str]

    def rate(self, expected: int) -> float:
        """Records/s, counting the corpus size (duplicates or gaps are reported apart)."""
        return expected / self.seconds


def _token(body: bytes) -> str | None:
    match = TOKEN_RE.search(body)
    if match is None or not match.group(1):
        return None
    return unescape(match.group(1).decode("utf-8")).strip() or None


class Fetcher:
    """A minimal HTTP/1.1 client (stdlib http.client, one kept-alive connection), so that the
    fetch-only figures measure the server: requests costs about 1 ms a page by itself, which
    would mostly measure the client for a server answering in 1-2 ms."""

    def __init__(self, url: str, gzip: bool = False) -> None:
        parts = urlsplit(url)
        self.path = parts.path or "/"
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.headers = {"Accept-Encoding": "gzip" if gzip else "identity"}
        self.connection = http.client.HTTPConnection(self.host, self.port,
                                                     timeout=HTTP_TIMEOUT)

    def get(self, args: dict[str, str]) -> bytes:
        target = f"{self.path}?{urlencode(args)}"
        for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once
            try:
                self.connection.request("GET", target, headers=self.headers)
                response = self.connection.getresponse()
                body = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                if attempt == 2:
                    raise
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status} for {args}")
        if response.getheader("Content-Encoding") == "gzip":
            body = zlib.decompress(body, 31)
        if b"<error" in body:
            raise RuntimeError(f"OAI error for {args}: {body[:500]!r}")
        return body

    def close(self) -> None:
        self.connection.close()


def fetch_harvest(url: str, gzip: bool = False, prefix: str = "oai_dc") -> Harvest:
    """Fetch every ListRecords page following tokens, without parsing records."""
    fetcher = Fetcher(url, gzip)
    first = {**LIST_ARGS, "metadataPrefix": prefix}
    args = dict(first)
    records = pages = size = 0
    started = time.perf_counter()
    try:
        while True:
            body = fetcher.get(args)
            pages += 1
            size += len(body)
            records += body.count(b"<record>")
            token = _token(body)
            if token is None:
                break
            args = {"verb": "ListRecords", "resumptionToken": token}
    finally:
        fetcher.close()
    seconds = time.perf_counter() - started
    return Harvest(records, pages, size, seconds, first, args)


def sickle_harvest(url: str) -> tuple[int, float]:
    """Records received and seconds taken by a full ListRecords harvest with Sickle (which
    parses every record)."""
    from sickle import Sickle

    started = time.perf_counter()
    count = sum(1 for _ in Sickle(url, timeout=HTTP_TIMEOUT).ListRecords(
        metadataPrefix="oai_dc"))
    return count, time.perf_counter() - started


def _timed(fetcher: Fetcher, args: dict[str, str]) -> float:
    started = time.perf_counter()
    fetcher.get(args)
    return (time.perf_counter() - started) * 1000


def page_latencies(url: str, harvest: Harvest, repeats: int) -> tuple[float, float]:
    """Median ms of the first and of the last page, requests alternating between the two."""
    fetcher = Fetcher(url)
    first: list[float] = []
    last: list[float] = []
    try:
        for _ in range(repeats):
            first.append(_timed(fetcher, harvest.first_args))
            last.append(_timed(fetcher, harvest.last_args))
    finally:
        fetcher.close()
    return statistics.median(first), statistics.median(last)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def get_record_latencies(url: str, identifiers: list[str]) -> tuple[float, float]:
    """p50 and p99 (ms) of sequential GetRecord requests."""
    fetcher = Fetcher(url)
    times: list[float] = []
    try:
        for identifier in identifiers:
            args = {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": identifier}
            started = time.perf_counter()
            body = fetcher.get(args)
            times.append((time.perf_counter() - started) * 1000)
            if b"<GetRecord" not in body:
                raise RuntimeError(f"GetRecord {identifier}: unexpected answer")
    finally:
        fetcher.close()
    return percentile(times, 50), percentile(times, 99)


def sample_identifiers(count: int, seed: int, size: int = 1000) -> list[str]:
    picked = random.Random(seed).sample(range(1, count + 1), min(size, count))
    return [f"oai:{REPOSITORY_ID}:gen-{n:07d}" for n in picked]


def worker_memory(server: Server) -> tuple[list[float], list[float]]:
    """Per worker: peak RSS (VmHWM), and the file-backed part of the current RSS (RssFile:
    mapped files such as an SQLite mmap, shared with the page cache)."""
    pids = worker_pids(server.process.pid)
    return [peak_rss_mb(pid) for pid in pids], [status_mb(pid, "RssFile") for pid in pids]


# -- runs ----------------------------------------------------------------------------------


@dataclass
class ServerFigures:
    records: int
    fetch_rate: float = 0.0
    fetch_rates: list[float] = field(default_factory=list)
    fetch_pages: int = 0
    fetch_mb: float = 0.0
    fetch_gzip_rate: float | None = None
    sickle_rate: float | None = None
    first_page_ms: float = 0.0
    last_page_ms: float = 0.0
    get_p50_ms: float | None = None
    get_p99_ms: float | None = None
    worker_rss_mb: list[float] = field(default_factory=list)
    worker_rss_file_mb: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def check_count(self, what: str, received: int) -> None:
        if received != self.records:
            self.problems.append(f"{what} returned {received} records, expected "
                                 f"{self.records}")

    @property
    def max_rss(self) -> float:
        return max(self.worker_rss_mb, default=0.0)


def measure(server: Server, count: int, repeats: int, identifiers: list[str] | None,
            full: bool, harvests: int = 3) -> ServerFigures:
    """Everything for one server; `full` adds Sickle and the gzip fetch (100k comparison).
    The fetch-only throughput is the median of `harvests` complete harvests."""
    figures = ServerFigures(count)
    runs = []
    for number in range(harvests):
        log(f"{server.name} n={count}: fetch-only harvest {number + 1}/{harvests}")
        runs.append(fetch_harvest(server.url))
        figures.check_count("fetch-only ListRecords", runs[-1].records)
    runs.sort(key=lambda h: h.rate(count))
    harvest = runs[len(runs) // 2]
    figures.fetch_rates = [h.rate(count) for h in runs]
    figures.fetch_rate, figures.fetch_pages = harvest.rate(count), harvest.pages
    figures.fetch_mb = harvest.bytes / 1e6
    log(f"{server.name} n={count}: {figures.fetch_rate:.0f} records/s; page latencies")
    figures.first_page_ms, figures.last_page_ms = page_latencies(server.url, harvest, repeats)
    if full:
        if server.name == "ours":
            log(f"{server.name} n={count}: fetch-only harvest with gzip")
            gzipped = fetch_harvest(server.url, gzip=True)
            figures.check_count("fetch-only ListRecords (gzip)", gzipped.records)
            figures.fetch_gzip_rate = gzipped.rate(count)
        log(f"{server.name} n={count}: Sickle harvest")
        received, seconds = sickle_harvest(server.url)
        figures.check_count("Sickle ListRecords", received)
        figures.sickle_rate = count / seconds
    if identifiers:
        log(f"{server.name} n={count}: {len(identifiers)} GetRecord")
        figures.get_p50_ms, figures.get_p99_ms = get_record_latencies(server.url, identifiers)
    figures.worker_rss_mb, figures.worker_rss_file_mb = worker_memory(server)
    return figures


@dataclass
class Results:
    settings: dict[str, Any]
    ours: ServerFigures
    pyoai: ServerFigures
    ours_big: ServerFigures | None
    targets: list[dict[str, Any]] = field(default_factory=list)


def run(args: argparse.Namespace) -> Results:
    small = ensure_corpus(args.records, args.seed)
    big = None if args.skip_big else ensure_corpus(args.big, args.seed)
    identifiers = sample_identifiers(args.records, args.seed)
    settings = {"records": args.records, "big": None if args.skip_big else args.big,
                "seed": args.seed, "workers": args.workers, "page_size": args.page_size,
                "repeats": args.repeats, "python": sys.version.split()[0],
                "cpus": os.cpu_count()}
    with running(lambda: start_ours(small, args.workers, args.page_size)) as server:
        ours = measure(server, args.records, args.repeats, identifiers, full=True,
                       harvests=args.harvests)
    with running(lambda: start_pyoai(small, args.workers, args.page_size)) as server:
        pyoai = measure(server, args.records, args.repeats, identifiers, full=True,
                        harvests=args.harvests)
    ours_big = None
    if big is not None:
        with running(lambda: start_ours(big, args.workers, args.page_size)) as server:
            ours_big = measure(server, args.big, args.repeats, None, full=False, harvests=1)
    results = Results(settings, ours, pyoai, ours_big)
    results.targets = evaluate(results)
    return results


# -- report --------------------------------------------------------------------------------


def evaluate(results: Results) -> list[dict[str, Any]]:
    ours, pyoai, big = results.ours, results.pyoai, results.ours_big
    ratio = ours.fetch_rate / pyoai.fetch_rate
    targets = [{"target": f"fetch-only ListRecords >= {TARGET_THROUGHPUT_RATIO:g}x pyoai "
                          f"(n={ours.records})",
                "met": ratio >= TARGET_THROUGHPUT_RATIO,
                "figures": f"{ours.fetch_rate:.0f} vs {pyoai.fetch_rate:.0f} records/s "
                           f"= {ratio:.2f}x"}]
    if big is None:
        return targets
    page_ratio = big.last_page_ms / big.first_page_ms
    targets.append({"target": f"last page <= {TARGET_LAST_FIRST_RATIO:g}x first page "
                              f"(ours, n={big.records})",
                    "met": page_ratio <= TARGET_LAST_FIRST_RATIO,
                    "figures": f"last {big.last_page_ms:.2f} ms / first "
                               f"{big.first_page_ms:.2f} ms = {page_ratio:.2f}x"})
    targets.append({"target": f"peak RSS per worker < {TARGET_RSS_MB:g} MB (ours, "
                              f"n={big.records})",
                    "met": big.max_rss < TARGET_RSS_MB,
                    "figures": f"max {big.max_rss:.1f} MB (workers: "
                               f"{', '.join(f'{v:.1f}' for v in big.worker_rss_mb)})"})
    growth = big.max_rss / ours.max_rss
    targets.append({"target": f"peak RSS flat as N grows (n={ours.records} -> {big.records}, "
                              f"within {FLAT_RSS_TOLERANCE:g}x)",
                    "met": growth <= FLAT_RSS_TOLERANCE,
                    "figures": f"{ours.max_rss:.1f} MB -> {big.max_rss:.1f} MB "
                               f"= {growth:.2f}x"})
    return targets


def _fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def table_rows(results: Results) -> list[tuple[str, str, str, str]]:
    o, p = results.ours, results.pyoai
    rows: list[tuple[str, float | None, float | None, int]] = [
        ("fetch-only ListRecords (median), records/s", o.fetch_rate, p.fetch_rate, 0),
        ("  slowest of the harvests", min(o.fetch_rates, default=None),
         min(p.fetch_rates, default=None), 0),
        ("  fastest of the harvests", max(o.fetch_rates, default=None),
         max(p.fetch_rates, default=None), 0),
        ("  pages fetched", o.fetch_pages, p.fetch_pages, 0),
        ("  MB transferred", o.fetch_mb, p.fetch_mb, 1),
        ("fetch-only with gzip, records/s", o.fetch_gzip_rate, None, 0),
        ("Sickle ListRecords, records/s", o.sickle_rate, p.sickle_rate, 0),
        ("first page, ms (median)", o.first_page_ms, p.first_page_ms, 2),
        ("last page, ms (median)", o.last_page_ms, p.last_page_ms, 2),
        ("GetRecord p50, ms", o.get_p50_ms, p.get_p50_ms, 2),
        ("GetRecord p99, ms", o.get_p99_ms, p.get_p99_ms, 2),
        ("peak RSS per worker (max), MB", o.max_rss, p.max_rss, 1),
        ("  file-backed RSS at end (max), MB", max(o.worker_rss_file_mb, default=None),
         max(p.worker_rss_file_mb, default=None), 1),
    ]
    return [(label, _fmt(a, d), _fmt(b, d), _ratio(a, b)) for label, a, b, d in rows]


def big_rows(big: ServerFigures) -> list[tuple[str, str]]:
    return [("fetch-only ListRecords, records/s", _fmt(big.fetch_rate)),
            ("first page, ms (median)", _fmt(big.first_page_ms, 2)),
            ("last page, ms (median)", _fmt(big.last_page_ms, 2)),
            ("last / first page", _ratio(big.last_page_ms, big.first_page_ms)),
            ("peak RSS per worker, MB",
             ", ".join(f"{v:.1f}" for v in big.worker_rss_mb)),
            ("  file-backed RSS at end, MB",
             ", ".join(f"{v:.1f}" for v in big.worker_rss_file_mb))]


def render(results: Results) -> str:
    s = results.settings
    lines = [f"Provider benchmark: oai_dc, {s['page_size']} records/page, SQLite, "
             f"{s['workers']} gunicorn gthread workers (4 threads), seed {s['seed']}, "
             f"{s['repeats']} repeats per page latency, Python {s['python']}, "
             f"{s['cpus']} CPUs", "",
             f"n = {results.ours.records:,}"]
    header = ("metric", "ours", "pyoai", "ours/pyoai")
    rows = [header, *table_rows(results)]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for i, row in enumerate(rows):
        lines.append(f"  {row[0]:<{widths[0]}}  " + "  ".join(
            f"{cell:>{widths[j + 1]}}" for j, cell in enumerate(row[1:])))
        if i == 0:
            lines.append("  " + "-" * (sum(widths) + 6))
    rss_line = ", ".join(f"{v:.1f}" for v in results.ours.worker_rss_mb)
    lines.append(f"  (ours per-worker peak RSS: {rss_line} MB; pyoai: "
                 + ", ".join(f"{v:.1f}" for v in results.pyoai.worker_rss_mb) + " MB)")
    if results.ours_big is not None:
        lines += ["", f"n = {results.ours_big.records:,} (ours only)"]
        big = big_rows(results.ours_big)
        width = max(len(label) for label, _ in big)
        lines += [f"  {label:<{width}}  {value}" for label, value in big]
    problems = [f"{name}: {problem}" for name in ("ours", "pyoai", "ours_big")
                if getattr(results, name) is not None
                for problem in getattr(results, name).problems]
    lines += ["", "CHECKS"]
    lines += [f"  [FAIL] {problem}" for problem in problems] or [
        "  [PASS] every harvest returned exactly the corpus's records"]
    lines += ["", "TARGETS"]
    for target in results.targets:
        verdict = "PASS" if target["met"] else "FAIL"
        lines.append(f"  [{verdict}] {target['target']}: {target['figures']}")
    return "\n".join(lines)


def to_json(results: Results) -> dict[str, Any]:
    data = asdict(results)
    for key in ("ours", "pyoai", "ours_big"):
        if data[key] is not None:
            data[key]["max_rss_mb"] = getattr(results, key).max_rss
    return data


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000,
                        help="corpus size for the ours-vs-pyoai comparison (default 100000)")
    parser.add_argument("--big", type=int, default=1_000_000,
                        help="corpus size for the page-cost and RSS checks (default 1000000)")
    parser.add_argument("--skip-big", action="store_true", help="skip the big-corpus run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--harvests", type=int, default=3,
                        help="complete fetch-only harvests per server; the median is reported")
    parser.add_argument("--repeats", type=int, default=20,
                        help="requests per first/last page latency median (default 20)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: --records 5000 --big 20000")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.big = 5_000, 20_000
    if args.big <= args.records and not args.skip_big:
        parser.error("--big must be larger than --records")
    return args


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    sys.exit(128 + signum)  # unwinds through the finally blocks that stop the servers


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    results = run(args)
    print(render(results), flush=True)
    if args.json:
        args.json.write_text(json.dumps(to_json(results), indent=2) + "\n")
    ok = all(t["met"] for t in results.targets) and not any(
        figures.problems for figures in (results.ours, results.pyoai, results.ours_big)
        if figures is not None)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
