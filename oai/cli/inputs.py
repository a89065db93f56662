"""Reading the inputs of `oai load`: JSON (object or array) and JSONL, files or folders.

Inputs are streamed: a JSONL file is read line by line, so memory stays flat however large it
is. Set definitions can be read in a cheap first pass of their own (`iter_set_definitions`),
so that records may name sets defined later in the inputs. Standard library only: this module
is imported by `oai --help`.
"""

from __future__ import annotations

import json
import mmap
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SET_SPEC = re.compile(r"\A[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*\Z")
SUFFIXES = (".json", ".jsonl", ".ndjson")
LINE_SUFFIXES = (".jsonl", ".ndjson")
# A set definition has a "spec" key; "\u" catches one spelled with escapes. Anything else can
# be skipped unparsed by the first pass.
_MAY_DEFINE_A_SET = (b"spec", b"\\u")


@dataclass
class InputItem:
    """One object read from an input (or a read error), with where it came from."""

    where: str
    kind: str  # "record", "raw" (a record's JSON text, parsed by whoever prepares it),
    # "set", "skip" or "error"
    value: Any = None
    advance: int = 0  # bytes consumed, for the progress bar

    @property
    def size(self) -> int:
        return self.advance


@dataclass(frozen=True)
class SetDefinition:
    spec: str
    name: str
    description: str | None
    has_description: bool  # False: an existing description is kept


@dataclass
class Inputs:
    files: list[InputItem] = field(default_factory=list)

    def __iter__(self) -> Iterator[InputItem]:
        for file in self.files:
            yield from _read_file(Path(file.where), file.advance)

    def set_items(self) -> Iterator[InputItem]:
        """The set definitions only (valid or not), parsing as little as possible."""
        for file in self.files:
            yield from _scan_sets(Path(file.where))


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


def parse_set(item: InputItem) -> SetDefinition | str:
    """The set an input object defines, or why it is not a valid definition."""
    value = item.value
    spec, name = value.get("spec"), value.get("name")
    description = value.get("description")
    if not isinstance(spec, str) or not SET_SPEC.match(spec):
        return f"invalid setSpec {spec!r}"
    if not isinstance(name, str) or not name.strip():
        return f"set {spec}: a name is required"
    if description is not None and not isinstance(description, str):
        return f"set {spec}: description must be text"
    return SetDefinition(spec, name, description, "description" in value)


def _classify(value: Any, where: str, advance: int) -> InputItem:
    if isinstance(value, dict) and "spec" in value and "id" not in value:
        return InputItem(where, "set", value, advance)
    return InputItem(where, "record", value, advance)


def _read_file(path: Path, size: int) -> Iterator[InputItem]:
    if path.suffix in LINE_SUFFIXES:
        with path.open("rb") as fh:
            for number, line in enumerate(fh, 1):
                where = f"{path}:{number}"
                if not line.strip():
                    yield InputItem(where, "skip", advance=len(line))
                    continue
                if not any(marker in line for marker in _MAY_DEFINE_A_SET):
                    # not a set definition: left unparsed, for a worker to parse
                    yield InputItem(where, "raw", line, len(line))
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


def _scan_sets(path: Path) -> Iterator[InputItem]:
    """Set items of one file. Lines, or whole files, that cannot hold a set definition are not
    parsed; unparsable ones are left for the main pass to report."""
    if path.suffix in LINE_SUFFIXES:
        with path.open("rb") as fh:
            for number, line in enumerate(fh, 1):
                if not any(marker in line for marker in _MAY_DEFINE_A_SET):
                    continue
                try:
                    item = _classify(json.loads(line), f"{path}:{number}", 0)
                except (ValueError, UnicodeDecodeError):
                    continue
                if item.kind == "set":
                    yield item
        return
    if not _file_contains(path, _MAY_DEFINE_A_SET):
        return
    for item in _read_file(path, 0):
        if item.kind == "set":
            yield item


def _file_contains(path: Path, markers: tuple[bytes, ...]) -> bool:
    """Whether any marker occurs in the file, searched through a memory map (flat memory)."""
    with path.open("rb") as fh:
        try:
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as view:
                return any(view.find(marker) != -1 for marker in markers)
        except ValueError:  # an empty file cannot be mapped
            return False
