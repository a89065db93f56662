"""Validating documents one at a time: bytes, files and folders of files.

A document gets its schema checks (`documents`) and, when it is an OAI-PMH response, the
protocol rules (`rules`) it can be judged by alone: a single page says which request it
answers (its request element), and its cursor says how many items came before it.
"""

from __future__ import annotations

from pathlib import Path

from oai.validation.documents import Catalog, Hints, check_document
from oai.validation.report import Problem, Report, Severity
from oai.validation.rules import Context, ListState, Response, check_rules


def check_bytes(data: bytes, target: str, *, catalog: Catalog = None,
                hints: Hints | None = None, context: Context | None = None,
                ) -> tuple[Report, Response | None]:
    """One document's report (one document counted) and, for an OAI-PMH response, what
    the rules read of it. Without a `context`, the response is judged as a lone page."""
    report = Report(documents=1)
    checked = check_document(data, target, catalog=catalog, hints=hints)
    report.add(checked.problems)
    report.records = checked.records
    report.schemas.update(checked.schemas)
    if checked.tree is None or not checked.is_response:
        return report, None
    report.responses = 1
    response = Response.read(checked.tree.getroot())
    if context is None:
        context = Context(list=ListState(resumed="resumptionToken" in response.request))
    report.add(check_rules(response, context, target))
    return report, response


def validate_bytes(data: bytes, *, target: str = "<bytes>", catalog: Catalog = None) -> Report:
    """Validate one XML document given as bytes: an OAI-PMH response, a bare record, a dump
    of records or a metadata document of any format whose schema the catalog holds."""
    report, _ = check_bytes(data, target, catalog=catalog)
    report.targets = 1
    return report


def validate_file(path: str | Path, *, catalog: Catalog = None) -> Report:
    """Validate one file; one that cannot be read is a problem of that target."""
    target = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return Report([Problem(target, "unreadable", exc.strerror or str(exc))], targets=1)
    return validate_bytes(data, target=target, catalog=catalog)


def validate_path(path: str | Path, *, catalog: Catalog = None) -> Report:
    """A file, or every *.xml file under a folder (recursively, in name order)."""
    folder = Path(path)
    if not folder.is_dir():
        return validate_file(path, catalog=catalog)
    report = Report(targets=1)
    files = sorted(p for p in folder.rglob("*.xml") if p.is_file())
    if not files:
        report.add([Problem(str(path), "no-documents", "the folder holds no *.xml file",
                            Severity.WARNING)])
    for file in files:
        found = validate_file(file, catalog=catalog)
        found.targets = 0
        report.merge(found)
    return report
