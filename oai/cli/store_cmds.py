"""`oai init`, `oai delete`, `oai stats` and `oai serve`.

Read-only commands (`stats`, `serve`) open the store read-only, so they work on a store that
cannot be written (a file mode 0444, a read-only directory or mount) and never change it.
Heavy modules are imported inside the commands.
"""

from __future__ import annotations

import json
import sys

import click

from oai.cli.context import CliContext, fail, pass_ctx
from oai.config import Config, ConfigError


@click.command()
@pass_ctx
def init(ctx: CliContext) -> None:
    """Create the store (or migrate it to the newest schema)."""
    store = ctx.open_store(create=True)
    click.echo(f"store ready: {store.engine.url.render_as_string(hide_password=True)}")


@click.command("delete")
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


@click.command()
@click.option("--host", help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 8000).")
@click.option("--workers", type=int, help="Worker processes (default 2).")
@click.option("--threads", type=int,
              help="Threads per worker, serving connections (default 4).")
@click.option("--concurrent-answers", type=int,
              help="Answers a worker computes at once; other requests wait their turn in "
                   "arrival order (default 1).")
@click.option("--access-log", is_flag=True, help="Log every request to stderr.")
@pass_ctx
def serve(ctx: CliContext, host: str | None, port: int | None, workers: int | None,
          threads: int | None, concurrent_answers: int | None, access_log: bool) -> None:
    """Serve the store over OAI-PMH at http://HOST:PORT/oai (gunicorn)."""
    from dataclasses import replace

    from oai.provider.server import serve as run_server

    config = replace(
        ctx.config, host=host or ctx.config.host,
        port=ctx.config.port if port is None else port,
        workers=ctx.config.workers if workers is None else workers,
        threads=ctx.config.threads if threads is None else threads,
        concurrent_answers=(ctx.config.concurrent_answers if concurrent_answers is None
                            else concurrent_answers)).validated()
    check_served_settings(config)
    # Fail here, in one line, if the store is not usable. The provider never writes: each
    # worker opens the store itself, read-only whenever the file cannot be written.
    ctx.open_store(read_only=True).close()
    from oai.formats import registry

    registry()  # the formats setting names installed formats, oai_dc among them
    _check_port_free(config.host, config.port)
    url = f"http://{config.host}:{config.port}/oai"
    click.echo(f"serving {url} with {config.workers} workers of {config.threads} threads, "
               f"{config.concurrent_answers} answer(s) at a time each (Ctrl+C to stop)",
               err=True)
    for example in ("?verb=Identify", "?verb=ListRecords&metadataPrefix=oai_dc",
                    "?verb=GetRecord&metadataPrefix=oai_dc&identifier="
                    f"oai:{config.repository_identifier}:123456"):
        click.echo(f"  {url}{example}", err=True)
    if config.stylesheet:
        click.echo("  (a web browser shows them as pages: open the first one)", err=True)
    run_server(config, access_log=access_log)


def check_served_settings(config: Config) -> None:
    """Raise ConfigError, in one line naming the table, unless the configured Identify
    descriptions and about containers are schema-valid (the settings' own checks already
    passed; this asks the schemas the responses are judged by)."""
    from oai.description_config import SettingError
    from oai.protocol.descriptions import check_descriptions

    try:
        check_descriptions(config.identify, config.about_rights)
    except SettingError as exc:
        raise ConfigError(f"configuration: {exc}") from None


def _check_port_free(host: str, port: int) -> None:
    """Say so in one line when the address is taken, instead of gunicorn's retry loop."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@pass_ctx
def stats(ctx: CliContext, as_json: bool) -> None:
    """Counts of records, tombstones, sets and formats in the store."""
    from oai.protocol.datestamps import format_datestamp

    figures = ctx.open_store(read_only=True).stats()
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
