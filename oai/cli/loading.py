"""`oai load`'s work: define the inputs' sets, then prepare records and write them in batches.

Records are prepared (validated, rendered in every format, schema-checked) in worker processes,
one per CPU, and written in batches from this one, in input order; a bad record is rejected
with its reason and never touches what is stored.
A record naming a set that is neither in the store nor defined by the inputs is rejected,
unless sets may be created. A dry run does all of this and writes nothing.

Heavy modules (SQLAlchemy, lxml) are imported when a Loader is built, not with this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from oai.cli.inputs import SET_SPEC, InputItem, Inputs, SetDefinition, iter_inputs, parse_set

if TYPE_CHECKING:
    from oai.protocol.records import InvalidRecord
    from oai.protocol.rendering import PreparedRecord
    from oai.store.repository import Store

#: What a worker imports once, before it forks per worker.
WORKER_MODULES = ("oai.protocol.rendering", "oai.cli.loading")

__all__ = ["SET_SPEC", "InputItem", "Inputs", "LoadCounts", "Loader", "iter_inputs"]


@dataclass
class LoadCounts:
    """What a load did (or, in a dry run, would do)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    sets_defined: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)

    @property
    def inputs(self) -> int:
        return self.added + self.updated + self.unchanged + len(self.rejected)


class Loader:
    """Defines sets and writes records into `store` (or only checks them, in a dry run)."""

    def __init__(self, store: Store, batch_size: int = 500, dry_run: bool = False,
                 create_sets: bool = False) -> None:
        from oai.protocol.canonical import set_ancestors

        self._ancestors = set_ancestors
        self.store = store
        self.batch_size = max(1, batch_size)
        self.dry_run = dry_run
        self.create_sets = create_sets
        self.counts = LoadCounts()
        self._batch: list[PreparedRecord] = []
        self._defined: set[str] = set()  # by the inputs, ancestors included
        self._known: dict[str, bool] = {}  # spec -> in the store
        self._set_items: set[str] = set()  # `where` of the set items already handled

    # -- sets ----------------------------------------------------------------------------

    def define_sets(self, inputs: Inputs) -> None:
        """First pass: the inputs' set definitions, written before any record (later
        definitions of the same set win), so records may name sets defined anywhere."""
        definitions: dict[str, SetDefinition] = {}
        for item in inputs.set_items():
            self._set_items.add(item.where)
            parsed = parse_set(item)
            if isinstance(parsed, str):
                self.counts.rejected.append((item.where, parsed))
                continue
            definitions.pop(parsed.spec, None)
            definitions[parsed.spec] = parsed
            self.counts.sets_defined += 1
        for definition in definitions.values():
            self._defined.update(self._ancestors(definition.spec))
            if not self.dry_run:
                self._write_set(definition)

    def _write_set(self, definition: SetDefinition) -> None:
        from oai.store.repository import KEEP

        self.store.add_set(definition.spec, definition.name,
                           definition.description if definition.has_description else KEEP)

    def _undefined(self, specs: tuple[str, ...]) -> list[str]:
        unknown = [s for s in specs if s not in self._defined and s not in self._known]
        if unknown:
            found = self.store.defined_sets(unknown)
            self._known.update({s: s in found for s in unknown})
        return [s for s in specs if s not in self._defined and not self._known.get(s)]

    # -- records -------------------------------------------------------------------------

    def load(self, items: Iterable[InputItem], jobs: int,
             done: Callable[[InputItem], None] = lambda item: None) -> None:
        """Prepare `items` on `jobs` processes and write them from this one, in order;
        `done` is told of each item once it is handled (for a progress bar)."""
        from oai.formats import select, selection
        from oai.parallel import ordered_map

        for item, prepared in ordered_map(prepare_items, items, jobs=jobs,
                                          initializer=select, initargs=(selection(),),
                                          preload=WORKER_MODULES):
            self.add(item, prepared)
            done(item)
        self.flush()

    def add(self, item: InputItem, prepared: PreparedRecord | InvalidRecord | None = None
            ) -> None:
        """Handle one input: a set definition, a read error, or a record (prepared here
        unless it already was, by `prepare_items`)."""
        if item.kind == "skip":
            return
        if item.kind == "set":
            if item.where not in self._set_items:  # not seen by the first pass: define it now
                self._set_items.add(item.where)
                parsed = parse_set(item)
                if isinstance(parsed, str):
                    self.counts.rejected.append((item.where, parsed))
                    return
                self._defined.update(self._ancestors(parsed.spec))
                self.counts.sets_defined += 1
                if not self.dry_run:
                    self._write_set(parsed)
            return
        if item.kind == "error":
            self.counts.rejected.append((item.where, str(item.value)))
            return
        if prepared is None:
            prepared = prepare_items([item])[0]
        if isinstance(prepared, ValueError):  # InvalidRecord
            self._reject(item, str(prepared))
            return
        assert prepared is not None
        if not self.create_sets:
            missing = self._undefined(prepared.set_specs)
            if missing:
                many = len(missing) > 1
                self._reject(item, f"record.sets: set{'s' if many else ''} "
                                   f"{', '.join(missing)} {'are' if many else 'is'} not defined "
                                   "(define it in the inputs or with 'oai sets add', or load "
                                   "with --create-sets)")
                return
        self._batch.append(prepared)
        if len(self._batch) >= self.batch_size:
            self.flush()

    def _reject(self, item: InputItem, reason: str) -> None:
        value: Any = item.value
        label = value.get("id") if isinstance(value, dict) else None
        where = f"{item.where} (id {label})" if isinstance(label, str) else item.where
        self.counts.rejected.append((where, reason))

    def flush(self) -> None:
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        if self.dry_run:
            latest = {p.id: p for p in batch}
            stored = self.store.content_hashes(list(latest))
            for p in latest.values():
                if p.id not in stored:
                    self.counts.added += 1
                elif stored[p.id] != p.content_hash:
                    self.counts.updated += 1
                else:
                    self.counts.unchanged += 1
            return
        written = self.store.write(batch)
        self.counts.added += written.added
        self.counts.updated += written.updated
        self.counts.unchanged += written.unchanged


def prepare_items(items: list[InputItem]) -> list[PreparedRecord | InvalidRecord | None]:
    """Each record item validated, rendered and checked (or why not); None for the others.
    Runs in the load's worker processes."""
    from oai.protocol.records import InvalidRecord
    from oai.protocol.rendering import prepare_record

    out: list[PreparedRecord | InvalidRecord | None] = []
    for item in items:
        if item.kind != "record":
            out.append(None)
            continue
        try:
            out.append(prepare_record(item.value))
        except InvalidRecord as exc:
            out.append(exc)
    return out
