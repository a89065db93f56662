"""The harvester's commands, plugged into `oai` through the `oai.commands` entry-point group
(so `oai` itself never imports the harvester). Only click is imported here: each command
imports what it needs when it runs, so `oai --help` stays quick."""

from harvester.cli import run, schedule, sources  # noqa: F401  (they attach their commands to the group)
from harvester.cli.duplicates import duplicates
from harvester.cli.export import export
from harvester.cli.group import harvest
from harvester.cli.reconcile import reconcile
from harvester.cli.remote import remote
from harvester.cli.report import report

__all__ = ["duplicates", "export", "harvest", "reconcile", "remote", "report"]
