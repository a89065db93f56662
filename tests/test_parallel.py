"""The worker pool behind `oai load` and `oai formats rebuild`: results in input order, input
read only a bounded distance ahead of the results (memory stays flat), failures raised in the
caller, and no worker outliving a caller that was killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oai.parallel import AHEAD, ordered_map
from tests.conftest import PROJECT


def square_with_pid(chunk: list[int]) -> list[tuple[int, int]]:
    return [(n * n, os.getpid()) for n in chunk]


def fail_on_13(chunk: list[int]) -> list[int]:
    if 13 in chunk:
        raise ValueError("unlucky 13")
    return chunk


def test_results_come_back_in_input_order_from_several_processes() -> None:
    out = list(ordered_map(square_with_pid, range(2000), jobs=2, chunk=16, inline_below=100))
    assert [n for n, _ in out] == list(range(2000))
    assert [sq for _, (sq, _pid) in out] == [n * n for n in range(2000)]
    workers = {pid for _, (_sq, pid) in out}
    assert os.getpid() not in workers and len(workers) == 2


def test_small_inputs_stay_in_this_process() -> None:
    out = list(ordered_map(square_with_pid, range(50), jobs=2, chunk=16, inline_below=100))
    assert {pid for _, (_sq, pid) in out} == {os.getpid()}
    assert [sq for _, (sq, _pid) in out] == [n * n for n in range(50)]


def test_the_input_is_read_a_bounded_distance_ahead() -> None:
    consumed = 0

    def source():  # type: ignore[no-untyped-def]
        nonlocal consumed
        for n in range(100_000):
            consumed = n + 1
            yield n

    results = ordered_map(square_with_pid, source(), jobs=2, chunk=10, inline_below=100)
    ahead = []
    for index, (_n, _result) in enumerate(results):
        ahead.append(consumed - index)
        if index == 5000:
            break
    results.close()
    # the head read to decide on workers, then at most jobs * AHEAD chunks in flight
    assert max(ahead) <= 100 + 2 * AHEAD * 10
    assert consumed < 6000


def test_a_failure_in_a_worker_is_raised_in_the_caller() -> None:
    with pytest.raises(ValueError, match="unlucky 13"):
        list(ordered_map(fail_on_13, range(1000), jobs=2, chunk=8, inline_below=10))


SCRIPT = """
import os, sys, time
from oai.parallel import ordered_map
sys.path.insert(0, {root!r})
from tests.test_parallel import slow_pid
for _n, pid in ordered_map(slow_pid, range(100000), jobs=2, chunk=4, inline_below=8,
                           preload=["tests.test_parallel"]):
    print(pid, flush=True)
"""


def slow_pid(chunk: list[int]) -> list[int]:
    time.sleep(0.01)
    return [os.getpid()] * len(chunk)


def test_workers_do_not_outlive_a_killed_caller(tmp_path: Path) -> None:
    script = SCRIPT.format(root=str(PROJECT))
    caller = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              cwd=tmp_path, start_new_session=True)
    assert caller.stdout is not None
    workers: set[int] = set()
    while len(workers) < 2:
        workers.add(int(caller.stdout.readline()))
    assert all(_alive(pid) for pid in workers)
    caller.send_signal(signal.SIGKILL)
    caller.wait()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers), "workers outlived the killed caller"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
