"""Capacity plan: what harvesting 10,000 OAI-PMH endpoints holding 300 million records takes.

A deterministic model, not a measurement. Its inputs are (a) the costs measured by the other
benches, read from their JSON outputs in bench/var/ (newest file of each kind; a documented
default when absent, so rerunning after a speed-up updates the plan), and (b) assumptions
about the outside world, each a command-line option whose default and source are listed in
docs/scale.md: the number of endpoints and records (CORE and BASE's published figures), a
heavy-tailed (lognormal) distribution of repository sizes, a lognormal per-page latency of
remote endpoints, the page size, the politeness interval and the daily change rate.

Politeness is one request at a time per host, a new request starting no sooner than the
minimum interval after the previous one started (as harvester/client.py spaces them), so an
endpoint's harvest is serial: pages x max(latency, interval). A worker is one concurrent
harvest slot; the makespan for W workers is computed by longest-first list scheduling, and is
never below the largest endpoint's serial time. See docs/scale.md.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
VAR = BENCH_DIR / "var"
DOC = BENCH_DIR.parent / "docs" / "scale.md"
BEGIN, END = "<!-- capacity:begin -->", "<!-- capacity:end -->"
WORKER_STEPS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


# -- measured inputs -----------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    value: float
    source: str  # the bench file it came from, or "default (...)"


def _best(var: Path, pattern: str, size: Callable[[Any], float],
          ) -> tuple[Path, Any] | None:
    """The run measured at the largest size; the newest among equals (a rerun after a
    speed-up replaces the figure it reran)."""
    found = []
    for path in var.glob(pattern):
        try:
            data = json.loads(path.read_text())
            found.append((float(size(data)), path.stat().st_mtime, path, data))
        except (ValueError, KeyError, IndexError, TypeError, OSError):
            continue
    if not found:
        return None
    _, _, path, data = max(found, key=lambda f: (f[0], f[1]))
    return path, data


def _read(var: Path, pattern: str, size: Callable[[Any], float], pick: Callable[[Any], float],
          default: float, default_source: str) -> Measured:
    best = _best(var, pattern, size)
    if best is not None:
        try:
            value = float(pick(best[1]))
            if value > 0:
                return Measured(value, f"bench/var/{best[0].name}")
        except (ValueError, KeyError, IndexError, TypeError, StopIteration):
            pass
    return Measured(default, f"default ({default_source})")


def _records(data: Any) -> float:
    return float(data["records"])


def _harvested(data: Any) -> float:
    return float(data["chosen"]["ours"]["expected"])


def _deep_scope(data: Any, label: str) -> dict[str, Any]:
    return next(s for s in data["scopes"] if s["label"] == label)


def measured_inputs(var: Path = VAR) -> dict[str, Measured]:
    """Every measured cost the plan uses, with where it came from."""
    return {
        "provider_records_per_s": _read(
            var, "formats*.json", lambda d: d["records"],
            lambda d: next(s["records"] / s["seconds"] for s in d["served"]
                           if s["prefix"] == "oai_dc"),
            14_314, "bench/formats.py run of 2026-11-30, 100,000 oai_dc records in 6.99 s"),
        "provider_page_ms_deep": _read(
            var, "deep_pages*.json", _records,
            lambda d: max(_deep_scope(d, "ListRecords")["early_ms"],
                          _deep_scope(d, "ListRecords")["last_ms"]),
            5.2, "bench/deep_pages.py --quick, 200,000 records"),
        "provider_records_per_s_deep": _read(
            var, "deep_pages*.json", _records,
            lambda d: _deep_scope(d, "ListRecords")["end_rate"],
            14_417, "bench/deep_pages.py --quick, 200,000 records"),
        "provider_count_ms_deep": _read(
            var, "deep_pages*.json", _records,
            lambda d: _deep_scope(d, "ListRecords")["count_ms"],
            25.0, "bench/deep_pages.py --quick, 200,000 records"),
        "provider_records_deep": _read(
            var, "deep_pages*.json", _records, _records, 200_000,
            "bench/deep_pages.py --quick"),
        "harvester_records_per_s": _read(
            var, "harvest*.json", _harvested, lambda d: d["chosen"]["ours"]["rate"],
            5_000, "assumed; run bench/harvest.py --json"),
        "harvester_cpu_us_per_record": _read(
            var, "harvest*.json", _harvested,
            lambda d: d["chosen"]["ours"]["us_per_record"],
            200, "assumed; run bench/harvest.py --json"),
        "reconcile_ids_per_s": _read(
            var, "reconcile*.json", lambda d: max(r["count"] for r in d),
            lambda d: max(d, key=lambda r: r["count"])["rate"],
            3_852, "bench/README.md, 100,000 identifiers, SQLite"),
        "duplicates_records_per_s": _read(
            var, "duplicates*.json", _records, lambda d: d["rate"],
            1_121, "bench/README.md, 1,000,000 records, SQLite"),
        "bytes_per_record": _read(
            var, "deep_pages*.json", _records, lambda d: d["build"]["bytes_per_record"],
            3_560, "bench/deep_pages.py --quick: records + oai_dc renditions + set "
            "memberships, PostgreSQL, indexes included"),
    }


# -- the modelled world --------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    endpoints: int = 10_000
    records: int = 300_000_000
    size_sigma: float = 2.0  # lognormal sigma of repository sizes (heavy tail)
    latency_median_s: float = 0.8  # per ListRecords page of a remote endpoint
    latency_sigma: float = 0.9
    page_size: int = 100
    min_interval_s: float = 1.0  # politeness: start-to-start gap per host
    daily_change: float = 0.0005  # share of records added or changed per day
    sweep_target_h: float = 168.0  # a full sweep a week
    daily_target_h: float = 6.0  # the daily incremental round within six hours
    seed: int = 1


def _normal_quantile(p: float) -> float:
    return statistics.NormalDist().inv_cdf(p)


def repository_sizes(world: World) -> list[int]:
    """Endpoint sizes at the lognormal's quantiles, scaled to sum to exactly `records`
    (largest-remainder rounding, at least one record each), largest first."""
    n = world.endpoints
    raw = [math.exp(world.size_sigma * _normal_quantile((i + 0.5) / n)) for i in range(n)]
    scale = (world.records - n) / sum(raw)
    shares = [r * scale for r in raw]
    sizes = [1 + int(s) for s in shares]
    short = world.records - sum(sizes)
    for i in sorted(range(n), key=lambda i: shares[i] - int(shares[i]), reverse=True)[:short]:
        sizes[i] += 1
    return sorted(sizes, reverse=True)


def page_latencies(world: World) -> list[float]:
    """One per-page latency per endpoint (seconds), drawn from the lognormal with a fixed
    seed, independent of the endpoint's size."""
    rng = random.Random(world.seed)
    mu = math.log(world.latency_median_s)
    return [rng.lognormvariate(mu, world.latency_sigma) for _ in range(world.endpoints)]


