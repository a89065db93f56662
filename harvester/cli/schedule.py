"""`oai harvest schedule NAME EVERY`: how often the distributed scheduler harvests a source."""

from __future__ import annotations

import click

from harvester.cli.group import harvest, hstore_for
from oai.cli.context import CliContext, fail, pass_ctx


@harvest.command("schedule")
@click.argument("name")
@click.argument("every")
@pass_ctx
def schedule(ctx: CliContext, name: str, every: str) -> None:
    """Harvest source NAME every EVERY (30m, 12h, 7d, 2w) when Celery beat runs (`oai worker
    --beat` or `oai beat`); `off` harvests it only on demand."""
    from harvester.schedule import BadDuration, format_duration, parse_duration

    try:
        seconds = parse_duration(every)
    except BadDuration as exc:
        fail(str(exc))
    hstore = hstore_for(ctx, write=True)
    source = hstore.require_source(name)
    hstore.set_harvest_every(source.id, seconds)
    click.echo(f"{source.name}: harvested every {format_duration(seconds)}" if seconds
               else f"{source.name}: harvested on demand only")
