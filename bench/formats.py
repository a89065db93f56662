"""Metadata formats benchmark: what rendering every record in every installed format costs.

Prints, on N generated records (default 100,000):
  1. render and validate microseconds per record per format (one process, a sample);
  2. `oai load` records/s with every format against oai_dc alone (OAI_FORMATS=oai_dc), both
     on every CPU, plus oai_dc alone on one process (how loading worked before formats were
     rendered in workers), each a whole process into a fresh SQLite store, and the load's peak
     RSS (main process and each worker) at N/10 and N, to show memory stays flat;
  3. `oai formats rebuild --all` records/s and peak RSS on the loaded store;
  4. fetch-only ListRecords throughput of every format from `oai serve`, in records/s and in
     MB/s, with the ratio to oai_dc per byte served.
Targets (issue 7): load with all formats >= 50% of today's oai_dc-only load (one process, as
`oai load` worked before formats; the ratio to oai_dc alone on every CPU is printed too);
every format served within 20% of oai_dc's bytes/s. The exit status is 0 only if both hold.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import provider  # bench/provider.py: corpus helpers, servers, the fetch-only client

from oai.fixtures.generate import generate_records
from oai.formats import installed
from oai.protocol.records import validate_record
from oai.protocol.rendering import _PARSER
from oai.protocol.schemas import validate_fragment

VAR = provider.VAR
OAI = str(Path(sys.executable).with_name("oai"))
TARGET_LOAD_RATIO = 0.5
TARGET_SERVE_RATIO = 0.8
FLAT_RSS_TOLERANCE = 1.25


def log(message: str) -> None:
    provider.log(message)


# -- corpus --------------------------------------------------------------------------------


def corpus(count: int, seed: int) -> Path:
    """N generated records as JSON Lines (cached in bench/var/)."""
    path = VAR / f"formats-n{count}-seed{seed}.jsonl"
    if not path.exists():
        VAR.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8") as out:
            for rec in generate_records(count, seed):
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        partial.rename(path)
    return path


def head(path: Path, count: int) -> Path:
    """The first `count` lines of a corpus, as a file of their own."""
    target = path.with_name(f"{path.stem}-head{count}.jsonl")
    if not target.exists():
        with path.open(encoding="utf-8") as src, target.open("w", encoding="utf-8") as out:
            for _ in range(count):
                out.write(src.readline())
    return target


# -- 1. rendering costs --------------------------------------------------------------------


@dataclass
class RenderCost:
    prefix: str
    carried: int
    render_us: float
    validate_us: float
    bytes_per_record: float


def render_costs(path: Path, sample: int) -> tuple[float, list[RenderCost]]:
    """Record validation µs, then per format crosswalk µs and parse+schema-check µs."""
    from lxml import etree

    with path.open(encoding="utf-8") as fh:
        raw = [json.loads(line) for _, line in zip(range(sample), fh, strict=False)]
    started = time.perf_counter()
    records = [validate_record(r) for r in raw]
    record_us = (time.perf_counter() - started) / len(records) * 1e6
    costs = []
    for prefix, fmt in installed().items():
        carried = [r for r in records if fmt.unavailable(r) is None]
        if not carried:
            costs.append(RenderCost(prefix, 0, 0.0, 0.0, 0.0))
            continue
        validate_fragment(fmt.namespace, fmt.crosswalk(carried[0]))  # compile the schema
        started = time.perf_counter()
        fragments = [fmt.crosswalk(r) for r in carried]
        rendered = time.perf_counter() - started
        started = time.perf_counter()
        for fragment in fragments:
            validate_fragment(fmt.namespace, etree.fromstring(fragment.encode("utf-8"), _PARSER))
        checked = time.perf_counter() - started
        size = sum(len(f.encode("utf-8")) for f in fragments) / len(fragments)
        costs.append(RenderCost(prefix, len(carried), rendered / len(carried) * 1e6,
                                checked / len(carried) * 1e6, size))
    return record_us, costs


# -- 2, 3. whole processes -----------------------------------------------------------------


@dataclass
class ProcessRun:
    label: str
    records: int
    seconds: float
    main_rss_mb: float
    worker_rss_mb: float  # the largest of its workers' peaks (0: no workers)
    output: str = ""

    @property
    def rate(self) -> float:
        return self.records / self.seconds


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def timed(label: str, command: list[str], env: dict[str, str], records: int) -> ProcessRun:
    """A whole process: wall seconds, its peak RSS and its workers' (VmHWM, polled)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [threading.Thread(target=lambda s=s, b=b: b.append(s.read()), daemon=True)
               for s, b in ((process.stdout, out), (process.stderr, err))]
    for reader in readers:
        reader.start()
    main_peak = worker_peak = 0.0
    polls = 0
    while process.poll() is None:
        with contextlib.suppress(OSError, RuntimeError):
            main_peak = max(main_peak, provider.status_mb(process.pid, "VmHWM"))
        if polls % 10 == 0:  # the process tree is costlier to walk
            for pid in _descendants(process.pid):
                with contextlib.suppress(OSError, RuntimeError):
                    worker_peak = max(worker_peak, provider.status_mb(pid, "VmHWM"))
        polls += 1
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    for reader in readers:
        reader.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} exited with {process.returncode}: "
                           f"{b''.join(err).decode(errors='replace')[-500:]}")
    return ProcessRun(label, records, seconds, main_peak, worker_peak,
                      b"".join(out).decode("utf-8"))


