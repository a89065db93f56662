"""Schema checks of one XML document of any kind, offline.

What is validated, and with which schemas (each found by `oai.protocol.schemas.schema_for`):
- an OAI-PMH response: the envelope with OAI-PMH.xsd, compiled together with the schema of
  every payload namespace it holds (the children of metadata, about, description and
  setDescription: strict wildcards), so the whole response is judged in one pass;
- a bare OAI-PMH <record> or <header>, or a dump of records (a root in no namespace around
  them): each one against OAI-PMH.xsd's record type and its payloads' schemas;
- any other document (a bare <oai_dc:dc>, DataCite <resource>, <mods>, a MARC <collection>):
  against the schema of its root's namespace.
A namespace without a schema is reported once per document as a warning (`no-schema`), and
its elements are not judged. An element a format plug-in recognises as its record spelt
otherwise (`Format.diagnose`, e.g. RIOXX's example spelling without a namespace) is told as
such: an error saying what is wrong, as the `no-schema` problem or, next to the schema errors
of a record that does have a schema, as `format-spelling`. When the OAI-PMH schema itself
is unknown (another catalog that lacks it), the payloads are still validated one by one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from oai.protocol.namespaces import OAI, XSI
from oai.protocol.schemas import SchemaViolation, schema_for, validate_with
from oai.validation.locate import HEADER, RECORD, PathIndex, record_of, xpath_of
from oai.validation.report import Problem, Severity

OAI_ROOT = f"{{{OAI}}}OAI-PMH"
CONTAINERS = frozenset(f"{{{OAI}}}{name}" for name in
                       ("metadata", "about", "description", "setDescription"))
BARE_OAI = (("record", "recordType"), ("header", "headerType"))
_NO_GLOBAL_DECLARATION = "SCHEMAV_CVC_ELT_1"  # also the strict wildcard's complaint

Catalog = Path | str | None
Hints = dict[str, list[str]]


@dataclass
class Checked:
    """One document after its schema checks."""

    tree: etree._ElementTree | None
    problems: list[Problem] = field(default_factory=list)
    records: int = 0
    schemas: dict[str, str] = field(default_factory=dict)

    @property
    def is_response(self) -> bool:
        return self.tree is not None and self.tree.getroot().tag == OAI_ROOT


def _parser() -> etree.XMLParser:
    # Never fetch or expand what a document points at; no size limit on text nodes.
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False,
                           huge_tree=True)


def parse(data: bytes, target: str) -> tuple[etree._ElementTree | None, list[Problem]]:
    """The document's tree, or a `not-well-formed` problem saying where and why."""
    try:
        return etree.fromstring(data, _parser()).getroottree(), []
    except etree.XMLSyntaxError as exc:
        message = (exc.msg or str(exc) or "not XML").split(", line ")[0]
        return None, [Problem(target, "not-well-formed", message, line=exc.lineno or None)]


def schema_hints(tree: etree._ElementTree) -> Hints:
    """namespace -> schema locations, from every xsi:schemaLocation in the document."""
    hints: Hints = defaultdict(list)
    for element in tree.iter():
        value = element.get(f"{{{XSI}}}schemaLocation") if isinstance(element.tag, str) \
            else None
        if value:
            words = value.split()
            for namespace, location in zip(words[::2], words[1::2], strict=False):
                if location not in hints[namespace]:
                    hints[namespace].append(location)
    return hints


def _payloads(unit: etree._Element) -> list[etree._Element]:
    return [child for container in unit.iter(*CONTAINERS) for child in container
            if isinstance(child.tag, str)]


def _units(root: etree._Element) -> list[tuple[etree._Element, bool]]:
    """The elements to validate as roots, and whether each is a bare OAI record/header."""
    if root.tag == OAI_ROOT:
        return [(root, False)]
    if etree.QName(root).namespace == OAI:
        return [(root, True)]
    records = [c for c in root if c.tag in (RECORD, HEADER)]
    if etree.QName(root).namespace is None and records:
        return [(r, True) for r in records]  # a dump of records
    return [(root, False)]


def _count_records(root: etree._Element) -> int:
    """OAI-PMH records and headers outside records; a bare metadata document counts one."""
    if etree.QName(root).namespace != OAI and not any(c.tag in (RECORD, HEADER) for c in root):
        return 1
    count = 0
    for element in root.iter(RECORD, HEADER):
        parent = element.getparent()
        count += element.tag == RECORD or parent is None or parent.tag != RECORD
    return count


