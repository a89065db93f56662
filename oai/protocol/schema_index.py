"""What the schemas a catalog lists declare: their target namespace and global elements.

`oai.protocol.schemas.schema_for` asks this index when neither the document's own
xsi:schemaLocation nor the known namespace table names a catalogued schema for a namespace:
any catalogued schema whose targetNamespace is that namespace will do, preferably one that
declares the document's root element (rights.xsd and rightsManifest.xsd share a namespace but
not their roots) and, among versions of one schema (mods-3-7.xsd, mods-3-8.xsd), the latest.

Only a schema's own top-level declarations and those of the files it `xs:include`s are read
(no compilation), so describing a catalog of fifty files costs a few milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol
from urllib.parse import urljoin

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
_DIGITS = re.compile(r"(\d+)")


class Lookup(Protocol):
    """What the index needs of a catalog resolver (`schemas.CatalogResolver`)."""

    exact: Mapping[str, Path]

    def lookup(self, url: str) -> Path | None: ...

    def __hash__(self) -> int: ...  # results are cached per resolver


@dataclass(frozen=True)
class SchemaFile:
    """One schema document: its target namespace ("" for none) and the global elements it
    declares, its includes' declarations counted."""

    path: Path
    namespace: str
    elements: frozenset[str]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)


@lru_cache(maxsize=512)
def describe(path: Path, resolver: Lookup | None = None) -> SchemaFile | None:
    """The namespace and global elements of the schema at `path` (None if it is not one)."""
    try:
        root = etree.parse(str(path), _parser()).getroot()
    except (OSError, etree.XMLSyntaxError):
        return None
    if root.tag != f"{{{XS}}}schema":
        return None
    names: set[str] = set()
    for name, _ in _declarations(path, root, resolver, set()):
        names.add(name)
    return SchemaFile(path, root.get("targetNamespace", ""), frozenset(names))


def _declarations(path: Path, root: etree._Element, resolver: Lookup | None,
                  seen: set[Path]) -> Iterator[tuple[str, Path]]:
    """Global element names of a schema document and of the documents it includes."""
    seen.add(path)
    for child in root:
        if child.tag == f"{{{XS}}}element" and child.get("name"):
            yield child.get("name", ""), path
        elif child.tag in (f"{{{XS}}}include", f"{{{XS}}}redefine"):
            location = child.get("schemaLocation") or ""
            included = _locate(location, path, resolver)
            if included is None or included in seen:
                continue
            try:
                sub = etree.parse(str(included), _parser()).getroot()
            except (OSError, etree.XMLSyntaxError):
                continue
            yield from _declarations(included, sub, resolver, seen)


def _locate(location: str, base: Path, resolver: Lookup | None) -> Path | None:
    if not location:
        return None
    if resolver is not None:
        found = resolver.lookup(location)
        if found is None:
            found = resolver.lookup(urljoin(base.as_uri(), location))
        if found is not None:
            return found
    if "://" in location:
        return None
    candidate = (base.parent / location).resolve()
    return candidate if candidate.is_file() else None


def _version_key(url: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key reading digit runs as numbers, so mods-3-10 comes after mods-3-8."""
    return tuple((1, int(part)) if part.isdigit() else (0, part)
                 for part in _DIGITS.split(url) if part)


def catalogued(resolver: Lookup, namespace: str) -> list[str]:
    """The catalogued URLs (one per file) of schemas targeting `namespace`, latest first."""
    by_file: dict[Path, str] = {}
    for url, path in resolver.exact.items():
        if path not in by_file and (info := describe(path, resolver)) is not None \
                and info.namespace == namespace:
            by_file[path] = url
    return sorted(by_file.values(), key=_version_key, reverse=True)


def choose(resolver: Lookup, namespace: str, candidates: Iterable[str],
           roots: Iterable[str] = ()) -> str | None:
    """The first candidate URL the catalog maps to a schema of `namespace` that declares
    every root; failing that, the first one of that namespace at all (then the document's
    root is simply not one of its elements), except for no namespace, where the schemas
    without a targetNamespace are mostly pieces included by others."""
    wanted = frozenset(roots)
    fallback: str | None = None
    for url in candidates:
        path = resolver.lookup(url)
        info = describe(path, resolver) if path is not None else None
        if info is None or info.namespace != namespace:
            continue
        if wanted <= info.elements:
            return url
        fallback = fallback or url
    return fallback if namespace else None
