"""Commands of other packages (the harvester's), registered under the `oai.commands` entry-point
group and loaded lazily, after click's LazyGroup pattern.

A plugin is imported only when its command runs, or for its short help when `oai --help` lists
it: a command module is expected to import only click at the top and the rest inside its
commands (the harvester's take about 50 ms), so no command pays for another's libraries. A
plugin that cannot be loaded is listed as unavailable, and fails in one line when invoked.
"""

from __future__ import annotations

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
        try:
            command = self.get_command(ctx, name)
        except click.ClickException as exc:
            return f"(unavailable: {exc.message})"
        return command.get_short_help_str(limit) if command is not None else ""
