"""`oai sets list|add`: the sets served by ListSets."""

from __future__ import annotations

import json

import click

from oai.cli.context import CliContext, fail, pass_ctx


@click.group("sets")
def sets_group() -> None:
    """List and define sets (setSpec a:b:c is a child of a:b)."""


@sets_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the sets as JSON lines.")
@pass_ctx
def sets_list(ctx: CliContext, as_json: bool) -> None:
    """List the sets."""
    store = ctx.open_store(read_only=True)
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

