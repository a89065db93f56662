"""`oai formats list|rebuild` and `oai check`: the metadata formats the provider serves, and
whether the store's renditions are complete, current and valid."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Any

import click

from oai.cli.context import CliContext, fail, pass_ctx


@click.group("formats")
def formats() -> None:
    """The metadata formats the provider serves (plug-ins of the `oai.formats` group)."""


@formats.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per format.")
@pass_ctx
def list_formats(ctx: CliContext, as_json: bool) -> None:
    """Each format: prefix, namespace, schema, crosswalk version, records carried, and
    whether the store's renditions are up to date."""
    from oai.formats import registry

    store = ctx.open_store(read_only=True)
    states = store.format_states()
    counts = store.disseminated_counts()
    for prefix, fmt in registry().items():
        state = states.get(prefix)
        current = state is not None and state.version == fmt.version and not state.rebuilding
        info: dict[str, Any] = {
            "prefix": prefix, "label": fmt.label, "namespace": fmt.namespace,
            "schema": fmt.schema_location, "version": fmt.version,
            "stored_version": state.version if state else None, "up_to_date": current,
            "records": counts.get(prefix, 0)}
        if as_json:
            click.echo(json.dumps(info))
            continue
        note = "" if current else "  (needs 'oai formats rebuild')"
        click.echo(f"{prefix}\t{fmt.label or '-'}\tv{fmt.version}\t{info['records']} records"
                   f"\t{fmt.namespace}{note}")


@formats.command("rebuild")
@click.option("--prefix", "prefixes", multiple=True, metavar="PREFIX",
              help="Only this format (repeatable); default: every stale one.")
@click.option("--all", "everything", is_flag=True,
              help="Every format, stale or not (a no-op for records whose rendering is the "
                   "same).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Processes that render records  [default: one per CPU].")
@click.option("--json", "as_json", is_flag=True, help="A JSON summary per format.")
@pass_ctx
def rebuild(ctx: CliContext, prefixes: tuple[str, ...], everything: bool, jobs: int | None,
            as_json: bool) -> None:
    """Render the store's records in every format whose crosswalk changed or that is new.

    Records whose rendering changes get a new datestamp (incremental harvesters see them);
    the others keep theirs. Resumable: a rebuild that was stopped continues where it was."""
    from oai.formats import registry
    from oai.formats.rebuild import rebuild as run_rebuild
    from oai.formats.rebuild import stale
    from oai.parallel import available_cpus

    store = ctx.open_store(create=True)
    known = registry()
    unknown = [p for p in prefixes if p not in known]
    if unknown:
        fail(f"no metadata format {', '.join(map(repr, unknown))} is registered "
             f"(see 'oai formats list')")
    if prefixes:
        targets = [known[p] for p in prefixes]
    else:
        targets = list(known.values()) if everything else stale(store)
    if not targets:
        click.echo("every format is up to date", err=not as_json)
        return
    total = store.live_record_count()
    for fmt in targets:
        bar = click.progressbar(length=total, label=f"rebuilding {fmt.prefix}", file=sys.stderr,
                                show_eta=True, show_percent=True) \
            if sys.stderr.isatty() and not as_json else None
        if bar is not None:
            with bar:
                report = run_rebuild(store, fmt, bar.update, jobs=jobs or available_cpus())
        else:
            report = run_rebuild(store, fmt, jobs=jobs or available_cpus())
        if as_json:
            click.echo(json.dumps(asdict(report)))
            continue
        click.echo(f"{fmt.prefix}: v{report.version}, {report.records} records rendered, "
                   f"{report.changed} changed ({report.withdrawn} no longer carried)"
                   + (", resumed" if report.resumed else ""))
        if report.kept:
            click.echo(f"{fmt.prefix}: the new rendering failed for {len(report.kept)} "
                       f"record(s), their previous one kept (first: {report.kept[0]})", err=True)


@click.command()
@click.option("--sample", type=click.IntRange(min=0), default=50, show_default=True,
              help="Stored fragments per format validated against its schema.")
@click.option("--json", "as_json", is_flag=True, help="A JSON object per format.")
@pass_ctx
def check(ctx: CliContext, sample: int, as_json: bool) -> None:
    """Per format: records carried, records not carried and why, whether the renditions are
    up to date, and a schema validation of a sample (exit 1 if a stored one is invalid)."""
    from oai.formats.check import check as run_check

    results = run_check(ctx.open_store(read_only=True), sample)
    for result in results:
        if as_json:
            click.echo(json.dumps(asdict(result)))
            continue
        state = "up to date" if result.up_to_date else (
            f"stale (stored v{result.stored_version or '-'}, current v{result.version}): "
            "run 'oai formats rebuild'")
        click.echo(f"{result.prefix}: {result.disseminated} disseminated, "
                   f"{result.not_disseminated} not; {state}; {result.sampled} sampled, "
                   f"{len(result.invalid)} invalid")
        for reason, count in result.reasons.items():
            click.echo(f"  {count:>7}  {reason}")
        for record_id, error in result.invalid[:5]:
            click.echo(f"  invalid: {record_id}: {error}")
    if any(not r.ok for r in results):
        sys.exit(1)
