"""`oai remote identify|formats|sets URL`: look at a repository without adding it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from harvester.cli.group import check_url, client_for
from oai.cli.context import CliContext, fail, pass_ctx


@click.group("remote")
def remote() -> None:
    """Show what a remote OAI-PMH repository offers, without adding it as a source."""


def _ask(ctx: CliContext, url: str, what: Callable[[Any], Any]) -> Any:
    from harvester.errors import HarvestError

    try:
        return what(client_for(ctx, check_url(url)))
    except HarvestError as exc:
        fail(str(exc))


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                   .rstrip())


@remote.command("identify")
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
@pass_ctx
def identify(ctx: CliContext, url: str, as_json: bool) -> None:
    """What the repository at URL says about itself (Identify)."""
    from harvester import inspect

    info = _ask(ctx, url, inspect.identify)
    fields = {"repository_name": info.repository_name, "base_url": info.base_url,
              "protocol_version": info.protocol_version,
              "earliest_datestamp": info.earliest_datestamp,
              "deleted_record": info.deleted_record, "granularity": info.granularity.value,
              "compression": info.compression, "admin_emails": info.admin_emails}
    if as_json:
        click.echo(json.dumps(fields, ensure_ascii=False))
        return
    _table([(k.replace("_", " "), ", ".join(v) if isinstance(v, list) else str(v))
            for k, v in fields.items()], ("field", "value"))


@remote.command("formats")
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per format.")
@pass_ctx
def formats(ctx: CliContext, url: str, as_json: bool) -> None:
    """The metadata formats the repository at URL offers (ListMetadataFormats)."""
    from harvester import inspect

    found = _ask(ctx, url, inspect.formats)
    if as_json:
        for f in found:
            click.echo(json.dumps({"prefix": f.prefix, "schema": f.schema,
                                   "namespace": f.namespace}))
        return
    _table([(f.prefix, f.namespace, f.schema) for f in found],
           ("prefix", "namespace", "schema"))


@remote.command("sets")
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per set.")
@click.option("--pages", type=click.IntRange(min=1), default=50, show_default=True,
              help="Read at most this many pages of sets.")
@pass_ctx
def sets(ctx: CliContext, url: str, as_json: bool, pages: int) -> None:
    """The sets of the repository at URL (ListSets)."""
    from harvester import inspect

    found = _ask(ctx, url, lambda client: list(inspect.iter_sets(client, pages)))
    if as_json:
        for s in found:
            click.echo(json.dumps({"spec": s.spec, "name": s.name}, ensure_ascii=False))
        return
    if not found:
        click.echo("(no sets)")
        return
    _table([(s.spec, s.name) for s in found], ("setSpec", "setName"))
