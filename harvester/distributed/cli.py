"""`oai worker`, `oai beat`, and what `oai harvest run --distributed` does.

Celery is imported only when these run (so `oai --help` stays fast), and a missing extra is
said in one line.
"""

from __future__ import annotations

import json
import socket
from typing import TYPE_CHECKING, Any

import click

from oai.cli.context import CliContext, fail, pass_ctx

if TYPE_CHECKING:
    from oai.store.harvest import HarvestStore, SourceRow

MISSING = ("distributed harvesting needs Celery: pip install 'oai-toolkit[distributed]' "
           "({})")


def load_app(ctx: CliContext) -> Any:
    """The Celery application for this configuration, or a one-line error."""
    try:
        from harvester.distributed.app import make_app
    except ImportError as exc:
        fail(MISSING.format(exc))
    return make_app(ctx.config)


@click.command("worker")
@click.option("--concurrency", "-c", type=click.IntRange(min=1), default=4, show_default=True,
              help="Sources harvested at once by this worker (threads: the work is I/O).")
@click.option("--queues", "-Q", metavar="NAMES",
              help="Comma-separated queues to consume [the configured distributed_queue].")
@click.option("--name", "-n", metavar="NAME",
              help="This worker's node name, shown as the lease holder [oai-PID@HOST].")
@click.option("--beat", "-B", is_flag=True,
              help="Also run the scheduler that enqueues due sources (run one per cluster).")
@click.option("--loglevel", "-l", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]),
              help="Celery's log level.")
@pass_ctx
def worker(ctx: CliContext, concurrency: int, queues: str | None, name: str | None,
           beat: bool, loglevel: str) -> None:
    """Start a Celery worker that harvests the sources sent to it (`oai harvest run --all
    --distributed`, or the scheduler's tick). SIGTERM or Ctrl-C stops its runs after the
    page in flight; they resume on another worker."""
    import os

    app = load_app(ctx)
    ctx.open_store(create=False)  # a store that is missing or not migrated: one line, now
    argv = ["worker", "--pool", "threads", "--concurrency", str(concurrency),
            "--queues", queues or ctx.config.distributed_queue,
            "--hostname", name or f"oai-{os.getpid()}@{socket.gethostname()}",
            "--loglevel", loglevel.upper(), "--without-gossip", "--without-mingle"]
    if beat:
        argv.append("--beat")
    app.worker_main(argv)


@click.command("beat")
@click.option("--loglevel", "-l", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
@pass_ctx
def beat(ctx: CliContext, loglevel: str) -> None:
    """Run the scheduler alone: every `distributed_tick` seconds it asks a worker to enqueue
    the sources that are due (run one per cluster)."""
    app = load_app(ctx)
    app.Beat(loglevel=loglevel.upper(), scheduler="celery.beat:Scheduler").run()


def enqueue_sources(ctx: CliContext, hstore: HarvestStore, sources: list[SourceRow],
                    full: bool, as_json: bool) -> None:
    """`oai harvest run ... --distributed`: one task per source not being harvested."""
    app = load_app(ctx)
    from harvester.distributed.app import make_coordinator
    from harvester.distributed.enqueue import enqueue

    try:
        from kombu.exceptions import OperationalError
        from redis.exceptions import RedisError
    except ImportError as exc:
        fail(MISSING.format(exc))
    coordinator = None
    try:
        coordinator = make_coordinator(ctx.config)
        report = enqueue(app, ctx.config, hstore, coordinator, sources, full=full)
    except (OperationalError, RedisError) as exc:
        fail(f"cannot reach the broker or Redis ({ctx.config.broker_url}): "
             f"{str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__}")
    finally:
        if coordinator is not None:
            coordinator.close()
    for item in report:
        if as_json:
            click.echo(json.dumps(item, ensure_ascii=False))
        elif item["status"] == "queued":
            click.echo(f"{item['source']}: queued (task {item['task']})")
        else:
            click.echo(f"{item['source']}: not queued: {item['reason']}")
    if not as_json:
        queued = sum(1 for i in report if i["status"] == "queued")
        click.echo(f"{queued} of {len(report)} sources queued on "
                   f"{ctx.config.distributed_queue}; see 'oai harvest status'", err=True)