def makespan(jobs: Sequence[float], workers: int) -> float:
    """Longest-first list scheduling of `jobs` (seconds) on `workers` slots."""
    slots = [0.0] * min(workers, max(len(jobs), 1))
    heapq.heapify(slots)
    for job in sorted(jobs, reverse=True):
        heapq.heappush(slots, heapq.heappop(slots) + job)
    return max(slots)


def workers_needed(jobs: Sequence[float], target_s: float) -> int | None:
    """The fewest slots finishing within `target_s`; None if the largest job alone is longer
    (politeness makes it impossible whatever the number of workers)."""
    if max(jobs) > target_s:
        return None
    low, high = 1, len(jobs)
    while low < high:
        mid = (low + high) // 2
        if makespan(jobs, mid) <= target_s:
            high = mid
        else:
            low = mid + 1
    return low


@dataclass
class Round:
    requests: int
    records: int
    jobs: list[float]  # serial seconds per endpoint

    @property
    def work_h(self) -> float:
        return sum(self.jobs) / 3600


def sweep(sizes: Sequence[int], latencies: Sequence[float], world: World,
          per_endpoint: Callable[[int], int]) -> Round:
    """A round in which endpoint i is sent per_endpoint(size_i) requests."""
    jobs, requests, records = [], 0, 0
    for size, latency in zip(sizes, latencies, strict=True):
        count = per_endpoint(size)
        requests += count
        jobs.append(count * max(latency, world.min_interval_s))
    return Round(requests, records, jobs)


