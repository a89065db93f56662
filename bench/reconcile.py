"""Reconciliation benchmark: identifiers/s of a sweep against our own provider, and the
sweeping process's peak RSS, at 100,000 and 1,000,000 identifiers (memory must stay flat).

For each N, a provider store of N records is written straight into SQLite (a record row and
a small oai_dc rendition each: a sweep reads headers only, so the payloads' size does not
matter, and generating a million real records would take the best part of an hour) and
served by `oai serve`; a harvest store holds a copy of the same identifiers with planted
differences: 1% missing locally, 0.5% stale (an older datestamp), 0.5% gone from the
source. `oai reconcile bench --json` (report only) is then timed as a whole process, from its
start to its exit (start-up, Identify, the sweep and the SQL comparison), its peak RSS read
from /proc while it runs, and its counts checked against what was planted. See
bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import harvest  # noqa: E402  (bench/harvest.py: the timed child process)
import provider  # noqa: E402  (bench/provider.py: corpora folder, servers)

from oai.store.harvest import HarvestStore  # noqa: E402
from oai.store.repository import Store  # noqa: E402

VAR = provider.VAR
START = 1_600_000_000
BATCH = 50_000
FLAT_RSS_TOLERANCE = 1.25  # "flat": peak RSS at the big N within 25% of the small N's
log = provider.log


def identifier(n: int) -> str:
    return f"oai:{provider.REPOSITORY_ID}:r{n:08d}"


def planted(n: int) -> str | None:
    """What the local copy does with record n: None (kept as is), missing, stale, gone."""
    return {0: "missing", 1: "missing", 2: "stale", 3: "gone"}.get(n % 200)


def provider_store(count: int) -> Path:
    """A cached SQLite store of `count` records, written row by row in big batches."""
    path = VAR / f"reconcile-provider-n{count}.sqlite"
    if path.exists():
        return path
    VAR.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    Store.open(f"sqlite:///{partial}", create=True).close()  # schema and settings
    xml = ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
           'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>r{n}</dc:title>'
           "</oai_dc:dc>")
    with sqlite3.connect(partial) as conn:
        conn.execute("PRAGMA synchronous=OFF")
        for start in range(0, count, BATCH):
            ids = range(start, min(start + BATCH, count))
            conn.executemany(
                "INSERT INTO records (id, datestamp, deleted, set_specs, content_hash, data) "
                "VALUES (?, ?, 0, '[]', ?, '{}')",
                [(f"r{n:08d}", START + n, f"{n:064x}") for n in ids])
            conn.executemany("INSERT INTO renditions (record_id, prefix, xml) VALUES (?, ?, ?)",
                             [(f"r{n:08d}", "oai_dc", xml.format(n=n)) for n in ids])
            conn.commit()
            log(f"provider n={count}: {min(start + BATCH, count):,} records")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    partial.rename(path)
    for suffix in ("-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    return path


def harvest_store(count: int, url: str) -> Path:
    """A fresh harvest store whose copy differs from the source as planted."""
    path = VAR / f"reconcile-harvest-n{count}.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = Store.open(f"sqlite:///{path}", create=True)
    source = HarvestStore(store).add_source("bench", url)
    store.close()
    with sqlite3.connect(path) as conn:
        for start in range(0, count, BATCH):
            rows = []
            for n in range(start, min(start + BATCH, count)):
                kind = planted(n)
                if kind == "missing":
                    continue
                ident = identifier(n) if kind != "gone" else identifier(n) + "-gone"
                epoch = START + n - (86400 if kind == "stale" else 0)
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
                rows.append((source.id, ident, stamp, epoch, f"<dc>{n}</dc>"))
            conn.executemany(
                "INSERT INTO harvested_records (source_id, identifier, datestamp, "
                "datestamp_epoch, deleted, set_specs, metadata, run_id) "
                "VALUES (?, ?, ?, ?, 0, '[]', ?, 0)", rows)
            conn.commit()
    return path


@dataclass
class Figures:
    count: int
    seconds: float
    rate: float
    peak_rss_mb: float
    counts: dict[str, int]
    problems: list[str]


def expected_counts(count: int) -> dict[str, int]:
    kinds = [planted(n) for n in range(count)]
    missing, stale, gone = (kinds.count(k) for k in ("missing", "stale", "gone"))
    return {"missing": missing + gone, "stale": stale, "changed": 0, "gone": gone,
            "agree": count - missing - stale - gone}


def measure(count: int, workers: int, page_size: int) -> Figures:
    db = provider_store(count)
    server = provider.start_ours(db, workers, page_size)
    try:
        provider.wait_ready(server)
        store = harvest_store(count, server.url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
        env["OAI_DATABASE_URL"] = f"sqlite:///{store}"
        oai = str(Path(sys.executable).with_name("oai"))
        log(f"n={count}: sweeping")
        run = harvest._timed([oai, "reconcile", "bench", "--json"], env)
    finally:
        provider.stop(server)
    out = json.loads(run.out.strip().splitlines()[-1])
    problems = []
    if out["status"] != "complete":
        problems.append(f"status {out['status']}: {out['reason']}")
    if out["counts"] != expected_counts(count):
        problems.append(f"counts {out['counts']}, expected {expected_counts(count)}")
    figures = Figures(count, run.seconds, count / run.seconds, run.peak_rss_mb,
                      out["counts"], problems)
    log(f"n={count}: {figures.rate:,.0f} identifiers/s, {run.seconds:.1f} s, peak RSS "
        f"{run.peak_rss_mb:.1f} MB" + (f" PROBLEMS: {problems}" if problems else ""))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="comma-separated identifier counts (default 100000,1000000)")
    parser.add_argument("--quick", action="store_true", help="sizes 10,000 and 50,000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    sizes = [10_000, 50_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    results = [measure(n, args.workers, args.page_size) for n in sizes]
    print(f"oai reconcile (report only), our provider, {args.page_size} headers a page, "
          f"{args.workers} server workers, SQLite")
    print(f"{'identifiers':>12} {'seconds':>9} {'identifiers/s':>14} {'peak RSS MB':>12}")
    for r in results:
        print(f"{r.count:>12,} {r.seconds:>9.1f} {r.rate:>14,.0f} {r.peak_rss_mb:>12.1f}")
    ok = all(not r.problems for r in results)
    for r in results:
        for problem in r.problems:
            print(f"CHECK FAILED n={r.count}: {problem}")
    if len(results) > 1:
        small, big = results[0], results[-1]
        flat = big.peak_rss_mb <= small.peak_rss_mb * FLAT_RSS_TOLERANCE
        ok = ok and flat
        print(f"{'PASS' if flat else 'FAIL'} memory flat: {big.peak_rss_mb:.1f} MB at "
              f"{big.count:,} vs {small.peak_rss_mb:.1f} MB at {small.count:,} "
              f"(within {FLAT_RSS_TOLERANCE}x)")
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in results], indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
