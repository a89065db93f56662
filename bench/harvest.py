"""Harvester benchmark: our harvester against Sickle and a bare requests + lxml loop.

Serves one generated corpus with our provider (bench/provider.py's helpers: `oai serve`,
gunicorn gthread workers) and harvests all of it, oai_dc, with three clients. Each is a whole
process, timed from its start to its exit (interpreter start-up and imports included, as a
user experiences it), one after the other, the order rotated every round:

* ours:   the `oai harvest run` command, storing every record into a fresh SQLite harvest
          store (the source was defined beforehand with `oai harvest add --no-check`);
* sickle: `Sickle(url).ListRecords(...)`, writing each `record.raw` to a file (one per line);
* bare:   `requests.Session` + `lxml.etree.fromstring`, following the token and writing each
          record's metadata element to a file (the ceiling: no checks, no recovery).

Every client gets the same durability: what it wrote is fsynced once, at the end (ours:
SQLite's checkpoint when the store closes). Records/s, CPU time and peak RSS of each process
(`os.wait4` rusage) are reported with the ratios and the targets. A second, bigger corpus is
harvested by ours only to show that its peak RSS stays flat as N grows. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import provider  # noqa: E402  (bench/provider.py, a script next to this one)

VAR = BENCH_DIR / "var"
CLIENTS = ("ours", "matching", "sickle", "bare")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Targets (see README).
TARGET_VS_SICKLE = 2.0  # ours records/s >= 2x Sickle writing a file
TARGET_VS_BARE = 0.8  # ours records/s >= 80% of the bare fetch-parse-write loop
TARGET_RSS_MB = 200.0  # ours peak RSS at the big N
FLAT_RSS_TOLERANCE = 1.25  # "flat": peak RSS at the big N within 25% of the small N's

log = provider.log


# -- the clients (run in a child process: `harvest.py --client NAME ...`) ------------------


@dataclass
class ClientResult:
    """What a client reports on its last stdout line (JSON)."""

    records: int
    stored: int | None = None
    status: str | None = None


# -- the parent: one measured child per client run -----------------------------------------


@dataclass
class Measurement:
    client: str
    records: int
    expected: int
    seconds: float  # the whole process, from its start to its exit
    cpu_s: float  # the whole process (os.wait4 rusage: every thread, start-up included)
    peak_rss_mb: float  # ru_maxrss of the process (its VmHWM)
    server_cpu_s: float  # CPU of the gunicorn workers during the run
    stored: int | None = None
    status: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.expected / self.seconds

    @property
    def us_per_record(self) -> float:
        return self.cpu_s / self.expected * 1e6


def server_cpu_s(server: provider.Server) -> float:
    """utime + stime of the server's workers (and master), in seconds."""
    total = 0
    for pid in [server.process.pid, *provider.worker_pids(server.process.pid)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def _check(m: Measurement) -> None:
    if m.records != m.expected:
        m.problems.append(f"received {m.records} records, expected {m.expected}")
    if m.stored is not None and m.stored != m.expected:
        m.problems.append(f"the store holds {m.stored} records, expected {m.expected}")
    if m.status is not None and m.status != "complete":
        m.problems.append(f"run status {m.status!r}")


@dataclass
class Run:
    out: str
    seconds: float
    usage: resource.struct_rusage
    peak_rss_mb: float


def _tree_rss_mb(pid: int) -> float:
    """The RSS of a process and its children, summed (0 for a child gone meanwhile)."""
    total = provider.status_mb(pid, "VmRSS")
    for child in provider.worker_pids(pid):
        with contextlib.suppress(OSError, RuntimeError):
            total += provider.status_mb(child, "VmRSS")
    return total


def _timed(command: list[str], env: dict[str, str]) -> Run:
    """Run a whole process: its stdout, wall seconds from start to exit, its rusage, and its
    peak RSS (its progress and warnings on stderr are dropped, as a cron job would).

    The peak is the child's own VmHWM, read while it runs: rusage's ru_maxrss of a forked
    child starts from the parent's RSS at the fork, which would show this script's size. A
    process that has children of its own (ours forks one to make a list's requests) is
    measured with them: the peak of their RSS summed, as sampled, pages they share counted
    in each (an upper bound), when that is more than its own VmHWM. The CPU figure of
    `wait4` already includes the children it reaped."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env=env)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(process.stdout.read()),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    peak = 0.0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        with contextlib.suppress(OSError, RuntimeError, ValueError):  # an exiting zombie
            peak = max(peak, provider.status_mb(process.pid, "VmHWM"), _tree_rss_mb(process.pid))
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    reader.join()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{' '.join(command[:3])} exited with status {code}")
    return Run(b"".join(chunks).decode("utf-8"), seconds, usage, peak)


def _run_ours(url: str, workdir: Path, match_duplicates: bool = False) -> Run:
    """`oai harvest run` into a fresh store; the source is defined first, untimed. Ours runs
    as configured by default (one source: nothing to match, no duplicate matching); the
    matching client is the same command with matching on, as an aggregator of several
    sources runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = f"sqlite:///{workdir / 'harvest.sqlite'}"
    if match_duplicates:
        env["OAI_HARVEST_MATCH_DUPLICATES"] = "on"
    oai = str(Path(sys.executable).with_name("oai"))
    subprocess.run([oai, "harvest", "add", "bench", url, "--no-check"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    run = _timed([oai, "harvest", "run", "bench", "--json"], env)
    summary = json.loads(run.out.strip().splitlines()[-1])
    with sqlite3.connect(workdir / "harvest.sqlite") as conn:
        stored = conn.execute("SELECT count(*) FROM harvested_records").fetchone()[0]
    run.out = json.dumps(asdict(ClientResult(summary["records"], stored, summary["status"])))
    return run


def measure_client(name: str, server: provider.Server, expected: int) -> Measurement:
    """Run one client as a whole process against the server; its wall, CPU and peak RSS."""
    workdir = Path(tempfile.mkdtemp(prefix=f"harvest-{name}-", dir=VAR))
    try:
        server_cpu0 = server_cpu_s(server)
        if name in ("ours", "matching"):
            run = _run_ours(server.url, workdir, match_duplicates=name == "matching")
        else:
            run = _timed([sys.executable, str(BENCH_DIR / "harvest_clients.py"), name,
                          server.url, str(workdir)], dict(os.environ))
        server_cpu = server_cpu_s(server) - server_cpu0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result = ClientResult(**json.loads(run.out.strip().splitlines()[-1]))
    m = Measurement(name, result.records, expected, run.seconds,
                    run.usage.ru_utime + run.usage.ru_stime, run.peak_rss_mb, server_cpu,
                    result.stored, result.status)
    _check(m)
    log(f"{name} n={expected}: {m.rate:,.0f} records/s, CPU {m.cpu_s:.1f} s, "
        f"peak RSS {m.peak_rss_mb:.1f} MB, server CPU {m.server_cpu_s:.1f} s"
        + (f" PROBLEMS: {m.problems}" if m.problems else ""))
    return m


def rotated(clients: tuple[str, ...], shift: int) -> list[str]:
    shift %= len(clients)
    return list(clients[shift:] + clients[:shift])


def median_run(runs: list[Measurement]) -> Measurement:
    """The run with the median wall time (the lower middle one for an even count)."""
    ordered = sorted(runs, key=lambda m: m.seconds)
    return ordered[(len(ordered) - 1) // 2]


@contextmanager
def serving(db: Path, args: argparse.Namespace) -> Iterator[provider.Server]:
    with provider.running(lambda: provider.start_ours(db, args.workers, args.page_size)) as s:
        yield s


def compare(db: Path, args: argparse.Namespace) -> tuple[dict[str, Measurement],
                                                         dict[str, list[Measurement]]]:
    """Every client, `repeats` times with the order rotated, against one server."""
    runs: dict[str, list[Measurement]] = {name: [] for name in CLIENTS}
    with serving(db, args) as server:
        # one untimed harvest first: the first client of the first round would otherwise
        # meet a cold server (its workers' first pages, the corpus not yet in the page cache;
        # measured: twice the server CPU and half the rate of the same client's other runs)
        log("warming the server up: one untimed fetch-only harvest")
        provider.fetch_harvest(server.url, gzip=True)
        for repeat in range(args.repeats):
            for name in rotated(CLIENTS, repeat):
                log(f"repeat {repeat + 1}/{args.repeats}: {name} n={args.records}")
                runs[name].append(measure_client(name, server, args.records))
    return {name: median_run(r) for name, r in runs.items()}, runs


def big_run(db: Path, args: argparse.Namespace) -> Measurement:
    with serving(db, args) as server:
        log(f"ours n={args.big}")
        return measure_client("ours", server, args.big)


# -- report --------------------------------------------------------------------------------


@dataclass
class Results:
    settings: dict[str, Any]
    chosen: dict[str, Measurement]
    runs: dict[str, list[Measurement]]
    big: Measurement | None
    targets: list[dict[str, Any]] = field(default_factory=list)


def evaluate(results: Results) -> list[dict[str, Any]]:
    ours, _, sickle, bare = (results.chosen[n] for n in CLIENTS)
    n = ours.expected
    vs_sickle, vs_bare = ours.rate / sickle.rate, ours.rate / bare.rate
    targets = [
        {"target": f"ours >= {TARGET_VS_SICKLE:g}x Sickle writing files (n={n})",
         "met": vs_sickle >= TARGET_VS_SICKLE,
         "figures": f"{ours.rate:,.0f} vs {sickle.rate:,.0f} records/s = {vs_sickle:.2f}x"},
        {"target": f"ours >= {TARGET_VS_BARE:.0%} of the bare lxml loop (n={n})",
         "met": vs_bare >= TARGET_VS_BARE,
         "figures": f"{ours.rate:,.0f} vs {bare.rate:,.0f} records/s = {vs_bare:.0%}"}]
    big = results.big
    if big is None:
        return targets
    growth = big.peak_rss_mb / ours.peak_rss_mb
    targets += [
        {"target": f"ours peak RSS < {TARGET_RSS_MB:g} MB (n={big.expected})",
         "met": big.peak_rss_mb < TARGET_RSS_MB, "figures": f"{big.peak_rss_mb:.1f} MB"},
        {"target": f"ours peak RSS flat as N grows (n={n} -> {big.expected}, within "
                   f"{FLAT_RSS_TOLERANCE:g}x)",
         "met": growth <= FLAT_RSS_TOLERANCE,
         "figures": f"{ours.peak_rss_mb:.1f} MB -> {big.peak_rss_mb:.1f} MB = {growth:.2f}x"}]
    return targets


HEADER = ("client (whole process)", "records/s", "wall s", "CPU s", "CPU us/record",
          "peak RSS MB", "server CPU s")


def _row(label: str, m: Measurement) -> tuple[str, ...]:
    return (label, f"{m.rate:,.0f}", f"{m.seconds:.1f}", f"{m.cpu_s:.1f}",
            f"{m.us_per_record:.0f}", f"{m.peak_rss_mb:.1f}", f"{m.server_cpu_s:.1f}")


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  " + "  ".join(cells))
        if i == 0:
            lines.append("  " + "-" * (sum(widths) + 2 * (len(widths) - 1)))
    return lines


LABELS = {"ours": "ours: oai harvest run (SQLite)",
          "matching": "ours, duplicate matching on",
          "sickle": "Sickle, writing a file",
          "bare": "bare requests + lxml, writing a file"}


def render(results: Results) -> str:
    s, c = results.settings, results.chosen
    lines = [f"Harvester benchmark: oai_dc, {s['page_size']} records/page, our provider with "
             f"{s['workers']} gunicorn gthread workers (4 threads), seed {s['seed']}, "
             f"{s['repeats']} repeat(s) (median run shown), Python {s['python']}, "
             f"{s['cpus']} CPUs", "",
             f"n = {s['records']:,}"]
    rows = [HEADER] + [_row(LABELS[name], c[name]) for name in CLIENTS]
    if results.big is not None:
        rows.append(_row(f"ours, n = {results.big.expected:,}", results.big))
    lines += _table(rows)
    ours = c["ours"]
    lines += ["", "RATIOS (records/s; CPU per record)",
              f"  ours/Sickle: {ours.rate / c['sickle'].rate:.2f}x rate, "
              f"{ours.us_per_record / c['sickle'].us_per_record:.2f}x CPU per record",
              f"  ours/bare:   {ours.rate / c['bare'].rate:.2f}x rate, "
              f"{ours.us_per_record / c['bare'].us_per_record:.2f}x CPU per record",
              f"  ours with duplicate matching on: {c['matching'].rate / c['sickle'].rate:.2f}x "
              f"Sickle's rate, {c['matching'].rate / c['bare'].rate:.0%} of bare's"]
    if s["repeats"] > 1:
        lines += ["", "ALL RUNS (records/s)"] + [
            f"  {name}: " + ", ".join(f"{m.rate:,.0f}" for m in results.runs[name])
            for name in CLIENTS]
    measured = [*c.values(), *([results.big] if results.big else [])]
    problems = [f"{m.client} n={m.expected}: {p}" for m in measured for p in m.problems]
    lines += ["", "CHECKS"]
    lines += [f"  [FAIL] {p}" for p in problems] or [
        "  [PASS] every client received every record; ours stored every record"]
    lines += ["", "TARGETS"] + [
        f"  [{'PASS' if t['met'] else 'FAIL'}] {t['target']}: {t['figures']}"
        for t in results.targets]
    return "\n".join(lines)


def to_json(results: Results) -> dict[str, Any]:
    def one(m: Measurement) -> dict[str, Any]:
        return {**asdict(m), "rate": m.rate, "us_per_record": m.us_per_record}

    return {"settings": results.settings,
            "chosen": {name: one(m) for name, m in results.chosen.items()},
            "runs": {name: [one(m) for m in ms] for name, ms in results.runs.items()},
            "big": one(results.big) if results.big else None,
            "targets": results.targets}


# -- entry point ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000,
                        help="corpus size for the three-client comparison (default 20000)")
    parser.add_argument("--big", type=int, default=1_000_000,
                        help="corpus size for ours' flat-RSS check (default 1000000)")
    parser.add_argument("--skip-big", action="store_true", help="skip the big-corpus run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each client, order rotated; the median is kept "
                             "(default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: --records 5000 --big 20000")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.big = 5_000, 20_000
    if args.big <= args.records and not args.skip_big:
        parser.error("--big must be larger than --records")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def run(args: argparse.Namespace) -> Results:
    small = provider.ensure_corpus(args.records, args.seed)
    big_db = None if args.skip_big else provider.ensure_corpus(args.big, args.seed)
    settings = {"records": args.records, "big": None if args.skip_big else args.big,
                "seed": args.seed, "workers": args.workers, "page_size": args.page_size,
                "repeats": args.repeats, "python": sys.version.split()[0],
                "cpus": os.cpu_count()}
    chosen, runs = compare(small, args)
    big = big_run(big_db, args) if big_db is not None else None
    results = Results(settings, chosen, runs, big)
    results.targets = evaluate(results)
    return results


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    sys.exit(128 + signum)  # unwinds through the finally blocks that stop the server


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    results = run(args)
    print(render(results), flush=True)
    if args.json:
        args.json.write_text(json.dumps(to_json(results), indent=2) + "\n")
    measured = [*results.chosen.values(), *([results.big] if results.big else [])]
    ok = all(t["met"] for t in results.targets) and not any(m.problems for m in measured)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
