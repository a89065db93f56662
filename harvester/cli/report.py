"""`oai report`: one page saying how each harvested source is doing."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click

from harvester.cli.group import hstore_for
from oai.cli.context import CliContext, fail, pass_ctx


def _database(url: str) -> str:
    """The store's URL as shown on the page: never its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the configured store"


def _write_atomically(path: Path, text: str) -> None:
    """Write the page beside its final name and rename it into place: a reader (or a web
    server publishing the file) never sees half a report."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror or error}")


@click.command("report")
@click.argument("names", nargs=-1)
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a self-contained HTML page (no network fetches) to this file.")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
@pass_ctx
def report(ctx: CliContext, names: tuple[str, ...], html_path: Path | None,
           as_json: bool) -> None:
    """How each harvested source is doing (or the sources NAMES): records and deletions,
    the last runs with their status and reason, quirks seen, validation failures and
    records over time. A summary line per source here; the whole story with --html."""
    from harvester.report import build_report, render_html

    hstore = hstore_for(ctx, write=False)
    built = build_report(hstore, _database(ctx.config.database_url), names)
    if html_path is not None:
        _write_atomically(html_path, render_html(built))
    if as_json:
        click.echo(json.dumps(built.as_json(), ensure_ascii=False))
        return
    for s in built.sources:
        last = s.runs[0] if s.runs else None
        click.echo(f"{s.name} [{s.health}]: {s.records:,} records ({s.deleted:,} deleted); "
                   + (f"last run #{last.id} {last.status}" if last else "never harvested")
                   + f"; {s.health_reason}")
    totals = built.totals
    click.echo(f"{totals['sources']} sources, {totals['records']:,} records, "
               f"{totals['failing']} failing, {totals['warnings']} with warnings"
               + (f"; report written to {html_path}" if html_path else ""))
