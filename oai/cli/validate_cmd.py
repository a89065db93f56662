"""`oai validate TARGET...`: check anyone's OAI-PMH XML, files or live repositories.

Only click is imported here: lxml, the validator and (for URLs) the harvester's client, made
as `oai remote` makes it, are imported when the command runs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from oai.cli.context import CliContext, fail, pass_ctx

if TYPE_CHECKING:
    from oai.validation import Report


def _is_url(target: str) -> bool:
    return target.lower().startswith(("http://", "https://"))


def _catalog(value: str | None) -> str | None:
    """The catalog to validate with, checked to be readable (one line if not)."""
    if not value:
        return None
    from oai.protocol.schemas import CatalogResolver

    path = Path(value).expanduser()
    if not path.is_file():
        fail(f"--schemas {value}: no such file")
    try:
        resolver = CatalogResolver(path)
    except Exception as exc:  # lxml's XMLSyntaxError: not a catalog at all
        fail(f"--schemas {value}: not an XML catalog ({' '.join(str(exc).split())})")
    if not resolver.exact:
        fail(f"--schemas {value}: the catalog maps no schema URL to a file")
    return str(path.resolve())


def _progress(enabled: bool) -> Callable[[str], None] | None:
    if not enabled:
        return None

    def show(message: str) -> None:
        click.echo(f"\r\x1b[K{message[:150]}", err=True, nl=False)
    return show


def _validate(ctx: CliContext, target: str, catalog: str | None, pages: int,
              progress: Callable[[str], None] | None) -> Report:
    from oai.validation import validate_bytes, validate_path, validate_url

    if target == "-":
        return validate_bytes(sys.stdin.buffer.read(), target="<stdin>", catalog=catalog)
    if not _is_url(target):
        return validate_path(target, catalog=catalog)
    from harvester.cli.group import client_for  # the one-off requests' policy of `remote`
    from oai.validation.walk import base_url

    show = (lambda message: progress(f"{target}: {message}")) if progress else None
    return validate_url(target, pages=pages, catalog=catalog, progress=show,
                        client=client_for(ctx, base_url(target)[0]))


@click.command("validate")
@click.argument("targets", nargs=-1, required=True)
@click.option("--schemas", "catalog", metavar="CATALOG",
              help="Validate with the schemas of this OASIS XML catalog instead of ours "
                   "(OAI_VALIDATE_SCHEMAS).")
@click.option("--pages", type=click.IntRange(min=1), metavar="N",
              help="Pages followed per list when walking a repository's URL [3].")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per problem, then one with the summary.")
@pass_ctx
def validate(ctx: CliContext, targets: tuple[str, ...], catalog: str | None,
             pages: int | None, as_json: bool) -> None:
    """Check OAI-PMH responses, records and metadata documents against their schemas and
    the protocol's rules.

    A TARGET is a file, a folder (every *.xml under it), `-` (standard input), or the base
    URL of a repository, whose every verb and format is sampled, following resumption
    tokens for up to --pages pages per list (a URL with a verb in its query is one response).
    Prints one line per problem and a summary; exits 1 if anything failed (warnings, such as
    a namespace without a schema, do not fail).
    """
    from oai.validation import Report

    chosen = _catalog(catalog or ctx.config.validate_schemas)
    progress = _progress(sys.stderr.isatty() and not as_json)
    total = Report()
    for target in targets:
        report = _validate(ctx, target, chosen, pages or ctx.config.validate_pages, progress)
        if progress is not None:
            click.echo("\r\x1b[K", err=True, nl=False)
        for problem in report.problems:
            click.echo(json.dumps(problem.as_dict(), ensure_ascii=False) if as_json
                       else problem.text())
        total.merge(report)
    if as_json:
        click.echo(json.dumps({"summary": total.summary()}, ensure_ascii=False))
    else:
        for line in total.summary_lines():
            click.echo(line)
    if not total.ok:
        sys.exit(1)
