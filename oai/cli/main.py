"""The `oai` command: store administration, loading, serving (and, composed in, harvesting)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from oai.cli.context import CliContext, fail, pass_ctx
from oai.cli.fixtures_cmd import fixtures
from oai.cli.loading import RecordBatcher, iter_inputs
from oai.config import ConfigError, load_config
from oai.protocol.datestamps import format_datestamp
from oai.store.repository import StoreError


class OaiGroup(click.Group):
    """Turns expected failures into one line on stderr and a non-zero exit, never a trace."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # `oai export ... | head`: the reader has gone, not an error
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except (ConfigError, StoreError, OSError) as exc:
            raise click.ClickException(str(exc).splitlines()[0] if str(exc) else
                                       exc.__class__.__name__) from None


@click.group(cls=OaiGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              envvar="OAI_CONFIG", help="TOML config file (default: ./oai.toml if present).")
@click.option("--database-url", envvar="OAI_DATABASE_URL", metavar="URL",
              help="SQLAlchemy URL of the store (default sqlite:///var/oai.sqlite; "
                   "postgresql+psycopg://user@host/db for PostgreSQL).")
@click.version_option(package_name="oai-toolkit")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, database_url: str | None) -> None:
    """OAI-PMH 2.0 toolkit: serve a repository's records and harvest other repositories.

    Typical use: `oai init`, `oai load records/`, `oai serve`. Settings come from
    oai.toml, then OAI_* environment variables, then options.
    """
    try:
        config = load_config(config_path, database_url=database_url)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    ctx.obj = CliContext(config)


@cli.command()
@pass_ctx
def init(ctx: CliContext) -> None:
    """Create the store (or migrate it to the newest schema)."""
    store = ctx.open_store(create=True)
    click.echo(f"store ready: {store.engine.url.render_as_string(hide_password=True)}")


@cli.command()
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
    store = ctx.open_store(create=True)
    batcher = RecordBatcher(store, batch_size)
    inputs = iter_inputs([*paths])
    total = sum(item.size for item in inputs.files)
    show_bar = sys.stderr.isatty() and not as_json
    with click.progressbar(length=total, label="loading", file=sys.stderr,
                           show_eta=True, show_percent=True) if show_bar else _null_bar() as bar:
        for item in inputs:
            if item.kind == "set":
                batcher.add_set(item)
            else:
                batcher.add(item)
            if item.advance:
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


class _null_bar:
    def __enter__(self) -> _null_bar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


@cli.command("delete")
@click.argument("ids", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_ctx
def delete_cmd(ctx: CliContext, ids: tuple[str, ...], as_json: bool) -> None:
    """Withdraw records by local id, leaving persistent tombstones."""
    store = ctx.open_store()
    done, already, unknown = store.delete(ids)
    if as_json:
        click.echo(json.dumps({"deleted": done, "already_deleted": already, "unknown": unknown}))
    else:
        click.echo(f"{len(done)} deleted, {len(already)} already deleted, "
                   f"{len(unknown)} unknown")
        for rid in unknown:
            click.echo(f"unknown id: {rid}", err=True)
    if unknown:
        sys.exit(1)


@cli.group("sets")
def sets_group() -> None:
    """List and define sets (setSpec a:b:c is a child of a:b)."""


@sets_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the sets as JSON lines.")
@pass_ctx
def sets_list(ctx: CliContext, as_json: bool) -> None:
    """List the sets."""
    store = ctx.open_store()
    after: str | None = None
    while True:
        page = store.sets_page(after, 500)
        for info in page:
            if as_json:
                click.echo(json.dumps({"spec": info.spec, "name": info.name,
                                       "description": info.description}, ensure_ascii=False))
            else:
                click.echo(f"{info.spec}\t{info.name}")
        if len(page) < 500:
            break
        after = page[-1].spec


@sets_group.command("add")
@click.argument("spec")
@click.argument("name")
@click.option("--description", help="A description, served as setDescription.")
@pass_ctx
def sets_add(ctx: CliContext, spec: str, name: str, description: str | None) -> None:
    """Define (or rename) the set SPEC called NAME."""
    from oai.cli.loading import SET_SPEC

    if not SET_SPEC.match(spec):
        fail(f"{spec!r} is not a valid setSpec (letters, digits, -_.!~*'() separated by ':')")
    store = ctx.open_store()
    created = store.add_set(spec, name, description)
    click.echo(f"{'added' if created else 'updated'} set {spec}")


@cli.command()
@click.option("--host", help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 8000).")
@click.option("--workers", type=int, help="Worker processes (default 2).")
@click.option("--threads", type=int, help="Threads per worker (default 4).")
@click.option("--access-log", is_flag=True, help="Log every request to stderr.")
@pass_ctx
def serve(ctx: CliContext, host: str | None, port: int | None, workers: int | None,
          threads: int | None, access_log: bool) -> None:
    """Serve the store over OAI-PMH at http://HOST:PORT/oai (gunicorn)."""
    from dataclasses import replace

    from oai.provider.server import serve as run_server

    config = replace(ctx.config, host=host or ctx.config.host, port=port or ctx.config.port,
                     workers=workers or ctx.config.workers,
                     threads=threads or ctx.config.threads).validated()
    ctx.open_store().close()  # fail here, in one line, if the store is not usable
    _check_port_free(config.host, config.port)
    url = f"http://{config.host}:{config.port}/oai"
    click.echo(f"serving {url} with {config.workers} workers of {config.threads} threads "
               "(Ctrl+C to stop)", err=True)
    for example in ("?verb=Identify", "?verb=ListRecords&metadataPrefix=oai_dc",
                    "?verb=GetRecord&metadataPrefix=oai_dc&identifier="
                    f"oai:{config.repository_identifier}:123456"):
        click.echo(f"  {url}{example}", err=True)
    run_server(config, access_log=access_log)


def _check_port_free(host: str, port: int) -> None:
    """Say so in one line when the address is taken, instead of gunicorn's retry loop."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@pass_ctx
def stats(ctx: CliContext, as_json: bool) -> None:
    """Counts of records, tombstones, sets and formats in the store."""
    figures = ctx.open_store().stats()
    if as_json:
        click.echo(json.dumps(figures))
        return
    click.echo(f"records:  {figures['records']} ({figures['deleted']} deleted)")
    click.echo(f"sets:     {figures['sets']}")
    for prefix, count in sorted(figures["formats"].items()):
        click.echo(f"format:   {prefix} {count}")
    for key in ("earliest_datestamp", "latest_datestamp"):
        value = figures[key]
        click.echo(f"{key.split('_')[0]}: {format_datestamp(value) if value else '-'}")


cli.add_command(fixtures)


def _add_plugin_commands() -> None:
    """Commands of other packages (the harvester) registered under `oai.commands`."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="oai.commands"):
        cli.add_command(entry.load(), entry.name)


_add_plugin_commands()


def main() -> None:
    cli(prog_name="oai")
