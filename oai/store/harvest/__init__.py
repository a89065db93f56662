"""Harvest state in the store: sources, leases, runs, windows, harvested records, quarantine.

The harvester's sync loop is the only caller that writes here. Every unit of work runs in its
own short transaction, retried on a fresh connection when the database connection is lost.
"""

from oai.store.harvest.dupqueries import DuplicateQueries
from oai.store.harvest.pages import PageWriter
from oai.store.harvest.publishing import PublishQueries
from oai.store.harvest.reconcile import ReconcileQueries
from oai.store.harvest.records import RecordQueries
from oai.store.harvest.report import ReportQueries
from oai.store.harvest.rows import (
    DuplicateKeys,
    HarvestedRow,
    PageWrite,
    QuarantineWrite,
    RecordWrite,
    RunRow,
    SourceRow,
    WindowRow,
)
from oai.store.harvest.runs import RunQueries
from oai.store.harvest.sources import SourceExists, SourceHeld, SourceQueries, UnknownSource


class HarvestStore(SourceQueries, RunQueries, PageWriter, RecordQueries, ReportQueries,
                   DuplicateQueries, ReconcileQueries, PublishQueries):
    """Harvest state over the same engine as the provider's store."""


__all__ = [
    "DuplicateKeys",
    "HarvestStore",
    "HarvestedRow",
    "PageWrite",
    "QuarantineWrite",
    "RecordWrite",
    "RunRow",
    "SourceExists",
    "SourceHeld",
    "SourceRow",
    "UnknownSource",
    "WindowRow",
]
