"""`oai load`: records and set definitions from JSON or JSONL files or folders.

The exit status is 0 only if every input was loaded (or, with --dry-run, would be): a load
that rejected anything says so on its last line and exits 1, even though the good records
were written.
"""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from typing import Any

import click

from oai.cli.context import CliContext, fail, pass_ctx


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--batch-size", default=500, show_default=True,
              help="Records written per transaction.")
@click.option("--dry-run", is_flag=True,
              help="Validate, render and schema-check everything, write nothing.")
@click.option("--create-sets", is_flag=True,
              help="Create the sets records name that are not defined (named after their "
                   "setSpec) instead of rejecting those records.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Processes that validate and render records  [default: one per CPU].")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_ctx
def load(ctx: CliContext, paths: tuple[str, ...], batch_size: int, dry_run: bool,
         create_sets: bool, jobs: int | None, as_json: bool) -> None:
    """Load records (and set definitions) from JSON or JSONL files or folders.

    A file holds one record, an array of records, or one record per line (.jsonl). Objects
    with "spec" and "name" instead of "id" define sets, wherever they are in the inputs.
    Each record is validated, rendered and schema-checked; a bad record, or one naming a set
    that is not defined (unless --create-sets), is reported and skipped, never aborting the
    others. Exits 1 if any input was rejected.
    """
    from oai.cli.loading import Loader, iter_inputs
    from oai.parallel import available_cpus

    if batch_size < 1:
        fail("--batch-size must be at least 1")
    store = ctx.open_store(read_only=True) if dry_run else ctx.open_store(create=True)
    loader = Loader(store, batch_size, dry_run=dry_run, create_sets=create_sets)
    inputs = iter_inputs([*paths])
    loader.define_sets(inputs)
    total = sum(item.size for item in inputs.files)
    show_bar = sys.stderr.isatty() and not as_json
    bar: Any = (click.progressbar(length=total, label="checking" if dry_run else "loading",
                                  file=sys.stderr, show_eta=True, show_percent=True)
                if show_bar else nullcontext())
    try:
        with bar:
            loader.load(inputs, jobs or available_cpus(),
                        lambda item: bar.update(item.advance) if item.advance and show_bar
                        else None)
    except KeyboardInterrupt:  # batches written so far stay; loading again skips them
        done = loader.counts
        click.echo(f"interrupted: {done.added} added, {done.updated} updated, "
                   f"{done.unchanged} unchanged so far (written in whole batches); load the "
                   "same inputs again to finish", err=True)
        sys.exit(130)
    counts = loader.counts
    if not dry_run:
        store.refresh_statistics(counts.added + counts.updated)
    if as_json:
        click.echo(json.dumps({"ok": not counts.rejected, "dry_run": dry_run,
                               "added": counts.added, "updated": counts.updated,
                               "unchanged": counts.unchanged, "sets": counts.sets_defined,
                               "rejected": [{"where": w, "reason": r}
                                            for w, r in counts.rejected]}))
    else:
        for where, reason in counts.rejected:
            click.echo(f"rejected {where}: {reason}", err=True)
        sets = (f"; {counts.sets_defined} sets {'to define' if dry_run else 'defined'}"
                if counts.sets_defined else "")
        if dry_run:
            click.echo(f"dry run, nothing written: {counts.added} to add, {counts.updated} "
                       f"to update, {counts.unchanged} unchanged, {len(counts.rejected)} "
                       f"rejected{sets}")
        else:
            click.echo(f"{counts.added} added, {counts.updated} updated, {counts.unchanged} "
                       f"unchanged, {len(counts.rejected)} rejected{sets}")
    if counts.rejected:
        fail(f"{len(counts.rejected)} of {counts.inputs + counts.sets_defined} inputs "
             f"{'would be' if dry_run else 'were'} rejected")
