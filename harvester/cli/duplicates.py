"""`oai duplicates`: clusters of records that are the same work in several sources, with the
evidence for each link; `oai duplicates rebuild` files records harvested before matching
existed (or after the rules changed)."""

from __future__ import annotations

import csv
import json
import sys
from typing import TYPE_CHECKING, Any

import click

from harvester.cli.group import hstore_for
from oai.cli.context import CliContext, fail, pass_ctx

if TYPE_CHECKING:
    from oai.store.harvest.duplicates import Cluster, ClusterLink, ClusterMember

@click.group("duplicates", invoke_without_command=True)
@click.option("--source", "source_name", metavar="NAME",
              help="Only clusters holding a record of this source.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per cluster.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV, one row per cluster member.")
@click.pass_context
def duplicates(click_ctx: click.Context, source_name: str | None, as_json: bool,
               as_csv: bool) -> None:
    """List clusters of harvested records that are the same work in several sources.

    Records are linked when they share a persistent identifier (DOI, Handle, arXiv, PMID,
    PMCID, ISBN, URN, in any spelling) or, sharing none, when their normalised title, year
    and first creator's surname match. Each link shows its evidence."""
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.find_object(CliContext)
    if ctx is None:
        fail("no configuration")  # only when the command runs outside `oai`
    if as_json and as_csv:
        fail("choose one of --json and --csv")
    hstore = hstore_for(ctx, write=False)
    source_id = hstore.require_source(source_name).id if source_name else None
    clusters = hstore.iter_clusters(source_id)
    if as_json:
        for cluster in clusters:
            click.echo(json.dumps(_as_dict(cluster), ensure_ascii=False))
    elif as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["cluster", "source", "identifier", "title", "evidence"])
        for cluster in clusters:
            names = {m.id: m for m in cluster.members}
            for m in cluster.members:
                writer.writerow([cluster.id, m.source, m.identifier, m.title or "",
                                 "; ".join(_evidence(link, names, m.id)
                                           for link in cluster.links
                                           if m.id in (link.low_id, link.high_id))])
    else:
        count = records = 0
        for cluster in clusters:
            count += 1
            records += len(cluster.members)
            _print(cluster)
        click.echo(f"{count} cluster(s), {records} records"
                   + (f" (with a record of {source_name})" if source_name else ""))


def _describe(link: ClusterLink) -> str:
    if link.kind == "fingerprint":
        return f"fingerprint {link.value!r} (title similarity {link.score:.2f})"
    return f"{link.kind} {link.value}"


def _evidence(link: ClusterLink, names: dict[int, ClusterMember], me: int) -> str:
    other = names.get(link.high_id if link.low_id == me else link.low_id)
    where = f"{other.source} {other.identifier}" if other else "?"
    return f"{_describe(link)} with {where}"


def _as_dict(cluster: Cluster) -> dict[str, Any]:
    names = {m.id: m for m in cluster.members}

    def end(rid: int) -> dict[str, str] | None:
        m = names.get(rid)
        return {"source": m.source, "identifier": m.identifier} if m else None

    return {"cluster": cluster.id,
            "members": [{"source": m.source, "identifier": m.identifier, "title": m.title}
                        for m in cluster.members],
            "links": [{"a": end(link.low_id), "b": end(link.high_id), "kind": link.kind,
                       "value": link.value, "score": link.score} for link in cluster.links]}


def _print(cluster: Cluster) -> None:
    names = {m.id: m for m in cluster.members}
    click.echo(f"cluster {cluster.id} ({len(cluster.members)} records)")
    for m in cluster.members:
        click.echo(f"  {m.source}  {m.identifier}  {m.title or ''}")
    for link in cluster.links:
        a, b = names.get(link.low_id), names.get(link.high_id)
        if a and b:
            click.echo(f"    {a.source} {a.identifier} = {b.source} {b.identifier}: "
                       f"{_describe(link)}")
    click.echo("")


@duplicates.command("rebuild")
@click.option("--source", "source_name", metavar="NAME", help="Only this source's records.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@pass_ctx
def rebuild(ctx: CliContext, source_name: str | None, as_json: bool) -> None:
    """Extract identifiers and fingerprints again from the stored records and match them
    (records harvested before duplicate matching existed). Streams, batch by batch; an
    interrupted rebuild keeps what it did and can simply be run again."""
    from harvester.duplicates.policy import file_records

    hstore = hstore_for(ctx, write=True)
    chosen = [hstore.require_source(source_name)] if source_name else hstore.list_sources()
    if source_name:
        hstore.clear_duplicates(chosen[0].id)
    else:
        hstore.clear_duplicates()
    total = sum(hstore.counts(s.id)[0] for s in chosen)
    from oai.store.harvest.duplicates import MatchStats

    stats = MatchStats()
    try:
        with _progress(total, as_json) as advance:
            for source in chosen:
                file_records(hstore, source.id, stats, advance)
    except KeyboardInterrupt:
        click.echo(f"interrupted after {stats.records} records; what was done is kept: run "
                   "`oai duplicates rebuild` again to finish", err=True)
        sys.exit(130)
    filed, clusters, links = hstore.duplicate_counts()
    if as_json:
        click.echo(json.dumps({"records": stats.records, "filed": filed, "clusters": clusters,
                               "links": links, "lookups": stats.lookups}))
    else:
        click.echo(f"{stats.records} records read, {filed} filed; {clusters} cluster(s), "
                   f"{links} link(s)")


class _progress:
    """A progress bar with rate and ETA on a terminal (rich), nothing otherwise."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total = total
        self.bar: Any = None
        self.quiet = quiet or not sys.stderr.isatty()

    def __enter__(self) -> Any:
        if self.quiet:
            return lambda n: None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("matching"), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=Console(file=sys.stderr))
        task = self.bar.add_task("records", total=self.total)
        self.bar.start()
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
