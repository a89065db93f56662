"""`oai sets list|add|remove`: the sets served by ListSets.

Removing a set that records (or sub-sets) still use is refused unless --force, which takes the
set and its sub-sets out of those records (they get new datestamps, so incremental harvesters
see the change) and then removes the set with its sub-sets: a sub-set cannot outlive its parent,
since membership in `a:b` means membership in `a`.
"""

from __future__ import annotations

import json

import click

from oai.cli.context import CliContext, fail, pass_ctx
from oai.cli.inputs import SET_SPEC


@click.group("sets")
def sets_group() -> None:
    """List, define and remove sets (setSpec a:b:c is a child of a:b)."""


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
@click.option("--description",
              help="A description, served as setDescription (\"\" removes it). Without this "
                   "option an existing set keeps its description.")
@pass_ctx
def sets_add(ctx: CliContext, spec: str, name: str, description: str | None) -> None:
    """Define (or rename) the set SPEC called NAME; missing ancestors are created too."""
    from oai.store.repository import KEEP

    if not SET_SPEC.match(spec):
        fail(f"{spec!r} is not a valid setSpec (letters, digits, -_.!~*'() separated by ':')")
    if not name.strip():
        fail("a set needs a name")
    store = ctx.open_store()
    created = store.add_set(spec, name, KEEP if description is None else (description or None))
    click.echo(f"{'added' if created else 'updated'} set {spec}")


@sets_group.command("remove")
@click.argument("spec")
@click.option("--force", is_flag=True,
              help="Take the set and its sub-sets out of the records in them, then remove "
                   "them all.")
@pass_ctx
def sets_remove(ctx: CliContext, spec: str, force: bool) -> None:
    """Remove the set SPEC; refused while records or sub-sets use it, unless --force."""
    from oai.store.errors import SetInUse
    from oai.store.setadmin import remove_set

    store = ctx.open_store()
    try:
        removal = remove_set(store, spec, force=force)
    except SetInUse as exc:
        fail(f"{exc}: give --force to take it (and its sub-sets) out of those records and "
             "remove it with its sub-sets")
    subsets = len(removal.sets_removed) - 1
    click.echo(f"removed set {spec}"
               + (f" and {subsets} sub-set{'s' if subsets != 1 else ''}" if subsets else "")
               + f"; {removal.records_updated} record"
               + f"{'s' if removal.records_updated != 1 else ''} updated")
