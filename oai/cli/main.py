"""The `oai` command: store administration, loading, serving (and, composed in, harvesting).

Start-up stays light, so that `oai --version` and any `--help` answer at once: this module and
the command modules import only click and the standard library at module level. SQLAlchemy,
Alembic, lxml, Flask and the rest are imported by the commands that use them, and plugin
commands (the harvester's) only when they run (see `oai.cli.plugins`).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from typing import Any, NoReturn

import click

from oai.cli.context import CliContext
from oai.cli.fixtures_cmd import fixtures
from oai.cli.formats_cmd import check, formats
from oai.cli.load_cmd import load
from oai.cli.maintenance_cmd import maintenance
from oai.cli.plugins import PluginGroup
from oai.cli.sets_cmd import sets_group
from oai.cli.store_cmds import delete_cmd, init, serve, stats
from oai.cli.validate_cmd import validate
from oai.config import ConfigError, load_config
from oai.formats import FormatRegistryError
from oai.formats import configure as configure_formats
from oai.store.errors import StoreError


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def _driver_error(exc: BaseException) -> bool:
    """A database driver's or SQLAlchemy's error (only modules already imported are asked:
    if none is, the error cannot have come from them)."""
    for module, name in (("sqlalchemy.exc", "SQLAlchemyError"), ("sqlite3", "Error"),
                         ("psycopg", "Error")):
        kind = getattr(sys.modules.get(module), name, None)
        if isinstance(kind, type) and isinstance(exc, kind):
            return True
    return False


class OaiGroup(PluginGroup):
    """Turns expected failures into one line on stderr and a non-zero exit, never a trace."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # `oai export ... | head`: the reader has gone, not an error
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except (ConfigError, StoreError, FormatRegistryError, OSError) as exc:
            raise click.ClickException(_one_line(exc)) from None
        except Exception as exc:
            if _driver_error(exc):  # a read the store did not translate: still one line
                raise click.ClickException(f"database error: {_one_line(exc)}") from None
            raise


@click.group(cls=OaiGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              envvar="OAI_CONFIG", help="TOML config file (default: ./oai.toml if present).")
@click.option("--database-url", envvar="OAI_DATABASE_URL", metavar="URL",
              help="SQLAlchemy URL of the store (default sqlite:///var/oai.sqlite; "
                   "postgresql+psycopg://user@host/db for PostgreSQL).")
@click.version_option(package_name="oai-toolkit")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, database_url: str | None) -> None:
    """OAI-PMH 2.0 toolkit: serve a repository's records and harvest other repositories.

    Typical use: `oai init`, `oai load records/`, `oai serve`. Settings come from
    oai.toml, then OAI_* environment variables, then options.
    """
    try:
        config = load_config(config_path, database_url=database_url)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    configure_formats(config.formats, config.format_settings())  # checked at first use
    ctx.obj = CliContext(config)
    ctx.call_on_close(ctx.obj.close)


for _command in (init, load, delete_cmd, sets_group, serve, stats, fixtures, formats, check,
                 validate, maintenance):
    cli.add_command(_command)


def main() -> None:
    """The `oai` command. Once the command has finished (its store closed, see
    CliContext.close), the process ends without the interpreter's teardown, which spends a
    tenth of a second freeing the modules of a command that is over; the exit handlers
    still run and the streams are flushed first."""
    try:
        cli(prog_name="oai")
        status: object = 0
    except SystemExit as done:
        status = done.code
    leave(status)


def leave(status: object) -> NoReturn:
    """Exit with `status` as SystemExit would (None: 0, an int, else printed and 1), after
    running the atexit handlers and flushing stdout and stderr."""
    if status is None:
        code = 0
    elif isinstance(status, int):
        code = status
    else:
        print(status, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code)
