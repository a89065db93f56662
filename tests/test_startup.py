"""Start-up stays light: `oai --version` and the help of every command import none of the heavy
libraries, and plugin commands (entry points of `oai.commands`) are imported only when they
run, while `oai --help` still lists them with their short help.

Checked by which modules a real `oai` process imported, never by the clock; bench/startup.py
prints the timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

OAI = str(Path(sys.executable).with_name("oai"))
HEAVY = ("sqlalchemy", "alembic", "lxml", "requests", "flask", "werkzeug", "jinja2",
         "fastjsonschema", "gunicorn", "psycopg", "sickle", "harvester.sync",
         "harvester.client", "harvester.parsing", "oai.store.repository", "oai.provider")


# Runs the `oai` script as `oai` would run, then lists sys.modules, whatever way they were
# imported (-X importtime misses importlib.import_module, which entry points use).
# The listing is written by an exit handler: `oai` ends with os._exit once its exit handlers
# have run (oai.cli.main.leave), so code after the script would never run.
_PROBE = """
import atexit, json, runpy, sys
script, listing = sys.argv[1], sys.argv[2]
sys.argv = [script, *sys.argv[3:]]

def write_listing():
    with open(listing, "w") as fh:
        json.dump(sorted(sys.modules), fh)

atexit.register(write_listing)
runpy.run_path(script, run_name="__main__")
"""


def run_oai(*args: str, pythonpath: Path | None = None) -> tuple[subprocess.CompletedProcess[str],
                                                                  set[str]]:
    """Run `oai ARGS` in a fresh interpreter: the process and the modules it imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    with tempfile.TemporaryDirectory() as folder:
        listing = Path(folder) / "modules.json"
        proc = subprocess.run([sys.executable, "-c", _PROBE, OAI, str(listing), *args],
                              capture_output=True, text=True, env=env, timeout=60)
        modules = set(json.loads(listing.read_text()))
    assert "click" in modules and "oai.cli.main" in modules  # the listing is real
    return proc, modules


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.mark.parametrize("args", [
    ["--version"], ["--help"], ["load", "--help"], ["sets", "--help"],
    ["stats", "--help"], ["serve", "--help"], ["init", "--help"],
    ["delete", "--help"], ["fixtures", "generate", "--help"], ["validate", "--help"],
])
def test_version_and_help_import_nothing_heavy(args: list[str]) -> None:
    proc, modules = run_oai(*args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert heavy(modules) == []


def test_top_level_help_lists_plugins_with_their_short_help() -> None:
    proc, modules = run_oai("--help")
    lines = {line.split()[0]: line.strip() for line in proc.stdout.splitlines()
             if line.startswith("  ") and line.strip()}
    helps = {name: line.split(None, 1)[-1] for name, line in lines.items()}  # any width
    assert helps["harvest"].startswith("Harvest remote OAI-PMH repositories")
    assert helps["export"].startswith("Export the records harvested from source")
    assert helps["reconcile"].startswith("Compare source NAME with the local copy")
    assert helps["duplicates"].startswith("List clusters of harvested records")
    assert helps["report"].startswith("How each harvested source is doing")
    assert {"init", "load", "delete", "sets", "serve", "stats", "fixtures", "validate"} \
        <= set(lines)
    assert heavy(modules) == []  # the plugins were imported for their help, and are light


def test_plugin_help_is_the_plugin_own() -> None:
    proc, _ = run_oai("harvest", "--help")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("Usage: oai harvest [OPTIONS] COMMAND [ARGS]...")
    for command in ("add", "list", "run", "status"):
        assert f"  {command} " in proc.stdout


@pytest.mark.parametrize("args", [["harvest", "--help"], ["harvest", "run", "--help"],
                                  ["harvest", "add", "--help"], ["remote", "--help"],
                                  ["export", "--help"]])
def test_plugin_help_imports_nothing_heavy(args: list[str]) -> None:
    proc, modules = run_oai(*args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert heavy(modules) == []


def _plugin_distribution(root: Path) -> Path:
    """A real distribution on PYTHONPATH registering three `oai.commands`: one that works, one
    whose module cannot be imported, one that is not a command."""
    (root / "oaiplug.py").write_text(
        "import click\n\n\n"
        "@click.command(short_help='Say hello (short).')\n"
        "def hello() -> None:\n"
        "    \"\"\"Say hello, at length.\"\"\"\n"
        "    click.echo('hello from a plugin')\n")
    (root / "oaiplug_other.py").write_text("not_a_command = 42\n")
    (root / "oaiplug_broken.py").write_text(
        "import click\n\n"
        "raise RuntimeError('this plugin is broken')\n\n\n"
        "@click.command()\n"
        "def broken() -> None:\n"
        "    \"\"\"A command whose module fails to import.\"\"\"\n")
    info = root / "oaiplug-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: oaiplug\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[oai.commands]\nhello = oaiplug:hello\nbroken = oaiplug_broken:broken\n"
        "notcmd = oaiplug_other:not_a_command\n")
    return root


def test_third_party_plugins_are_lazy_and_fail_in_one_line(tmp_path: Path) -> None:
    root = _plugin_distribution(tmp_path)
    proc, modules = run_oai("--help", pythonpath=root)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Say hello (short)." in proc.stdout
    assert "(unavailable: the 'broken' command" in proc.stdout
    assert "(unavailable: the 'notcmd' command" in proc.stdout

    hello, modules = run_oai("hello", pythonpath=root)
    assert hello.returncode == 0 and hello.stdout == "hello from a plugin\n"
    assert "oaiplug" in modules and "oaiplug_broken" not in modules

    for name, value, message in (
            ("broken", "oaiplug_broken:broken",
             "cannot be loaded: RuntimeError: this plugin is broken"),
            ("notcmd", "oaiplug_other:not_a_command", "is not a click command")):
        proc, _ = run_oai(name, pythonpath=root)
        assert proc.returncode == 1
        assert proc.stderr.splitlines() == [f"Error: the {name!r} command ({value}) {message}"]