def plan(world: World, inputs: dict[str, Measured]) -> dict[str, Any]:
    sizes = repository_sizes(world)
    latencies = page_latencies(world)
    pages = world.page_size

    def full(size: int) -> int:
        return 1 + math.ceil(size / pages)  # Identify + the list pages

    def daily(size: int) -> int:
        changed = math.ceil(size * world.daily_change)
        return 1 + max(1, math.ceil(changed / pages))  # Identify + at least one list request

    full_round = sweep(sizes, latencies, world, full)
    full_round.records = sum(sizes)
    daily_round = sweep(sizes, latencies, world, daily)
    daily_round.records = sum(math.ceil(s * world.daily_change) for s in sizes)
    cpu_us = inputs["harvester_cpu_us_per_record"].value
    top = max(1, world.endpoints // 100)
    steps = [w for w in WORKER_STEPS if w <= world.endpoints]
    full_need = workers_needed(full_round.jobs, world.sweep_target_h * 3600)
    daily_need = workers_needed(daily_round.jobs, world.daily_target_h * 3600)
    full_at = {w: makespan(full_round.jobs, w) / 3600 for w in steps}
    daily_at = {w: makespan(daily_round.jobs, w) / 3600 for w in steps}
    # the sweep finishing in its target (or at the politeness floor): how fast records arrive,
    # against what one harvest process stores per second (measured on loopback)
    full_h = makespan(full_round.jobs, full_need) / 3600 if full_need else \
        max(full_round.jobs) / 3600
    ingest = full_round.records / (full_h * 3600)
    floor_need = workers_needed(full_round.jobs, max(full_round.jobs) * 1.01)
    floor_h = makespan(full_round.jobs, floor_need or 1) / 3600
    host_rates = [1 / max(lat, world.min_interval_s) for lat in latencies]
    total = sum(sizes)
    provider_rate = inputs["provider_records_per_s_deep"].value
    return {
        "world": asdict(world),
        "inputs": {k: asdict(v) for k, v in inputs.items()},
        "sizes": {"endpoints": len(sizes), "records": total, "largest": sizes[0],
                  "p99": sizes[len(sizes) // 100], "p90": sizes[len(sizes) // 10],
                  "median": sizes[len(sizes) // 2], "smallest": sizes[-1],
                  "top1pct_share": sum(sizes[:top]) / total},
        "latency_s": {"median": statistics.median(latencies),
                      "p90": sorted(latencies)[int(len(latencies) * 0.9)],
                      "p99": sorted(latencies)[int(len(latencies) * 0.99)]},
        "full": {"requests": full_round.requests, "records": full_round.records,
                 "work_h": full_round.work_h, "largest_endpoint_h": max(full_round.jobs) / 3600,
                 "hours_by_workers": full_at, "workers_needed": full_need,
                 "target_h": world.sweep_target_h,
                 "cpu_core_h": full_round.records * cpu_us / 1e6 / 3600,
                 "hours_at_need": full_h, "ingest_records_per_s": ingest,
                 "storing_processes": math.ceil(
                     ingest / inputs["harvester_records_per_s"].value),
                 "cores_at_need": full_round.records * cpu_us / 1e6 / (full_h * 3600),
                 "floor_workers": floor_need, "floor_h": floor_h,
                 "floor_ingest_records_per_s": full_round.records / (floor_h * 3600)},
        "daily": {"requests": daily_round.requests, "records": daily_round.records,
                  "work_h": daily_round.work_h,
                  "largest_endpoint_h": max(daily_round.jobs) / 3600,
                  "hours_by_workers": daily_at, "workers_needed": daily_need,
                  "target_h": world.daily_target_h,
                  "cpu_core_h": daily_round.records * cpu_us / 1e6 / 3600},
        "per_host": {"max_requests_per_s": max(host_rates),
                     "median_requests_per_s": statistics.median(host_rates)},
        "database": {"bytes": total * inputs["bytes_per_record"].value},
        "reconcile": {"cpu_h": total / inputs["reconcile_ids_per_s"].value / 3600,
                      "requests": sum(math.ceil(s / pages) for s in sizes)},
        "duplicates": {"initial_cpu_h": total / inputs["duplicates_records_per_s"].value / 3600,
                       "daily_cpu_h": daily_round.records
                       / inputs["duplicates_records_per_s"].value / 3600},
        "provider": {"full_harvest_h": total / provider_rate / 3600,
                     "page_ms_deep": inputs["provider_page_ms_deep"].value,
                     "count_ms_deep": inputs["provider_count_ms_deep"].value,
                     "count_ms_at_total": inputs["provider_count_ms_deep"].value
                     * total / inputs["provider_records_deep"].value},
    }


# -- output --------------------------------------------------------------------------------


def _h(hours: float) -> str:
    if hours < 1:
        return f"{hours * 60:,.1f} min"
    return f"{hours:,.1f} h" if hours < 48 else f"{hours / 24:,.1f} days"


def render(p: dict[str, Any]) -> str:
    w, s, f, d = p["world"], p["sizes"], p["full"], p["daily"]
    lines = ["Measured inputs:", "", "| input | value | from |", "|---|---:|---|"]
    for name, m in p["inputs"].items():
        lines.append(f"| {name} | {m['value']:,.1f} | {m['source']} |")
    lines += [
        "", f"Modelled: {w['endpoints']:,} endpoints, {s['records']:,} records; sizes "
        f"lognormal sigma {w['size_sigma']}: median {s['median']:,}, p90 {s['p90']:,}, "
        f"p99 {s['p99']:,}, largest {s['largest']:,}, smallest {s['smallest']:,}; the top 1% "
        f"of endpoints hold {s['top1pct_share']:.0%} of the records. Page latency lognormal: "
        f"median {p['latency_s']['median']:.2f} s, p90 {p['latency_s']['p90']:.2f} s, "
        f"p99 {p['latency_s']['p99']:.2f} s; {w['page_size']} records a page; politeness "
        f"one request at a time per host, >= {w['min_interval_s']} s apart; daily change "
        f"{w['daily_change']:.2%} of the records.", "",
        "| round | requests | records | serial work | largest endpoint alone | "
        "workers for target | client CPU |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in (("full sweep", f), ("daily incremental", d)):
        need = (f"{r['workers_needed']:,} (within {_h(r['target_h'])})"
                if r["workers_needed"] else f"impossible within {_h(r['target_h'])}")
        lines.append(f"| {name} | {r['requests']:,} | {r['records']:,} | {_h(r['work_h'])} | "
                     f"{_h(r['largest_endpoint_h'])} | {need} | "
                     f"{_h(r['cpu_core_h'])} of one core |")
    lines += ["", "| workers | full sweep | daily round |", "|---:|---:|---:|"]
    for workers, hours in f["hours_by_workers"].items():
        lines.append(f"| {workers} | {_h(hours)} | {_h(d['hours_by_workers'][workers])} |")
    pr = p["provider"]
    harvest_rate = p["inputs"]["harvester_records_per_s"]["value"]
    lines += [
        "", f"A full sweep in {_h(f['hours_at_need'])} brings "
        f"{f['ingest_records_per_s']:,.0f} records/s on average: at the measured "
        f"{p['inputs']['harvester_records_per_s']['value']:,.0f} records/s a harvest process "
        "stores, that is the work of "
        f"{f['storing_processes']:,} storing process(es) and {f['cores_at_need']:,.1f} cores of "
        "client CPU, spread over the workers. The fastest sweep politeness allows (the "
        f"largest endpoint alone) takes {_h(f['floor_h'])} with {f['floor_workers']:,} "
        f"workers: {f['floor_ingest_records_per_s']:,.0f} records/s, "
        f"{math.ceil(f['floor_ingest_records_per_s'] / harvest_rate):,} storing process(es).",
        "", f"Request rate per host: at most {p['per_host']['max_requests_per_s']:.2f}/s "
        f"(the politeness interval), median {p['per_host']['median_requests_per_s']:.2f}/s.",
        f"Database: {p['database']['bytes'] / 1e12:,.2f} TB at "
        f"{p['inputs']['bytes_per_record']['value']:,.0f} bytes a record (oai_dc only).",
        f"Reconciliation: {p['reconcile']['requests']:,} ListIdentifiers requests a pass "
        f"(network-bound like a sweep), {_h(p['reconcile']['cpu_h'])} of local work at "
        "the measured rate.",
        f"Duplicate matching: {_h(p['duplicates']['initial_cpu_h'])} for the initial load "
        f"on one process, {_h(p['duplicates']['daily_cpu_h'])} a day.",
        f"Serving the aggregate with `oai serve` (2 workers, PostgreSQL): a full ListRecords "
        f"harvest of it by one client takes {_h(pr['full_harvest_h'])} at the rate measured "
        "at depth; a page costs "
        f"{pr['page_ms_deep']:.1f} ms at any depth; counting the whole list for "
        f"completeListSize would cost ~{pr['count_ms_at_total'] / 1000:,.1f} s a first page "
        "at this size if it grows linearly."]
    return "\n".join(lines)


def write_doc(text: str, doc: Path = DOC) -> None:
    """Replace the figures between the capacity markers of docs/scale.md."""
    content = doc.read_text()
    head, found, rest = content.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not found or not found_end:
        raise SystemExit(f"{doc} has no {BEGIN} ... {END} section")
    doc.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = World()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--endpoints", type=int, default=defaults.endpoints)
    parser.add_argument("--records", type=int, default=defaults.records)
    parser.add_argument("--size-sigma", type=float, default=defaults.size_sigma)
    parser.add_argument("--latency-median", type=float, default=defaults.latency_median_s)
    parser.add_argument("--latency-sigma", type=float, default=defaults.latency_sigma)
    parser.add_argument("--page-size", type=int, default=defaults.page_size)
    parser.add_argument("--min-interval", type=float, default=defaults.min_interval_s)
    parser.add_argument("--daily-change", type=float, default=defaults.daily_change)
    parser.add_argument("--sweep-target-hours", type=float, default=defaults.sweep_target_h)
    parser.add_argument("--daily-target-hours", type=float, default=defaults.daily_target_h)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--var", type=Path, default=VAR, help="where the bench JSON files are")
    parser.add_argument("--quick", action="store_true", help="500 endpoints, 15M records")
    parser.add_argument("--json", type=Path, help="also write the plan to this file")
    parser.add_argument("--write-doc", action="store_true",
                        help="replace docs/scale.md's figures section with this output")
    args = parser.parse_args(argv)
    if args.quick:
        args.endpoints, args.records = 500, 15_000_000
    if args.endpoints < 1 or args.records < args.endpoints or args.page_size < 1:
        parser.error("need at least one endpoint, one record per endpoint and a page size")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    world = World(args.endpoints, args.records, args.size_sigma, args.latency_median,
                  args.latency_sigma, args.page_size, args.min_interval, args.daily_change,
                  args.sweep_target_hours, args.daily_target_hours, args.seed)
    result = plan(world, measured_inputs(args.var))
    text = render(result)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if args.write_doc:
        write_doc(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
