"""One schema per namespace when several schemas are compiled together.

libxml2 loads the first schema document it meets for a namespace and silently skips every
later `xs:import` of that namespace from another location. Formats share namespaces: the
OpenAIRE schema imports its own DataCite-namespace document (the properties as OpenAIRE uses
them) while the `datacite` format's schema is the DataCite kernel, in the same namespace; a
whole response compiled from both would lose one of them. A hub is a schema document of that
namespace including every document of it that the compiled schemas reach, imported first, so
that each later import of the namespace finds everything already there.

Only documents reached by `xs:import` count (an `xs:include`d file is part of its includer),
and a document another one of the set already includes is not included again. Documents that
declare the same global components are copies or versions of one schema (three copies of
xml.xsd among the official schemas), not parts of one: such a namespace gets no hub, and the
first document loaded serves, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urljoin
from xml.sax.saxutils import quoteattr

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
#: Hubs are served under this (never fetched) base URL by `HubResolver`.
HUB_BASE = "http://hubs.oai-toolkit.invalid/"


class Lookup(Protocol):
    def lookup(self, url: str) -> Path | None: ...


def _parse(path: Path) -> Any:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    try:
        return etree.parse(str(path), parser).getroot()
    except (OSError, etree.XMLSyntaxError):
        return None


def _locate(location: str, base: Path, resolver: Lookup) -> Path | None:
    found = resolver.lookup(location) or resolver.lookup(urljoin(base.as_uri(), location))
    if found is not None:
        return found
    if "://" in location:
        return None
    candidate = (base.parent / location).resolve()
    return candidate if candidate.is_file() else None


def _walk(root: Path, resolver: Lookup, documents: dict[str, set[Path]],
          includes: dict[Path, set[Path]], namespaces: dict[Path, str | None]) -> None:
    """Record the namespace of `root` (an imported document) and of every document it
    imports, directly or through its includes; and who includes whom."""
    stack: list[tuple[Path, bool]] = [(root, True)]
    while stack:
        path, imported = stack.pop()
        first = path not in namespaces
        if first:
            element = _parse(path)
            schema = element is not None and element.tag == f"{{{XS}}}schema"
            namespaces[path] = element.get("targetNamespace", "") if schema else None
        namespace = namespaces[path]
        if namespace is None:
            continue
        if imported:
            documents.setdefault(namespace, set()).add(path)
        if not first:
            continue
        for child in element:
            location = child.get("schemaLocation") if isinstance(child.tag, str) else None
            target = _locate(location, path, resolver) if location else None
            if target is None:
                continue
            if child.tag == f"{{{XS}}}import":
                stack.append((target, True))
            elif child.tag in (f"{{{XS}}}include", f"{{{XS}}}redefine"):
                includes.setdefault(path, set()).add(target)
                stack.append((target, False))


def _included_by_others(paths: set[Path], includes: dict[Path, set[Path]]) -> set[Path]:
    """The members of `paths` that another member includes, directly or not."""
    covered: set[Path] = set()
    for path in paths:
        stack, reached = list(includes.get(path, ())), set()
        while stack:
            current = stack.pop()
            if current in reached:
                continue
            reached.add(current)
            stack.extend(includes.get(current, ()))
        covered |= reached & (paths - {path})
    return covered


_COMPONENTS = {f"{{{XS}}}{kind}" for kind in ("element", "attribute", "complexType",
                                                "simpleType", "group", "attributeGroup")}


def _components(path: Path, includes: dict[Path, set[Path]]) -> set[tuple[str, str]]:
    """The global components a document declares, its includes' counted."""
    found: set[tuple[str, str]] = set()
    stack, seen = [path], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        element = _parse(current)
        if element is not None:
            found.update((child.tag, child.get("name", "")) for child in element
                         if child.tag in _COMPONENTS and child.get("name"))
        stack.extend(includes.get(current, ()))
    return found


def _disjoint(members: set[Path], includes: dict[Path, set[Path]]) -> bool:
    declared: set[tuple[str, str]] = set()
    for path in members:
        mine = _components(path, includes)
        if mine & declared:
            return False
        declared |= mine
    return True


def hubs(resolver: Lookup, roots: Iterable[str], skip: Iterable[str] = ()) -> dict[str, bytes]:
    """Namespace -> hub document, for each namespace (but those in `skip`) defined by more
    than one document among the schemas reachable from the `roots` (schema URLs). Serve the
    hub at `hub_url(namespace)`."""
    documents: dict[str, set[Path]] = {}
    includes: dict[Path, set[Path]] = {}
    namespaces: dict[Path, str | None] = {}
    for url in roots:
        path = resolver.lookup(url)
        if path is not None:
            _walk(path, resolver, documents, includes, namespaces)
    out: dict[str, bytes] = {}
    skipped = set(skip)
    for namespace, paths in sorted(documents.items()):
        members = paths - _included_by_others(paths, includes)
        if len(members) < 2 or not namespace or namespace in skipped \
                or not _disjoint(members, includes):
            continue
        body = "".join(f"  <xs:include schemaLocation={quoteattr(p.as_uri())}/>\n"
                       for p in sorted(members))
        out[namespace] = (
            f'<xs:schema xmlns:xs="{XS}" targetNamespace={quoteattr(namespace)} '
            f'elementFormDefault="qualified">\n{body}</xs:schema>\n').encode()
    return out


def hub_url(namespace: str) -> str:
    return HUB_BASE + quote(namespace, safe="") + ".xsd"


class HubResolver(etree.Resolver):
    """Serves hub documents (from memory) to the parser compiling a combined schema."""

    def __init__(self, hubs_by_namespace: dict[str, bytes]) -> None:
        super().__init__()
        self.documents = {hub_url(ns): body for ns, body in hubs_by_namespace.items()}

    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        if system_url and system_url in self.documents:
            return self.resolve_string(self.documents[system_url], context,
                                       base_url=system_url)
        return None
