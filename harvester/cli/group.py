"""The `oai harvest` group; its commands live beside it, one module per job."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from oai.cli.context import CliContext, fail

if TYPE_CHECKING:
    from harvester.client import OAIClient
    from oai.store.harvest import HarvestStore

NAME = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")


@click.group("harvest")
def harvest() -> None:
    """Harvest remote OAI-PMH repositories into the local store.

    `oai harvest add NAME URL` checks and defines a source; `oai harvest run NAME` harvests
    it (everything the first time, then incrementally, resuming where a stopped run left).
    """


def hstore_for(ctx: CliContext, write: bool, adopt_formats: bool = True) -> HarvestStore:
    """The harvest store; only commands that write may create or migrate the store (see
    CliContext.open_store for adopt_formats)."""
    from oai.store.harvest import HarvestStore

    return HarvestStore(ctx.open_store(create=write, adopt_formats=adopt_formats))


def check_name(name: str) -> str:
    if not NAME.match(name):
        fail(f"{name!r} is not a valid source name (letters, digits, '.', '_', '-'; "
             "at most 64 characters, starting with a letter or digit)")
    return name


def check_url(url: str) -> str:
    """An OAI-PMH base URL: http(s), a host, a valid port, no query or fragment."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        fail(f"{url!r} has an invalid port")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        fail(f"{url!r} is not an OAI-PMH base URL (http:// or https:// and a host name)")
    if parts.query or parts.fragment:
        fail(f"{url!r} is not an OAI-PMH base URL (no query string or fragment)")
    if port == 0:
        fail(f"{url!r} has an invalid port")
    return url.strip()


def client_for(ctx: CliContext, url: str, min_interval: float | None = None) -> OAIClient:
    """A client with the configured timeouts, for one-off requests (checks, `remote`); its
    retry warnings are kept quiet: the outcome is said in one line."""
    import logging

    from harvester.client import OAIClient

    logging.getLogger("harvester").setLevel(logging.ERROR)
    c = ctx.config
    return OAIClient(url, user_agent=c.user_agent, read_timeout=c.harvest_timeout,
                     deadline=c.harvest_deadline, max_attempts=min(c.harvest_retries, 2),
                     max_retry_after=min(c.harvest_max_retry_after, 30.0),
                     min_interval=min_interval or 0.0,
                     max_bytes=c.harvest_max_response_mb * 1024 * 1024)
