"""Commands of other packages (the harvester's), registered under the `oai.commands` entry-point
group and loaded lazily, after click's LazyGroup pattern.

A plugin is imported only when its command (or its `--help`) runs. `oai --help` still lists
every plugin with its short help, read from the command function's source (its decorator's
`short_help`/`help`, else its docstring) without importing the plugin's module, so a heavy
plugin cannot slow down the start of every other command. Where the source cannot be read, the
plugin is imported for its help after all.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

ENTRY_POINT_GROUP = "oai.commands"


class PluginGroup(click.Group):
    """A group whose own commands win over plugins of the same name."""

    def __init__(self, *args: Any, entry_point_group: str = ENTRY_POINT_GROUP,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entry_point_group = entry_point_group
        self._plugins: dict[str, EntryPoint] | None = None

    def plugins(self) -> dict[str, EntryPoint]:
        """The group's entry points not shadowed by a command of our own, by name."""
        if self._plugins is None:
            from importlib.metadata import entry_points

            self._plugins = {e.name: e for e in entry_points(group=self.entry_point_group)
                             if e.name not in self.commands}
        return self._plugins

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.plugins()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is not None:
            return command
        entry = self.plugins().get(cmd_name)
        if entry is None:
            return None
        try:
            loaded = entry.load()
        except Exception as exc:  # a broken plugin: say which, in one line
            raise click.ClickException(f"the {cmd_name!r} command ({entry.value}) cannot be "
                                       f"loaded: {exc.__class__.__name__}: {exc}") from None
        if not isinstance(loaded, click.Command):
            raise click.ClickException(f"the {cmd_name!r} command ({entry.value}) is not a "
                                       "click command")
        self.add_command(loaded, cmd_name)
        return loaded

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(n) for n in names), default=0)
        rows: list[tuple[str, str]] = []
        for name in names:
            command = self.commands.get(name)
            if command is None:
                rows.append((name, self._plugin_short_help(ctx, name, limit)))
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def _plugin_short_help(self, ctx: click.Context, name: str, limit: int) -> str:
        text = source_help(self.plugins()[name])
        if text is not None:  # click's own shortening, through a stand-in command
            return click.Command(name, help=text).get_short_help_str(limit)
        try:
            command = self.get_command(ctx, name)
        except click.ClickException as exc:
            return f"(unavailable: {exc.message})"
        return command.get_short_help_str(limit) if command is not None else ""


def source_help(entry: EntryPoint) -> str | None:
    """The help of the command an entry point names, read from its module's source: the
    decorator's `short_help=` or `help=` if a literal, else the function's docstring. None
    if the source cannot be found or the object is not a plain top-level function."""
    module, _, attribute = entry.value.partition(":")
    attribute = attribute.split("[", 1)[0].strip()
    if not attribute or "." in attribute:
        return None
    try:
        spec = importlib.util.find_spec(module.strip())
    except (ImportError, ValueError):
        return None
    origin = spec.origin if spec is not None else None
    if not origin or not origin.endswith(".py"):
        return None
    try:
        tree = ast.parse(Path(origin).read_bytes(), origin)
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == attribute:
            return _decorator_help(node) or ast.get_docstring(node)
    return None


def _decorator_help(node: ast.FunctionDef) -> str | None:
    for decorator in node.decorator_list:
        if not isinstance(decorator, ast.Call):
            continue
        func = decorator.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if called not in ("command", "group"):  # not @click.option(..., help=...)
            continue
        keywords = {k.arg: k.value for k in decorator.keywords}
        for key in ("short_help", "help"):
            value = keywords.get(key)
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value
    return None
