"""`oai maintenance on|off|status`: the switch every provider process on the store obeys."""

from __future__ import annotations

import json

import click

from oai.cli.context import CliContext, fail, pass_ctx

#: A day: longer, and harvesters would rather give up than wait (they cap Retry-After).
MAX_RETRY_AFTER = 86_400
MAX_MESSAGE = 500


def _report(state: object, as_json: bool, changed: str | None = None) -> None:
    from oai.store.maintenance import Maintenance

    on = isinstance(state, Maintenance)
    if as_json:
        data: dict[str, object] = {"maintenance": on}
        if isinstance(state, Maintenance):
            data.update(retry_after=state.retry_after, message=state.message,
                        since=state.since)
        click.echo(json.dumps(data))
    elif isinstance(state, Maintenance):
        click.echo(f"maintenance on{changed or ''}: every request is answered 503, "
                   f"Retry-After {state.retry_after}s, {state.message!r} "
                   "(seen by every oai serve within a second)")
    else:
        click.echo(f"maintenance off{changed or ''}: requests are served")


@click.group("maintenance")
def maintenance() -> None:
    """Turn the maintenance switch on or off for every `oai serve` on this store."""


@maintenance.command("on")
@click.option("--retry-after", type=int, default=None, metavar="S",
              help="Seconds clients are asked to wait (default 300).")
@click.option("--message", default=None, metavar="TEXT", help="What clients are told.")
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
@pass_ctx
def on(ctx: CliContext, retry_after: int | None, message: str | None, as_json: bool) -> None:
    """Answer every OAI-PMH request 503 with Retry-After."""
    from oai.store.maintenance import DEFAULT_MESSAGE, DEFAULT_RETRY_AFTER, set_maintenance

    seconds = DEFAULT_RETRY_AFTER if retry_after is None else retry_after
    if not 1 <= seconds <= MAX_RETRY_AFTER:
        fail(f"--retry-after must be between 1 and {MAX_RETRY_AFTER} seconds, not {seconds}")
    text = DEFAULT_MESSAGE if message is None else " ".join(message.split())
    if not text:
        fail("--message must not be empty")
    if len(text) > MAX_MESSAGE:
        fail(f"--message is {len(text)} characters long; at most {MAX_MESSAGE}")
    if any(ord(c) < 32 for c in text):
        fail("--message must not contain control characters")
    _report(set_maintenance(ctx.open_store(), seconds, text), as_json)


@maintenance.command("off")
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
@pass_ctx
def off(ctx: CliContext, as_json: bool) -> None:
    """Serve requests again."""
    from oai.store.maintenance import clear_maintenance

    was_on = clear_maintenance(ctx.open_store())
    _report(None, as_json, None if was_on else " (it was not on)")


@maintenance.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
@pass_ctx
def status(ctx: CliContext, as_json: bool) -> None:
    """Whether the switch is on, and what clients are told."""
    from oai.store.maintenance import maintenance_state

    _report(maintenance_state(ctx.open_store(read_only=True)), as_json)
