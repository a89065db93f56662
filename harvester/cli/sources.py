"""`oai harvest add|edit|remove|list|status`: defining sources, checked against the server."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from harvester.cli.group import check_name, check_url, client_for, harvest, hstore_for
from oai.cli.context import CliContext, fail, pass_ctx


def _check(ctx: CliContext, url: str, prefix: str, set_specs: tuple[str, ...],
           min_interval: float | None) -> Any:
    """Ask the server (Identify, formats, sets); one line and exit 1 when it disagrees."""
    from harvester.errors import HarvestError
    from harvester.inspect import check_source

    try:
        return check_source(client_for(ctx, url, min_interval), prefix, set_specs)
    except HarvestError as exc:
        fail(f"{exc} (use --no-check to save the source anyway)")


def _profile(report: Any) -> dict[str, Any]:
    info = report.identify
    return {"granularity": info.granularity.value,
            "earliest_datestamp": info.earliest_datestamp or None,
            "deleted_record": info.deleted_record or None,
            "compression": " ".join(info.compression) or None,
            "repository_name": info.repository_name or None}


def _every(value: str | None) -> tuple[int | None, bool]:
    """--reconcile-every: (seconds or None, whether it was given)."""
    from harvester.schedule import BadDuration, parse_duration

    if value is None:
        return None, False
    try:
        return parse_duration(value), True
    except BadDuration as exc:
        fail(f"--reconcile-every: {exc}")


def _prefixes(values: tuple[str, ...]) -> tuple[str, ...]:
    """--prefix values (repeated, or comma-separated): the first is the source's
    metadataPrefix, the others are harvested beside it."""
    found = tuple(dict.fromkeys(p.strip() for v in values for p in v.split(",")))
    if not found or any(not p for p in found):
        fail("--prefix needs a metadataPrefix")
    return found


def _check_extras(report: Any, extras: tuple[str, ...]) -> None:
    offered = [f.prefix for f in report.formats]
    for prefix in extras:
        if prefix not in offered:
            fail(f"the repository does not offer metadataPrefix {prefix!r} (it offers "
                 f"{', '.join(offered) or 'none'}) (use --no-check to save the source anyway)")


def _publish(ctx: CliContext, hstore: Any, source: Any, publish: bool) -> dict[str, Any]:
    """Publish or unpublish a source, with a progress bar over its records."""
    from harvester.cli.progress import CountBar

    total, _ = hstore.counts(source.id)
    with CountBar(f"publishing {source.name}" if publish else f"unpublishing {source.name}",
                  total if publish else None) as bar:
        changed = hstore.set_publish(source.id, publish,
                                     f"oai:{ctx.config.repository_identifier}:",
                                     progress=bar.advance)
    return {"published": publish, "changed": changed, **hstore.published_counts(source.id)}


def _publish_line(name: str, result: dict[str, Any]) -> str:
    if result["published"]:
        return (f"  published as set source:{name}: {result['served']} records served "
                f"({result['served_deleted']} deleted), {result['collisions']} not served "
                "(their identifier is another source's or this repository's)")
    return (f"  unpublished: {result['changed']} records are now served as deleted in set "
            f"source:{name}")


def _start_matching(ctx: CliContext, hstore: Any, added: str) -> int:
    """With matching on "auto", a second source turns it on: file what the first one holds
    (with a progress bar), so clusters cover every record from now on."""
    from harvester.cli.progress import CountBar
    from harvester.duplicates.policy import file_existing

    if len(hstore.list_sources()) != 2:
        return 0
    held = sum(hstore.counts(s.id)[0] for s in hstore.list_sources() if s.name != added)
    if not held:
        return 0
    with CountBar("filing for duplicate matching", held) as bar:
        return file_existing(ctx.config.harvest_match_duplicates, hstore, added, bar.advance)


def _check_sets(set_specs: tuple[str, ...]) -> None:
    for spec in set_specs:
        if not spec.strip():
            fail("--set needs a setSpec")


@harvest.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--prefix", "prefixes", multiple=True, default=("oai_dc",), show_default=True,
              help="metadataPrefix; repeat (or comma-separate) to harvest several formats, "
                   "the first one giving the records' headers.")
@click.option("--set", "set_specs", multiple=True, metavar="SPEC",
              help="Harvest only this set (repeatable; any setSpec the server lists).")
@click.option("--rate-limit", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Minimum interval between two requests to this source.")
@click.option("--no-check", is_flag=True,
              help="Save without asking the server (Identify, formats, sets) first.")
@click.option("--validate", "validate_records", is_flag=True,
              help="Check each harvested record against its schema; those that fail are "
                   "flagged and counted (never dropped).")
@click.option("--reconcile-every", "every", metavar="DURATION",
              help="Reconcile the copy with the source this often (30m, 12h, 7d, 2w), after "
                   "the harvest of `oai harvest run`; `off` (the default) never.")
@click.option("--publish", is_flag=True,
              help="Serve its records from this repository's provider, as set source:NAME, "
                   "with provenance.")
@click.option("--json", "as_json", is_flag=True, help="Print what was found as JSON.")
@pass_ctx
def add(ctx: CliContext, name: str, url: str, prefixes: tuple[str, ...],
        set_specs: tuple[str, ...], rate_limit: float | None, no_check: bool,
        validate_records: bool, every: str | None, publish: bool, as_json: bool) -> None:
    """Define the source NAME at base URL URL, after checking that the server offers it."""
    check_name(name)
    url = check_url(url)
    _check_sets(set_specs)
    reconcile_every, scheduled = _every(every)
    prefix, *extras = _prefixes(prefixes)
    hstore = hstore_for(ctx, write=True)
    if hstore.get_source(name) is not None:
        fail(f"a source named {name!r} already exists (see 'oai harvest edit')")
    report = None if no_check else _check(ctx, url, prefix, set_specs, rate_limit)
    if report is not None:
        _check_extras(report, tuple(extras))
    source = hstore.add_source(name, url, prefix, set_specs, rate_limit,
                               profile=_profile(report) if report else None,
                               validate_records=validate_records,
                               reconcile_every=reconcile_every, extra_prefixes=extras)
    suggestion = _suggestion(name, report) if report is not None and not scheduled else None
    published = _publish(ctx, hstore, source, True) if publish else None
    filed = _start_matching(ctx, hstore, name)
    if as_json:
        click.echo(json.dumps({"name": source.name, "url": source.base_url,
                               "prefix": source.metadata_prefix,
                               "prefixes": list(source.prefixes),
                               "sets": list(source.set_specs),
                               "validate": source.validate_records,
                               "reconcile_every": source.reconcile_every,
                               "suggestion": suggestion,
                               "publish": publish,
                               "duplicates_filed": filed,
                               "checked": report is not None,
                               **({"records": report.records, **_profile(report)}
                                  if report else {})}))
        return
    click.echo(f"added source {source.name}: {source.base_url} ({', '.join(source.prefixes)}"
               + (f", sets {', '.join(source.set_specs)}" if source.set_specs else "")
               + (", records validated" if source.validate_records else "")
               + (f", reconciled every {_show(source.reconcile_every)}"
                  if source.reconcile_every else "") + ")")
    if report is not None:
        for line in report.lines():
            click.echo(f"  {line}")
    if published is not None:
        click.echo(_publish_line(source.name, published))
    if filed:
        click.echo(f"  duplicate matching starts with this second source: {filed} records "
                   "already held were filed")
    if suggestion:
        click.echo(f"  note: {suggestion}")


def _show(seconds: int | None) -> str:
    from harvester.schedule import format_duration

    return format_duration(seconds)


def _suggestion(name: str, report: Any) -> str | None:
    """A schedule for repositories that do not report (every) deletion."""
    kept = report.identify.deleted_record
    if kept not in ("no", "transient"):
        return None
    what = "does not report deletions" if kept == "no" else "may forget deletions"
    return (f"this repository {what} (deletedRecord={kept}): consider "
            f"'oai harvest edit {name} --reconcile-every 7d', which finds the records it "
            "no longer has")


@harvest.command("edit")
@click.argument("name")
@click.option("--url", help="New base URL.")
@click.option("--prefix", "prefixes", multiple=True,
              help="New metadataPrefix, or several (repeated or comma-separated; the next "
                   "run harvests everything).")
@click.option("--set", "set_specs", multiple=True, metavar="SPEC",
              help="Harvest only these sets from now on (repeatable; replaces the list).")
@click.option("--all-sets", is_flag=True, help="Harvest the whole repository again.")
@click.option("--rate-limit", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Minimum interval between two requests.")
@click.option("--no-rate-limit", is_flag=True, help="Drop the minimum interval.")
@click.option("--no-check", is_flag=True, help="Save without asking the server first.")
@click.option("--validate/--no-validate", "validate_records", default=None,
              help="Check (or stop checking) each harvested record against its schema.")
@click.option("--reconcile-every", "every", metavar="DURATION",
              help="Reconcile this often (30m, 12h, 7d, 2w) after harvests; `off` never.")
@click.option("--publish/--no-publish", default=None,
              help="Serve its records from this repository's provider (set source:NAME), "
                   "or stop: they are then served as deleted.")
@pass_ctx
def edit(ctx: CliContext, name: str, url: str | None, prefixes: tuple[str, ...],
         set_specs: tuple[str, ...], all_sets: bool, rate_limit: float | None,
         no_rate_limit: bool, no_check: bool, validate_records: bool | None,
         every: str | None, publish: bool | None) -> None:
    """Change how source NAME is harvested. A new prefix or set list starts the copy over at
    the next run (the records held stay until then)."""
    if set_specs and all_sets:
        fail("--set and --all-sets contradict each other")
    if rate_limit is not None and no_rate_limit:
        fail("--rate-limit and --no-rate-limit contradict each other")
    _check_sets(set_specs)
    reconcile_every, scheduled = _every(every)
    hstore = hstore_for(ctx, write=True)
    source = hstore.require_source(name)
    new_url = check_url(url) if url is not None else None
    new_sets: tuple[str, ...] | None = () if all_sets else (set_specs or None)
    prefix: str | None = None
    extras: tuple[str, ...] | None = None
    if prefixes:
        prefix, *more = _prefixes(prefixes)
        extras = tuple(more)
    if new_url is None and prefix is None and new_sets is None and rate_limit is None \
            and not no_rate_limit and validate_records is None and not scheduled \
            and publish is None:
        fail("nothing to change (see 'oai harvest edit --help')")
    if not no_check and (new_url or prefix or new_sets):
        report = _check(ctx, new_url or source.base_url, prefix or source.metadata_prefix,
                        new_sets if new_sets is not None else source.set_specs,
                        rate_limit if rate_limit is not None else source.min_interval)
        _check_extras(report, extras if extras is not None else source.extra_prefixes)
        hstore.update_profile(source.id, **_profile(report))
    hstore.edit_source(source.id, base_url=new_url, metadata_prefix=prefix,
                       set_specs=new_sets, min_interval=rate_limit,
                       clear_interval=no_rate_limit, validate_records=validate_records,
                       reconcile_every=reconcile_every,
                       clear_reconcile=scheduled and reconcile_every is None,
                       extra_prefixes=extras)
    edited = hstore.require_source(name)
    published = _publish(ctx, hstore, edited, publish) if publish is not None else None
    click.echo(f"edited source {edited.name}: {edited.base_url} ({', '.join(edited.prefixes)}"
               + (f", sets {', '.join(edited.set_specs)}" if edited.set_specs else "")
               + (f", {edited.min_interval:g} s between requests" if edited.min_interval
                  else "") + (", records validated" if edited.validate_records else "")
               + (f", reconciled every {_show(edited.reconcile_every)}"
                  if edited.reconcile_every else "") + ")")
    if source.last_complete_from and not edited.last_complete_from:
        click.echo("  the next run harvests everything again")
    if published is not None:
        click.echo(_publish_line(edited.name, published))


@harvest.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def remove(ctx: CliContext, name: str, yes: bool) -> None:
    """Delete source NAME with every record harvested from it and its run history."""
    hstore = hstore_for(ctx, write=True)
    source = hstore.require_source(name)
    total, _ = hstore.counts(source.id)
    if not yes:
        if not sys.stdin.isatty():
            fail(f"removing {name!r} deletes {total} records; confirm with --yes")
        click.confirm(f"Remove source {name!r} and its {total} harvested records?", abort=True)
    if not (source.lease_owner and (source.lease_until or 0) > hstore.now()):
        hstore.clear_duplicates(source.id)  # its records leave their clusters first
    removed = hstore.remove_source(source.id)
    click.echo(f"removed source {name} ({removed} records)")


@harvest.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
@pass_ctx
def list_sources(ctx: CliContext, as_json: bool) -> None:
    """List the defined sources."""
    for source in hstore_for(ctx, write=False).list_sources():
        if as_json:
            click.echo(json.dumps({"name": source.name, "url": source.base_url,
                                   "prefix": source.metadata_prefix,
                                   "sets": list(source.set_specs),
                                   "rate_limit": source.min_interval,
                                   "validate": source.validate_records,
                                   "prefixes": list(source.prefixes),
                                   "publish": source.publish}, ensure_ascii=False))
        else:
            sets = f" sets={','.join(source.set_specs)}" if source.set_specs else ""
            click.echo(f"{source.name}\t{source.base_url}\t{source.metadata_prefix}{sets}")


@harvest.command("status")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
@pass_ctx
def status(ctx: CliContext, name: str | None, as_json: bool) -> None:
    """Records held and the last run of each source (or of NAME)."""
    from oai.protocol.datestamps import format_datestamp

    def when(epoch: int | None) -> str | None:
        return format_datestamp(epoch) if epoch else None

    hstore = hstore_for(ctx, write=False)
    now = hstore.now()
    sources = [hstore.require_source(name)] if name else hstore.list_sources()
    for source in sources:
        total, deleted = hstore.counts(source.id)
        last = hstore.last_run(source.id)
        holder = source.lease_owner if (source.lease_until or 0) > now else None
        info: dict[str, Any] = {
            "name": source.name, "url": source.base_url, "prefix": source.metadata_prefix,
            "sets": list(source.set_specs), "records": total, "deleted": deleted,
            "quarantined": hstore.quarantine_count(source.id),
            "validate": source.validate_records,
            "invalid": hstore.invalid_count(source.id) if source.validate_records else None,
            "granularity": source.granularity, "deleted_record": source.deleted_record,
            "quirks": list(source.quirks), "incremental_from": source.last_complete_from,
            "harvested_by": holder, "harvested_on": source.lease_node if holder else None,
            "harvest_every": source.harvest_every, "last_run": None,
            "reconcile_every": source.reconcile_every,
            "last_reconciliation": _reconciliation(hstore, source.id, when),
            "prefixes": list(source.prefixes), "publish": source.publish,
            **({"published": hstore.published_counts(source.id)} if source.publish else {})}
        if last is not None:
            info["last_run"] = {
                "id": last.id, "mode": last.mode, "status": last.status,
                "started": when(last.started), "finished": when(last.finished),
                "from": last.from_date, "until": last.until_date, "pages": last.pages,
                "records": last.records, "deleted": last.deleted, "requests": last.requests,
                "quarantined": last.quarantined, "invalid": last.invalid_records,
                "reason": last.reason,
                "errors": list(last.errors)}
        if as_json:
            click.echo(json.dumps(info, ensure_ascii=False))
            continue
        click.echo(f"{source.name}: {total} records ({deleted} deleted), "
                   f"{info['quarantined']} quarantined"
                   + (f", {info['invalid']} failing their schema" if source.validate_records
                      else "")
                   + (f"; being harvested by {holder}" if holder else ""))
        rec = info["last_reconciliation"]
        if rec is not None or source.reconcile_every:
            click.echo("  " + _reconciliation_line(rec, source.reconcile_every))
        if last is None:
            click.echo("  never harvested")
            continue
        click.echo(f"  last run #{last.id} ({last.mode}): {last.status}, started "
                   f"{when(last.started)}, finished {when(last.finished) or '-'}, "
                   f"{last.pages} pages, {last.records} records"
                   + (f" ({last.invalid_records} invalid)" if source.validate_records else "")
                   + f", {last.requests} requests, {len(last.errors)} errors")
        if last.reason:
            click.echo(f"  reason: {last.reason}")


def _reconciliation(hstore: Any, source_id: int, when: Any) -> dict[str, Any] | None:
    rec = hstore.last_reconciliation(source_id)
    if rec is None:
        return None
    return {"id": rec.id, "status": rec.status, "started": when(rec.started),
            "finished": when(rec.finished), "applied": rec.apply,
            "verify_content": rec.content, "swept": rec.swept,
            "sweep_complete": rec.swept_complete, **rec.counts, "fetched": rec.fetched,
            "tombstoned": rec.tombstoned, "requests": rec.requests, "reason": rec.reason}


def _reconciliation_line(rec: dict[str, Any] | None, every: int | None) -> str:
    schedule = f" (every {_show(every)})" if every else ""
    if rec is None:
        return f"never reconciled{schedule}"
    counts = ", ".join(f"{rec[k]} {k}" for k in ("missing", "stale", "changed", "gone",
                                                 "agree") if rec[k] is not None)
    return (f"last reconciliation #{rec['id']}{schedule}: {rec['status']}, started "
            f"{rec['started']}, {rec['swept']} identifiers swept"
            + (f"; {counts}" if counts else "")
            + (f"; {rec['fetched']} fetched, {rec['tombstoned']} tombstoned"
               if rec["applied"] else "")
            + (f"; reason: {rec['reason']}" if rec["reason"] else ""))
