"""`oai load`: records and set definitions from JSON or JSONL files or folders."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from typing import Any

import click

from oai.cli.context import CliContext, pass_ctx


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--batch-size", default=500, show_default=True,
              help="Records written per transaction.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_ctx
def load(ctx: CliContext, paths: tuple[str, ...], batch_size: int, as_json: bool) -> None:
    """Load records (and set definitions) from JSON or JSONL files or folders.

    A file holds one record, an array of records, or one record per line (.jsonl). Objects
    with "spec" and "name" instead of "id" define sets. Each record is validated, rendered
    and schema-checked; a bad record is reported and skipped, never aborting the others.
    """
    from oai.cli.loading import RecordBatcher, iter_inputs

    store = ctx.open_store(create=True)
    batcher = RecordBatcher(store, batch_size)
    inputs = iter_inputs([*paths])
    total = sum(item.size for item in inputs.files)
    show_bar = sys.stderr.isatty() and not as_json
    bar: Any = (click.progressbar(length=total, label="loading", file=sys.stderr,
                                  show_eta=True, show_percent=True)
                if show_bar else nullcontext())
    with bar:
        for item in inputs:
            if item.kind == "set":
                batcher.add_set(item)
            else:
                batcher.add(item)
            if item.advance and show_bar:
                bar.update(item.advance)
        batcher.flush()
    summary = batcher.summary
    if as_json:
        click.echo(json.dumps({"added": summary.added, "updated": summary.updated,
                               "unchanged": summary.unchanged, "sets": batcher.sets_added,
                               "rejected": [{"where": w, "reason": r}
                                            for w, r in summary.rejected]}))
    else:
        for where, reason in summary.rejected:
            click.echo(f"rejected {where}: {reason}", err=True)
        click.echo(f"{summary.added} added, {summary.updated} updated, "
                   f"{summary.unchanged} unchanged, {len(summary.rejected)} rejected"
                   + (f"; {batcher.sets_added} sets defined" if batcher.sets_added else ""))
    if summary.rejected and not (summary.added or summary.updated or summary.unchanged):
        sys.exit(1)
