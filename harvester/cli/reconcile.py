"""`oai reconcile NAME`: compare a source's identifiers with the local copy, and (with
--apply) make the copy equal to the source. The logic lives in `harvester.reconcile`."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

from harvester.cli.group import check_name, hstore_for
from oai.cli.context import CliContext, fail, pass_ctx

if TYPE_CHECKING:
    from harvester.reconcile import ReconcileOutcome

LABELS = (("missing", "missing locally"), ("stale", "stale locally"),
          ("changed", "changed (same datestamp)"), ("gone", "gone from the source"),
          ("agree", "in agreement"))


class Share(click.ParamType):
    """A share of the copy: `10%` or `0.1`."""

    name = "SHARE"

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        if isinstance(value, float):
            return value
        text = str(value).strip()
        try:
            share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            self.fail(f"{value!r} is not a share (such as 10% or 0.1)", param, ctx)
        if not 0 <= share <= 1:
            self.fail(f"{value!r} is not between 0% and 100%", param, ctx)
        return share


@click.command("reconcile")
@click.argument("name")
@click.option("--apply", is_flag=True,
              help="Fetch missing, stale and changed records and tombstone those gone.")
@click.option("--force", is_flag=True,
              help="Tombstone even when more than --max-delete-share of the copy is gone.")
@click.option("--verify-content", "content", is_flag=True,
              help="Sweep with ListRecords and compare payloads too: also finds records "
                   "edited without a new datestamp (costs as many requests as a harvest).")
@click.option("--max-delete-share", type=Share(),
              help="Refuse to tombstone more than this share of the live copy [10%].")
@click.option("--max-requests", type=click.IntRange(min=1), metavar="N",
              help="Request budget [500000].")
@click.option("--max-time", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Wall-clock budget [86400].")
@click.option("--json", "as_json", is_flag=True,
              help="Events as JSON lines on stderr and the result as JSON on stdout.")
@pass_ctx
def reconcile(ctx: CliContext, name: str, apply: bool, force: bool, content: bool,
              max_delete_share: float | None, max_requests: int | None,
              max_time: float | None, as_json: bool) -> None:
    """Compare source NAME with the local copy: records missing or stale locally, gone from
    the source, or in agreement. Reports only, unless --apply. A stopped or failed sweep
    resumes at the next call, and never tombstones anything."""
    from harvester.cli.progress import make_reporter
    from harvester.cli.run import _configure_logging
    from harvester.cli.signals import StopSignals
    from harvester.guard import StopRequest
    from harvester.options import options_from_config
    from harvester.reconcile import ReconcileOptions, Reconciler

    check_name(name)
    if force and not apply:
        fail("--force only means something with --apply")
    hstore = hstore_for(ctx, write=True)
    source = hstore.require_source(name)
    stop = StopRequest()
    share = ctx.config.harvest_max_delete_share if max_delete_share is None \
        else max_delete_share
    options = ReconcileOptions(apply=apply, force=force, content=content,
                               max_delete_share=share)
    harvest = options_from_config(ctx.config, stop, max_requests=max_requests,
                                  max_seconds=max_time)
    _configure_logging(as_json)
    reporter = make_reporter([source.name], as_json)
    signals = StopSignals(stop, lambda name: "; the sweep resumes from its last page")
    try:
        with signals:
            outcome = Reconciler(hstore, source, harvest, options, reporter).run()
    finally:
        reporter.close()
    if as_json:
        click.echo(json.dumps({**asdict(outcome), "ok": outcome.ok}, ensure_ascii=False))
    else:
        for line in summary(outcome):
            click.echo(line)
    if signals.signum is not None:
        click.echo(f"interrupted: run 'oai reconcile {name}{' --apply' if apply else ''}' "
                   "to resume", err=True)
        sys.exit(128 + signals.signum)
    if not outcome.ok:
        click.echo(f"Error: {outcome.source}: {outcome.status}: {outcome.reason}", err=True)
        sys.exit(1)


def summary(o: ReconcileOutcome) -> list[str]:
    """The readable report: counts, samples, what was done."""
    lines = [f"{o.source}: reconciliation {o.status}{' (resumed)' if o.resumed else ''} - "
             f"{o.swept:,} identifiers swept, {o.requests:,} requests"]
    if o.counts:
        lines.append("  " + ", ".join(f"{o.counts.get(k, 0):,} {label}" for k, label in LABELS
                                      if k != "changed" or o.counts.get(k)))
        for kind, label in LABELS[:4]:
            if o.samples.get(kind):
                more = o.counts[kind] - len(o.samples[kind])
                lines.append(f"  {label}: {', '.join(o.samples[kind])}"
                             + (f" (and {more:,} more)" if more > 0 else ""))
    if o.applied:
        lines.append(f"  applied: {o.fetched:,} records fetched, {o.tombstoned:,} tombstoned")
    elif o.counts and o.status == "complete":
        lines.append("  nothing changed (report only: --apply makes the copy equal)")
    if o.reason and o.ok:
        lines.append(f"  note: {o.reason}")
    return lines
