"""`oai fixtures ...`: write synthetic records (JSONL) and their set definitions (JSON)."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterable
from typing import IO, Any

import click


@click.group("fixtures")
def fixtures() -> None:
    """Synthetic records for load tests and benchmarks."""


@fixtures.command("generate")
@click.option("--count", "-n", type=click.IntRange(min=0), required=True,
              help="Number of records to write.")
@click.option("--seed", "-s", type=int, default=0, show_default=True,
              help="Random seed: the same seed gives the same records.")
@click.option("--start", type=click.IntRange(min=0), default=1, show_default=True,
              help="Number of the first record (ids are gen-<number>).")
@click.option("--deleted-ratio", type=click.FloatRange(0.0, 1.0), default=0.0,
              show_default=True, help="Fraction of records flagged as deleted.")
@click.option("--output", "-o", default="-", show_default=True,
              help="JSONL file to write, or - for standard output.")
def generate(count: int, seed: int, start: int, deleted_ratio: float, output: str) -> None:
    """Write COUNT synthetic records as JSON Lines."""
    from oai.fixtures import generate_records

    records = generate_records(count, seed=seed, start=start, deleted_ratio=deleted_ratio)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    if output == "-":
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:  # an unusual replacement stream: let it do its own encoding
            _write(sys.stdout, records, dumps)
            return
        sys.stdout.flush()
        out = io.TextIOWrapper(buffer, encoding="utf-8", newline="\n")
        try:
            _write(out, records, dumps)
            out.flush()
        finally:
            out.detach()
        return
    try:
        with click.open_file(output, "w", encoding="utf-8", atomic=True) as fh:
            if sys.stderr.isatty():
                with click.progressbar(records, length=count, label="Generating",
                                       file=sys.stderr) as bar:
                    _write(fh, bar, dumps)
            else:
                _write(fh, records, dumps)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None


def _write(fh: IO[str], records: Iterable[dict[str, Any]], dumps: Callable[[Any], str]) -> None:
    for rec in records:
        fh.write(dumps(rec) + "\n")


@fixtures.command("sets")
@click.option("--output", "-o", default="-", show_default=True,
              help="JSON file to write, or - for standard output.")
def sets(output: str) -> None:
    """Write the set definitions used by generated records as a JSON array."""
    from oai.fixtures import generated_sets

    text = json.dumps(generated_sets(), ensure_ascii=False, indent=2) + "\n"
    try:
        with click.open_file(output, "w", encoding="utf-8", atomic=output != "-") as fh:
            fh.write(text)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
