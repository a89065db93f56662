"""What the validator found: problems (one per offending element) and the counts around them.

A problem names its target (a file, or the URL of the request whose response it is in), the
line, the record's identifier, the XPath of the offending element, a stable rule id, a
severity and a message. Errors fail a validation; warnings (a namespace without a schema,
an OAI error sent with an HTTP error status) do not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or unchecked) in one place."""

    target: str
    rule: str
    message: str
    severity: Severity = Severity.ERROR
    line: int | None = None
    xpath: str | None = None
    record: str | None = None
    namespace: str | None = None  # the schema's namespace, for schema problems

    def text(self) -> str:
        """One line: `target:line: severity [rule] record xpath: message`."""
        where = f"{self.target}:{self.line}" if self.line else self.target
        return (f"{where}: {self.severity} [{self.rule}] {self.record or '-'} "
                f"{self.xpath or '-'}: {self.message.replace(chr(10), ' ').rstrip()}")

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Severity) else v) for k, v in asdict(self).items()}


@dataclass
class Report:
    """Problems and counts of one validation (any number of targets)."""

    problems: list[Problem] = field(default_factory=list)
    targets: int = 0
    documents: int = 0  # XML documents read (files, HTTP responses)
    responses: int = 0  # of which OAI-PMH responses
    records: int = 0  # OAI-PMH records and headers, and bare metadata documents
    schemas: dict[str, str] = field(default_factory=dict)  # namespace -> schema used

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        """True when nothing failed (warnings alone do not fail)."""
        return not self.errors

    def add(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def merge(self, other: Report) -> None:
        self.problems.extend(other.problems)
        self.targets += other.targets
        self.documents += other.documents
        self.responses += other.responses
        self.records += other.records
        for namespace, location in other.schemas.items():
            self.schemas.setdefault(namespace, location)

    def by_rule(self) -> dict[str, dict[str, int]]:
        """Problem counts per rule and severity, rules in alphabetical order."""
        counts = Counter((p.rule, str(p.severity)) for p in self.problems)
        table: dict[str, dict[str, int]] = {}
        for (rule, severity), n in sorted(counts.items()):
            table.setdefault(rule, {"error": 0, "warning": 0})[severity] = n
        return table

    def summary(self) -> dict[str, Any]:
        return {"ok": self.ok, "targets": self.targets, "documents": self.documents,
                "responses": self.responses, "records": self.records,
                "errors": len(self.errors), "warnings": len(self.warnings),
                "problems": self.by_rule(), "schemas": dict(sorted(self.schemas.items()))}

    def summary_lines(self) -> Iterator[str]:
        """The summary as a small table."""
        for name in ("targets", "documents", "responses", "records"):
            yield f"{name:<12}{getattr(self, name):>8}"
        table = self.by_rule()
        if table:
            width = max(12, *(len(rule) + 2 for rule in table))
            yield f"{'problems':<{width}}{'errors':>8}{'warnings':>10}"
            for rule, counts in table.items():
                yield f"  {rule:<{width - 2}}{counts['error']:>8}{counts['warning']:>10}"
        verdict = "valid" if self.ok else "INVALID"
        yield (f"{verdict}: {len(self.errors)} error(s), {len(self.warnings)} warning(s)")
