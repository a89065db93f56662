"""bench/capacity.py: the capacity model's numbers are consistent with its inputs."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import PROJECT

SCRIPT = PROJECT / "bench" / "capacity.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_capacity", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


cap = _load()
SMALL = cap.World(endpoints=300, records=2_000_000, seed=3)


def test_sizes_sum_to_the_records_and_are_heavy_tailed() -> None:
    sizes = cap.repository_sizes(SMALL)
    assert len(sizes) == SMALL.endpoints
    assert sum(sizes) == SMALL.records
    assert min(sizes) >= 1
    assert sizes == sorted(sizes, reverse=True)
    # most repositories small, a few huge: the top 1% hold far more than 1%
    assert sum(sizes[:3]) / SMALL.records > 0.1
    assert sizes[len(sizes) // 2] < SMALL.records / SMALL.endpoints


def test_makespan_shrinks_with_workers_and_respects_its_bounds() -> None:
    jobs = [float(j) for j in (100, 40, 40, 30, 20, 10, 10, 5, 5, 1)]
    previous = math.inf
    for workers in range(1, 12):
        span = cap.makespan(jobs, workers)
        assert span <= previous
        assert span >= max(jobs) and span >= sum(jobs) / workers
        previous = span
    assert cap.makespan(jobs, 1) == sum(jobs)
    assert cap.makespan(jobs, 50) == max(jobs)


def test_workers_needed_is_the_fewest_that_meet_the_target() -> None:
    jobs = [float(j) for j in range(1, 60)]
    need = cap.workers_needed(jobs, 200.0)
    assert need is not None
    assert cap.makespan(jobs, need) <= 200.0
    assert need == 1 or cap.makespan(jobs, need - 1) > 200.0
    assert cap.workers_needed(jobs, 58.0) is None  # the largest job alone is longer


def test_plan_totals_follow_the_size_distribution(tmp_path: Path) -> None:
    result = cap.plan(SMALL, cap.measured_inputs(tmp_path))
    sizes = cap.repository_sizes(SMALL)
    full = result["full"]
    assert full["records"] == sum(sizes) == SMALL.records
    assert full["requests"] == sum(1 + math.ceil(s / SMALL.page_size) for s in sizes)
    hours = list(full["hours_by_workers"].values())
    assert hours == sorted(hours, reverse=True)  # more workers, fewer hours
    assert hours[-1] >= full["largest_endpoint_h"] - 1e-9
    assert hours[0] == pytest.approx(full["work_h"])  # one worker: all the serial work
    rate = result["inputs"]["harvester_records_per_s"]["value"]
    assert full["ingest_records_per_s"] == pytest.approx(
        SMALL.records / (full["hours_at_need"] * 3600))
    assert (full["storing_processes"] - 1) * rate < full["ingest_records_per_s"] \
        <= full["storing_processes"] * rate
    daily = result["daily"]
    assert daily["requests"] >= 2 * SMALL.endpoints and daily["work_h"] < full["work_h"]
    assert result["database"]["bytes"] == pytest.approx(
        SMALL.records * result["inputs"]["bytes_per_record"]["value"])
    assert result["per_host"]["max_requests_per_s"] <= 1 / SMALL.min_interval_s


def test_inputs_come_from_the_newest_bench_output(tmp_path: Path) -> None:
    defaults = cap.measured_inputs(tmp_path)
    assert all(m.source.startswith("default") for m in defaults.values())
    older = tmp_path / "harvest-old.json"
    older.write_text(json.dumps({"chosen": {"ours": {"rate": 111.0, "us_per_record": 9.0,
                                                     "expected": 5000}}}))
    newer = tmp_path / "harvest-new.json"
    newer.write_text(json.dumps({"chosen": {"ours": {"rate": 222.0, "us_per_record": 8.0,
                                                     "expected": 5000}}}))
    os.utime(older, (time.time() - 100, time.time() - 100))
    inputs = cap.measured_inputs(tmp_path)
    assert inputs["harvester_records_per_s"] == cap.Measured(222.0, "bench/var/harvest-new.json")
    assert inputs["harvester_cpu_us_per_record"].value == 8.0
    # a run at a larger size wins over a newer small one (start-up weighs less there)
    bigger = tmp_path / "harvest-big.json"
    bigger.write_text(json.dumps({"chosen": {"ours": {"rate": 333.0, "us_per_record": 7.0,
                                                      "expected": 50_000}}}))
    os.utime(bigger, (time.time() - 50, time.time() - 50))
    assert cap.measured_inputs(tmp_path)["harvester_records_per_s"].value == 333.0
    # a faster duplicate matcher shortens the plan's matching time
    (tmp_path / "duplicates-x.json").write_text(json.dumps({"rate": 10 * 1_121, "records": 20_000}))
    faster = cap.plan(SMALL, cap.measured_inputs(tmp_path))["duplicates"]["initial_cpu_h"]
    slower = cap.plan(SMALL, defaults)["duplicates"]["initial_cpu_h"]
    assert faster == pytest.approx(slower / 10)


def test_write_doc_replaces_only_the_figures(tmp_path: Path) -> None:
    doc = tmp_path / "scale.md"
    doc.write_text(f"# Title\n\nbefore\n\n{cap.BEGIN}\nold figures\n{cap.END}\n\nafter\n")
    cap.write_doc("new figures", doc)
    assert doc.read_text() == (f"# Title\n\nbefore\n\n{cap.BEGIN}\nnew figures\n{cap.END}"
                               "\n\nafter\n")


def test_the_script_runs_quick_and_writes_consistent_json(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--var", str(tmp_path),
                           "--json", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "full sweep" in done.stdout and "daily incremental" in done.stdout
    plan = json.loads(out.read_text())
    assert plan["sizes"]["endpoints"] == 500 and plan["sizes"]["records"] == 15_000_000
    bad = subprocess.run([sys.executable, str(SCRIPT), "--endpoints", "0"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
