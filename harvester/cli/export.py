"""`oai export NAME`: the records harvested from a source, as JSONL or one OAI-PMH document."""

from __future__ import annotations

import sys
from typing import IO

import click

from harvester.cli.group import hstore_for
from oai.cli.context import CliContext, pass_ctx


@click.command("export")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "xml"]), default="jsonl",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="File to write (default: standard output).")
@pass_ctx
def export(ctx: CliContext, name: str, fmt: str, output: str | None) -> None:
    """Export the records harvested from source NAME (JSONL or an OAI-PMH XML document)."""
    from harvester.export import write_jsonl, write_xml

    hstore = hstore_for(ctx, write=False)
    source = hstore.require_source(name)
    rows = hstore.iter_records(source.id)
    out: IO[bytes] = open(output, "wb") if output else sys.stdout.buffer  # noqa: SIM115
    try:
        count = (write_jsonl(rows, out) if fmt == "jsonl"
                 else write_xml(rows, out, source.base_url, source.metadata_prefix))
    finally:
        if output:
            out.close()
        else:
            out.flush()
    if output:
        click.echo(f"{count} records written to {output}", err=True)