def _env(db: Path, formats: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env.update(OAI_DATABASE_URL=f"sqlite:///{db}", OAI_SAFETY_LAG="0",
               OAI_REPOSITORY_IDENTIFIER=provider.REPOSITORY_ID)
    if formats:
        env["OAI_FORMATS"] = formats
    return env


def load(label: str, source: Path, records: int, db: Path, formats: str | None,
         jobs: int | None) -> ProcessRun:
    provider._remove_sqlite(db)
    subprocess.run([OAI, "init"], env=_env(db, formats), check=True, capture_output=True)
    command = [OAI, "load", "--create-sets", "--json", str(source)]
    if jobs:
        command += ["--jobs", str(jobs)]
    run = timed(label, command, _env(db, formats), records)
    summary = json.loads(run.output)
    if not summary["ok"] or summary["added"] != records:
        raise RuntimeError(f"{label}: load summary {summary}")
    return run


def rebuild(db: Path, records: int) -> ProcessRun:
    return timed("rebuild --all", [OAI, "formats", "rebuild", "--all", "--json"], _env(db),
                 records * len(installed()))


# -- 4. serving ----------------------------------------------------------------------------


@dataclass
class Served:
    prefix: str
    records: int
    megabytes: float
    seconds: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    @property
    def mb_per_s(self) -> float:
        return self.megabytes / self.seconds


def serve_all(db: Path, harvests: int, workers: int, page_size: int) -> list[Served]:
    served = []
    with provider.running(lambda: provider.start_ours(db, workers, page_size)) as server:
        prefixes = list(installed())
        runs: dict[str, list[provider.Harvest]] = {p: [] for p in prefixes}
        for round_ in range(harvests):  # formats interleaved: drift hits them all alike
            for prefix in prefixes[round_ % len(prefixes):] + prefixes[:round_ % len(prefixes)]:
                runs[prefix].append(provider.fetch_harvest(server.url, prefix=prefix))
        for prefix in prefixes:
            best = sorted(runs[prefix], key=lambda h: h.seconds)[len(runs[prefix]) // 2]
            served.append(Served(prefix, best.records, best.bytes / 1e6, best.seconds))
    return served


# -- report --------------------------------------------------------------------------------


@dataclass
class Results:
    records: int
    record_validate_us: float = 0.0
    costs: list[RenderCost] = field(default_factory=list)
    loads: list[ProcessRun] = field(default_factory=list)
    small_load: ProcessRun | None = None
    rebuild: ProcessRun | None = None
    served: list[Served] = field(default_factory=list)

    def load_rate(self, label: str) -> float:
        return statistics.median(r.rate for r in self.loads if r.label == label)


def evaluate(results: Results) -> list[tuple[str, bool, str]]:
    checks = []
    all_rate = results.load_rate("all formats")
    today, dc_rate = results.load_rate("oai_dc only, 1 process"), results.load_rate("oai_dc only")
    # the target: today's loader, oai_dc only in one process (before formats existed)
    checks.append(("load with every format >= 50% of today's oai_dc-only load (1 process)",
                   all_rate >= TARGET_LOAD_RATIO * today,
                   f"{all_rate:.0f} vs {today:.0f} records/s = {all_rate / today:.2f}; "
                   f"against oai_dc alone on every CPU {dc_rate:.0f} records/s = "
                   f"{all_rate / dc_rate:.2f}"))
    big = [r for r in results.loads if r.label == "all formats"]
    if results.small_load is not None and big:
        small, large = results.small_load, max(big, key=lambda r: r.worker_rss_mb)
        flat = (large.main_rss_mb <= FLAT_RSS_TOLERANCE * small.main_rss_mb
                and large.worker_rss_mb <= FLAT_RSS_TOLERANCE * small.worker_rss_mb)
        checks.append(("load memory flat (N/10 -> N, within 25%)", flat,
                       f"main {small.main_rss_mb:.0f} -> {large.main_rss_mb:.0f} MB, workers "
                       f"{small.worker_rss_mb:.0f} -> {large.worker_rss_mb:.0f} MB"))
    dc = next((s for s in results.served if s.prefix == "oai_dc"), None)
    for s in results.served:
        if dc is None or s.prefix == "oai_dc":
            continue
        ratio = s.mb_per_s / dc.mb_per_s
        checks.append((f"serving {s.prefix} within 20% of oai_dc per byte",
                       ratio >= TARGET_SERVE_RATIO, f"{s.mb_per_s:.1f} vs {dc.mb_per_s:.1f} "
                       f"MB/s = {ratio:.2f}"))
    return checks


def render(results: Results) -> str:
    lines = [f"Metadata formats benchmark, {results.records:,} generated records, "
             f"{os.cpu_count()} CPUs", "",
             f"record validation (JSON schema): {results.record_validate_us:.0f} us/record", "",
             f"{'format':<14}{'carried':>9}{'render us':>11}{'validate us':>13}"
             f"{'bytes/rec':>11}"]
    for c in results.costs:
        lines.append(f"{c.prefix:<14}{c.carried:>9}{c.render_us:>11.0f}{c.validate_us:>13.0f}"
                     f"{c.bytes_per_record:>11.0f}")
    total = sum(c.render_us + c.validate_us for c in results.costs)
    lines += [f"{'all formats':<14}{'':>9}{total:>24.0f} (one process)", "",
              f"{'oai load':<28}{'records/s':>10}{'seconds':>9}{'main MB':>9}{'worker MB':>10}"]
    for r in [*results.loads, *([results.small_load] if results.small_load else []),
              *([results.rebuild] if results.rebuild else [])]:
        lines.append(f"{r.label:<28}{r.rate:>10.0f}{r.seconds:>9.1f}{r.main_rss_mb:>9.0f}"
                     f"{r.worker_rss_mb:>10.0f}")
    if results.served:
        dc = next(s for s in results.served if s.prefix == "oai_dc")
        lines += ["", f"{'ListRecords':<14}{'records/s':>10}{'MB/s':>8}{'bytes/rec':>11}"
                      f"{'vs oai_dc per byte':>20}"]
        for s in results.served:
            lines.append(f"{s.prefix:<14}{s.rate:>10.0f}{s.mb_per_s:>8.1f}"
                         f"{s.megabytes * 1e6 / max(1, s.records):>11.0f}"
                         f"{s.mb_per_s / dc.mb_per_s:>20.2f}")
    lines.append("")
    for name, ok, detail in evaluate(results):
        lines.append(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=5_000,
                        help="records timed per format for the render/validate costs")
    parser.add_argument("--repeats", type=int, default=1, help="loads per configuration")
    parser.add_argument("--harvests", type=int, default=3, help="harvests per format")
    parser.add_argument("--workers", type=int, default=2, help="oai serve workers")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--skip-serve", action="store_true")
    parser.add_argument("--skip-rebuild", action="store_true")
    parser.add_argument("--quick", action="store_true", help="10,000 records, smaller sample")
    parser.add_argument("--json", dest="json_path", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.sample = 10_000, 1_000
    return args


def run(args: argparse.Namespace) -> Results:
    source = corpus(args.records, args.seed)
    results = Results(args.records)
    log(f"render costs on {args.sample} records")
    results.record_validate_us, results.costs = render_costs(source, args.sample)
    configurations = [("oai_dc only, 1 process", "oai_dc", 1), ("oai_dc only", "oai_dc", None),
                      ("all formats", None, None)]
    db = VAR / "formats-load.sqlite"
    for repeat in range(args.repeats):
        shift = repeat % len(configurations)
        for label, formats, jobs in configurations[shift:] + configurations[:shift]:
            log(f"oai load: {label}")
            results.loads.append(load(label, source, args.records, db, formats, jobs))
    small = max(1, args.records // 10)
    log(f"oai load: all formats, {small} records (memory)")
    results.small_load = load(f"all formats, {small:,} records", head(source, small), small,
                              VAR / "formats-small.sqlite", None, None)
    log("oai load: all formats (kept for serving)")
    kept = load("all formats", source, args.records, db, None, None)
    results.loads.append(kept)
    if not args.skip_rebuild:
        log("oai formats rebuild --all")
        results.rebuild = rebuild(db, args.records)
    if not args.skip_serve:
        log("serving every format")
        results.served = serve_all(db, args.harvests, args.workers, args.page_size)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = run(args)
    print(render(results))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(asdict(results), indent=2))
    return 0 if all(ok for _, ok, _ in evaluate(results)) else 1


if __name__ == "__main__":
    sys.exit(main())
