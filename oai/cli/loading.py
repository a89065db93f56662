"""Reading record files for `oai load`: JSON (object or array) and JSONL, files or folders.

Inputs are streamed: a JSONL file is read line by line, so memory stays flat however large
it is; records are prepared (validated, rendered, schema-checked) outside the write
transaction and written in batches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oai.protocol.records import InvalidRecord
from oai.protocol.rendering import PreparedRecord, prepare_record
from oai.store.repository import LoadSummary, Store

SET_SPEC = re.compile(r"\A[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*\Z")
SUFFIXES = (".json", ".jsonl", ".ndjson")


@dataclass
class InputItem:
    """One object read from an input (or a read error), with where it came from."""

    where: str
    kind: str  # "record", "set" or "error"
    value: Any = None
    advance: int = 0  # bytes consumed, for the progress bar

    @property
    def size(self) -> int:
        return self.advance


@dataclass
class Inputs:
    files: list[InputItem] = field(default_factory=list)

    def __iter__(self) -> Iterator[InputItem]:
        for file in self.files:
            yield from _read_file(Path(file.where), file.advance)


def iter_inputs(paths: list[str]) -> Inputs:
    """The files to read, folders expanded (sorted, recursively) to their .json/.jsonl files."""
    found: list[InputItem] = []
    for raw in paths:
        path = Path(raw)
        candidates = (sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
                      if path.is_dir() else [path])
        for candidate in candidates:
            found.append(InputItem(str(candidate), "file", advance=candidate.stat().st_size))
    return Inputs(found)


def _classify(value: Any, where: str, advance: int) -> InputItem:
    if isinstance(value, dict) and "spec" in value and "id" not in value:
        return InputItem(where, "set", value, advance)
    return InputItem(where, "record", value, advance)


def _read_file(path: Path, size: int) -> Iterator[InputItem]:
    if path.suffix in (".jsonl", ".ndjson"):
        with path.open("rb") as fh:
            for number, line in enumerate(fh, 1):
                where = f"{path}:{number}"
                if not line.strip():
                    yield InputItem(where, "skip", advance=len(line))
                    continue
                try:
                    value = json.loads(line)
                except (ValueError, UnicodeDecodeError) as exc:
                    yield InputItem(where, "error", f"not valid JSON: {exc}", len(line))
                    continue
                yield _classify(value, where, len(line))
        return
    try:
        with path.open("rb") as fh:
            value = json.load(fh)
    except (ValueError, UnicodeDecodeError) as exc:
        yield InputItem(str(path), "error", f"not valid JSON: {exc}", size)
        return
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items):
        where = f"{path}[{index}]" if isinstance(value, list) else str(path)
        yield _classify(item, where, size if index == len(items) - 1 else 0)


class RecordBatcher:
    """Prepares records and writes them in batches; rejects bad ones with a reason."""

    def __init__(self, store: Store, batch_size: int = 500) -> None:
        self.store = store
        self.batch_size = max(1, batch_size)
        self.summary = LoadSummary()
        self.sets_added = 0
        self._batch: list[PreparedRecord] = []

    def add(self, item: InputItem) -> None:
        if item.kind == "skip":
            return
        if item.kind == "error":
            self.summary.rejected.append((item.where, str(item.value)))
            return
        try:
            prepared = prepare_record(item.value)
        except InvalidRecord as exc:
            label = item.value.get("id") if isinstance(item.value, dict) else None
            where = f"{item.where} (id {label})" if isinstance(label, str) else item.where
            self.summary.rejected.append((where, str(exc)))
            return
        self._batch.append(prepared)
        if len(self._batch) >= self.batch_size:
            self.flush()

    def add_set(self, item: InputItem) -> None:
        value = item.value
        spec, name = value.get("spec"), value.get("name")
        description = value.get("description")
        if not isinstance(spec, str) or not SET_SPEC.match(spec):
            self.summary.rejected.append((item.where, f"invalid setSpec {spec!r}"))
        elif not isinstance(name, str) or not name.strip():
            self.summary.rejected.append((item.where, f"set {spec}: a name is required"))
        elif description is not None and not isinstance(description, str):
            self.summary.rejected.append((item.where, f"set {spec}: description must be text"))
        else:
            self.store.add_set(spec, name, description)
            self.sets_added += 1

    def flush(self) -> None:
        if self._batch:
            self.summary.merge(self.store.write(self._batch))
            self._batch = []
