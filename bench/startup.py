"""Start-up time of the `oai` command: how long before a user sees `--version` or `--help`.

Runs each command several times in a fresh process and prints the median wall-clock time, with
`python -c pass` (the interpreter alone) as the baseline and the difference to it. The command
is the `oai` script next to this interpreter (the project's virtualenv), so run it as
`.venv/bin/python bench/startup.py [--runs N] [--json]`. The target is under 0.3 s for each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

OAI = str(Path(sys.executable).with_name("oai"))
TARGET = 0.3  # seconds

COMMANDS: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "oai --version": [OAI, "--version"],
    "oai --help": [OAI, "--help"],
    "oai load --help": [OAI, "load", "--help"],
    "oai harvest --help": [OAI, "harvest", "--help"],
}


def time_command(argv: list[str], runs: int) -> float:
    """Median wall-clock seconds of `runs` runs (after one unmeasured warm-up run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    samples: list[float] = []
    for attempt in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                       check=True)
        if attempt:  # the first run only warms the page cache
            samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="runs per command (median)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = {label: time_command(argv, max(1, args.runs)) for label, argv in COMMANDS.items()}
    baseline = figures["python -c pass"]
    if args.json:
        print(json.dumps({"runs": args.runs, "seconds": figures, "target": TARGET}))
    else:
        print(f"median of {args.runs} runs; target < {TARGET:.2f} s")
        for label, seconds in figures.items():
            extra = "" if label.startswith("python") else f"  (+{seconds - baseline:.3f} s)"
            mark = "" if label.startswith("python") or seconds < TARGET else "  OVER TARGET"
            print(f"{label:<22}{seconds:7.3f} s{extra}{mark}")
    return 0 if all(s < TARGET for k, s in figures.items() if k != "python -c pass") else 1


if __name__ == "__main__":
    sys.exit(main())
