"""State shared by the CLI's commands: the config and a lazily opened store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

import click

from oai.config import Config

if TYPE_CHECKING:
    from oai.store.repository import Store


@dataclass
class CliContext:
    config: Config
    _store: Store | None = field(default=None, repr=False)

    def open_store(self, create: bool = False, read_only: bool = False,
                   adopt_formats: bool = True) -> Store:
        """The store at the configured URL; create=True initialises or migrates it,
        read_only=True opens it so that nothing at all is written (read-only commands).
        adopt_formats=False skips noting a record-less store current with every registered
        format (loading every format plug-in to do so), for commands that never touch the
        provider's records or renditions (a harvest run)."""
        if self._store is None:
            from oai.store.repository import Store  # SQLAlchemy: not before a command runs

            self._store = Store.open(self.config.database_url, create=create,
                                     read_only=read_only)
            if create and adopt_formats:  # an empty store is current with every format
                from oai.formats import registry

                self._store.adopt_format_versions(
                    {prefix: fmt.version for prefix, fmt in registry().items()})
        return self._store

    def close(self) -> None:
        """Close the store the command opened: on SQLite the last connection's close is the
        checkpoint that makes the command's writes durable, so it is done here, explicitly,
        not left to the interpreter's teardown."""
        if self._store is not None:
            self._store.close()
            self._store = None


pass_ctx = click.make_pass_decorator(CliContext)


def fail(message: str) -> NoReturn:
    """Stop with a one-line error and exit status 1."""
    raise click.ClickException(message)