class _SchemaCheck:
    """Validates one parsed document; collects its problems and the schemas it used."""

    def __init__(self, tree: etree._ElementTree, target: str, catalog: Catalog,
                 hints: Hints) -> None:
        self.tree = tree
        self.target = target
        self.catalog = catalog
        self.hints = hints
        self.problems: list[Problem] = []
        self.used: dict[str, str] = {}
        self.unknown: dict[str, list[etree._Element]] = defaultdict(list)

    def location(self, namespace: str, roots: Iterable[str]) -> str | None:
        found = schema_for(namespace, roots=roots, hints=self.hints.get(namespace, ()),
                           catalog=self.catalog)
        if found is not None:
            self.used.setdefault(namespace, found)
        return found

    def run(self) -> None:
        for unit, bare in _units(self.tree.getroot()):
            self.unit(unit, bare)
        for namespace, elements in self.unknown.items():
            self.problems.append(self._no_schema(namespace, elements))

    def unit(self, unit: etree._Element, bare: bool) -> None:
        namespace = etree.QName(unit).namespace or ""
        payloads = _payloads(unit) if namespace == OAI else []
        own = self.location(namespace, [] if bare else [etree.QName(unit).localname])
        if own is None:
            self.unknown[namespace].append(unit)
            for payload in payloads:  # the envelope cannot be judged: its payloads still can
                self.unit(payload, False)
            return
        roots: dict[str, set[str]] = defaultdict(set)
        for payload in payloads:
            roots[etree.QName(payload).namespace or ""].add(etree.QName(payload).localname)
        table = [(namespace, own)]
        for other, names in roots.items():
            found = self.location(other, names) if other != namespace else own
            if found is None:
                self.unknown[other].extend(p for p in payloads
                                           if (etree.QName(p).namespace or "") == other)
            elif other != namespace:
                table.append((other, found))
        self.validate(unit, table, BARE_OAI if bare else (), frozenset(payloads))

    def validate(self, unit: etree._Element, table: Sequence[tuple[str, str]],
                 declare: Sequence[tuple[str, str]], payloads: frozenset[etree._Element]) -> None:
        try:
            entries = validate_with(table, unit, catalog=self.catalog, declare=declare)
        except SchemaViolation as exc:  # the catalog's schemas themselves are broken
            detail = f": {exc.errors[0]}" if exc.errors else ""
            self.problems.append(Problem(self.target, "schema-unusable",
                                         str(exc).splitlines()[0] + detail,
                                         xpath=xpath_of(unit), record=record_of(unit)))
            return
        if entries:
            for element in (unit, *payloads):
                said = diagnosis(element)
                if said:
                    self.problems.append(Problem(
                        self.target, "format-spelling", said, line=element.sourceline,
                        xpath=xpath_of(element), record=record_of(element),
                        namespace=etree.QName(element).namespace or ""))
        unknown = {e for elements in self.unknown.values() for e in elements}
        paths = PathIndex(unit)
        for entry in entries:
            element = paths.find(entry.path)
            if element is not None and element in unknown \
                    and entry.type_name == _NO_GLOBAL_DECLARATION:
                continue  # said once as no-schema
            self.problems.append(Problem(
                self.target, "schema", entry.message, line=entry.line or None,
                xpath=xpath_of(element) if element is not None else entry.path,
                record=record_of(element) if element is not None else None,
                namespace=_judged_by(element, payloads, table[0][0])))

    def _no_schema(self, namespace: str, elements: list[etree._Element]) -> Problem:
        first = elements[0]
        hinted = self.hints.get(namespace)
        why = (f"; its schemaLocation {hinted[0]} is not in the catalog" if hinted else "")
        label = namespace or "(no namespace)"
        count = f" ({len(elements)} elements)" if len(elements) > 1 else ""
        said = diagnosis(first)
        if said:
            return Problem(self.target, "no-schema", f"{said} (<{etree.QName(first).localname}>"
                           f"{count} not validated)", Severity.ERROR, line=first.sourceline,
                           xpath=xpath_of(first), record=record_of(first), namespace=namespace)
        return Problem(self.target, "no-schema",
                       f"no schema for namespace {label}{why}: <{etree.QName(first).localname}>"
                       f"{count} not validated", Severity.WARNING, line=first.sourceline,
                       xpath=xpath_of(first), record=record_of(first), namespace=namespace)


def diagnosis(element: etree._Element) -> str | None:
    """What an installed format says is wrong with `element` (its record spelt otherwise), or
    None when no format recognises it."""
    from oai.formats import installed

    for fmt in installed().values():
        if fmt.diagnose is not None:
            said = fmt.diagnose(element)
            if said:
                return said
    return None


def _judged_by(element: etree._Element | None, payloads: frozenset[etree._Element],
               default: str) -> str:
    """The namespace whose schema an element falls under: its payload's, else the unit's."""
    if element is None:
        return default
    for candidate in (element, *element.iterancestors()):
        if candidate in payloads:
            return etree.QName(candidate).namespace or ""
    return default


def check_tree(tree: etree._ElementTree, target: str, *, catalog: Catalog = None,
               hints: Hints | None = None) -> Checked:
    """Schema checks of a parsed document. `hints` adds schema locations to those the
    document names itself (a walk knows each format's schema from ListMetadataFormats)."""
    own = schema_hints(tree)
    for namespace, locations in (hints or {}).items():
        own[namespace] = [*own.get(namespace, []),
                          *(loc for loc in locations if loc not in own.get(namespace, []))]
    check = _SchemaCheck(tree, target, catalog, own)
    check.run()
    return Checked(tree, check.problems, _count_records(tree.getroot()), check.used)


def check_document(data: bytes, target: str, *, catalog: Catalog = None,
                   hints: Hints | None = None) -> Checked:
    """Parse and schema-check one document."""
    tree, problems = parse(data, target)
    if tree is None:
        return Checked(None, problems)
    return check_tree(tree, target, catalog=catalog, hints=hints)

