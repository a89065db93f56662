"""Offline loading of the bundled XML schemas, and validation against them.

This is the one place that compiles XSDs. Schemas import each other by their official absolute
URLs (as published schemas do); a catalog resolver maps those URLs to the files in
`oai.paths.schema_dir()` through its `catalog.xml`, so nothing ever touches the network and
nothing depends on `XML_CATALOG_FILES` or the current directory. lxml consults the resolvers
of the parser that read a schema document when libxml2 loads that schema's imports/includes,
which is what makes this work.

OAI-PMH's `<metadata>`, `<about>` and `<description>` are strict wildcards: a payload is only
valid if its namespace's schema is compiled together with OAI-PMH.xsd. `response_schema()`
therefore compiles an in-memory wrapper that imports every namespace it knows: the protocol's
own (`NAMESPACE_SCHEMAS`: responses, Identify descriptions, about containers) and those of
every registered metadata format (`oai.formats`), each format bringing its own catalog.

Validating anyone's XML (`oai.validation`) asks `schema_for` which schema validates a
namespace, under our catalogs or any other OASIS catalog (a user's copies of the official
schemas), and validates with `validate_with`, which compiles the chosen schemas together once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit
from xml.sax.saxutils import quoteattr

from lxml import etree

from oai.paths import schema_dir
from oai.protocol.namespaces import (
    BRANDING,
    BRANDING_SCHEMA_URL,
    EPRINTS,
    EPRINTS_SCHEMA_URL,
    FRIENDS,
    FRIENDS_SCHEMA_URL,
    OAI,
    OAI_IDENTIFIER,
    OAI_IDENTIFIER_SCHEMA_URL,
    OAI_SCHEMA_URL,
    PROVENANCE,
    PROVENANCE_SCHEMA_URL,
    RIGHTS,
    RIGHTS_MANIFEST_SCHEMA_URL,
    XML,
)
from oai.protocol.schema_hubs import HubResolver, hub_url, hubs
from oai.protocol.schema_index import catalogued, choose

__all__ = [
    "FORMAT_PREFIXES",
    "NAMESPACE_SCHEMAS",
    "CatalogResolver",
    "SchemaViolation",
    "accepts_any_uri",
    "catalogs",
    "format_prefixes",
    "load_schema",
    "namespace_schemas",
    "response_schema",
    "schema_for",
    "schema_parser",
    "validate_fragment",
    "validate_response",
    "validate_with",
]

CATALOG_NS = "urn:oasis:names:tc:entity:xmlns:xml:catalog"
CATALOG_FILE = "catalog.xml"

#: Namespace -> official schema URL for the protocol's own schemas (the metadata formats add
#: theirs from the registry: see `namespace_schemas()`). All are compiled into
#: `response_schema()`; each is also usable by `validate_fragment()`.
NAMESPACE_SCHEMAS: dict[str, str] = {
    OAI: OAI_SCHEMA_URL,
    OAI_IDENTIFIER: OAI_IDENTIFIER_SCHEMA_URL,
    # Identify descriptions and about containers (not metadata formats)
    EPRINTS: EPRINTS_SCHEMA_URL,
    FRIENDS: FRIENDS_SCHEMA_URL,
    BRANDING: BRANDING_SCHEMA_URL,
    RIGHTS: RIGHTS_MANIFEST_SCHEMA_URL,  # includes rights.xsd: <rights> and <rightsManifest>
    PROVENANCE: PROVENANCE_SCHEMA_URL,  # about containers of re-exposed records
}

#: Conventional prefix -> namespace of the protocol's own schemas, for `validate_fragment()`
#: (metadataPrefixes of the registered formats are added by `format_prefixes()`).
FORMAT_PREFIXES: dict[str, str] = {
    "oai-identifier": OAI_IDENTIFIER,
    "eprints": EPRINTS,
    "friends": FRIENDS,
    "branding": BRANDING,
    "rights": RIGHTS,
    "provenance": PROVENANCE,
}


def namespace_schemas() -> dict[str, str]:
    """Every namespace we ship a schema for -> its official schema URL: the protocol's and
    each installed metadata format's (served or not: validators know them all)."""
    from oai.formats import installed

    return {**NAMESPACE_SCHEMAS,
            **{f.namespace: f.schema_location for f in installed().values()}}


def format_prefixes() -> dict[str, str]:
    from oai.formats import installed

    return {**FORMAT_PREFIXES, **{f.prefix: f.namespace for f in installed().values()}}


def catalogs() -> tuple[str, ...]:
    """The catalogs every schema is resolved through: the protocol's, then each format's."""
    from oai.formats import installed

    return _resolved_catalogs(tuple(f.catalog for f in installed().values()))


@cache
def _resolved_catalogs(format_catalogs: tuple[Path, ...]) -> tuple[str, ...]:
    # cached: resolving paths costs more than validating a small record, at every write
    paths = [schema_dir() / CATALOG_FILE, *format_catalogs]
    return tuple(dict.fromkeys(str(Path(p).resolve()) for p in paths))

#: At most this many libxml2 messages are spelled out in a SchemaViolation's message.
MAX_REPORTED_ERRORS = 50


class SchemaViolation(ValueError):
    """A document (or fragment) that is not well-formed or not valid against our schemas.

    `errors` holds every libxml2 message as "line N: text"; the exception message lists them
    (up to MAX_REPORTED_ERRORS) so a failing test or log line says exactly what is wrong.
    """

    def __init__(self, summary: str, errors: Iterable[str] = ()) -> None:
        self.errors: tuple[str, ...] = tuple(errors)
        lines = [summary, *(f"  {e}" for e in self.errors[:MAX_REPORTED_ERRORS])]
        if len(self.errors) > MAX_REPORTED_ERRORS:
            lines.append(f"  ... and {len(self.errors) - MAX_REPORTED_ERRORS} more")
        super().__init__("\n".join(lines))


# --------------------------------------------------------------------------- catalog


def _file_uri_to_path(uri: str) -> Path | None:
    parts = urlsplit(uri)
    if parts.scheme != "file":
        return None
    return Path(unquote(parts.path))


class CatalogResolver(etree.Resolver):
    """Maps official schema URLs to local files, as listed in an OASIS XML catalog.

    Understands `uri`, `system`, `rewriteURI` and `rewriteSystem` entries (with `xml:base` on
    any ancestor), which is all schema catalogs use. We read the catalog ourselves rather than
    relying on libxml2's catalog support, because libxml2 only reads `XML_CATALOG_FILES` once,
    at library initialisation, which an importable library cannot control.
    """

    def __init__(self, *catalog_paths: Path | str) -> None:
        super().__init__()
        self.catalog_paths = tuple(Path(p).resolve() for p in catalog_paths)
        self.exact: dict[str, Path] = {}
        self.rewrites: list[tuple[str, str]] = []  # (URL prefix, replacement base URI)
        parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
        for path in self.catalog_paths:  # the first catalog to name a URL wins
            self._read(etree.parse(str(path), parser).getroot(), path.as_uri())
        self.rewrites.sort(key=lambda pair: len(pair[0]), reverse=True)  # longest prefix wins

    def _read(self, element: Any, base: str) -> None:
        base = urljoin(base, element.get(f"{{{XML}}}base", ""))
        for child in element:
            if not isinstance(child.tag, str):
                continue  # comments, processing instructions
            tag = etree.QName(child).localname
            if tag == "group":
                self._read(child, base)
            elif tag in ("uri", "system"):
                key = child.get("name" if tag == "uri" else "systemId")
                target = _file_uri_to_path(urljoin(base, child.get("uri", "")))
                if key and target is not None:
                    self.exact.setdefault(key, target)
            elif tag in ("rewriteURI", "rewriteSystem"):
                key = child.get("uriStartString" if tag == "rewriteURI" else "systemIdStartString")
                prefix = child.get("rewritePrefix")
                if key and prefix:
                    self.rewrites.append((key, urljoin(base, prefix)))

    def lookup(self, url: str) -> Path | None:
        """The local file for `url`, or None when the catalog does not list it."""
        if url in self.exact:
            return self.exact[url]
        for start, replacement in self.rewrites:
            if url.startswith(start):
                return _file_uri_to_path(replacement + url[len(start) :])
        return None

    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        """lxml hook: serve catalogued URLs from disk; anything else falls through to libxml2,
        whose network access our parsers disable (no_network=True)."""
        if not system_url:
            return None
        local = self.lookup(system_url)
        if local is None:
            return None
        return self.resolve_filename(str(local), context)


@lru_cache(maxsize=8)
def _resolver(catalog_paths: tuple[str, ...]) -> CatalogResolver:
    return CatalogResolver(*catalog_paths)


def _catalog_paths(catalog_path: Path | str | None) -> tuple[str, ...]:
    """The catalogs to resolve through: the given one, or every bundled one."""
    return (str(Path(catalog_path).resolve()),) if catalog_path is not None else catalogs()


def schema_parser(catalog_path: Path | str | None = None) -> etree.XMLParser:
    """A parser for schema documents whose imports resolve through `catalog_path` (default:
    every bundled catalog). No network, no entity expansion, no DTD loading."""
    paths = _catalog_paths(catalog_path)
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_resolver(paths))
    return parser


def _document_parser() -> etree.XMLParser:
    # For instance documents: never fetch or expand anything they point at.
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, huge_tree=False)


# --------------------------------------------------------------------------- compilation


class _Compiled:
    """A compiled schema plus a lock: lxml keeps one error_log per XMLSchema object, so two
    threads validating with the same object at once would mix up each other's messages."""

    __slots__ = ("lock", "schema")

    def __init__(self, schema: etree.XMLSchema) -> None:
        self.schema = schema
        self.lock = threading.Lock()


def _compile(tree: Any, what: str) -> etree.XMLSchema:
    try:
        return etree.XMLSchema(tree)
    except etree.XMLSchemaParseError as exc:
        errors = [f"line {e.line}: {e.message} ({e.filename})" for e in exc.error_log]
        raise SchemaViolation(f"schema {what} does not compile", errors or [str(exc)]) from exc


def _locate(paths: tuple[str, ...], url_or_filename: str) -> Path:
    local = _resolver(paths).lookup(url_or_filename)
    if local is not None:
        return local
    candidate = Path(url_or_filename)
    for catalog in paths:  # a file name, relative to a catalog's directory
        found = candidate if candidate.is_absolute() else Path(catalog).parent / candidate
        if found.is_file():
            return found
    raise FileNotFoundError(
        f"{url_or_filename!r} is neither listed in the schema catalogs nor a schema file "
        f"beside one of them ({', '.join(paths)})"
    )


@cache
def _load(paths: tuple[str, ...], url_or_filename: str) -> _Compiled:
    path = _locate(paths, url_or_filename)
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_resolver(paths))
    try:
        tree = etree.parse(str(path), parser)
    except (OSError, etree.XMLSyntaxError) as exc:
        raise SchemaViolation(f"schema {path} cannot be read", [str(exc)]) from exc
    return _Compiled(_compile(tree, str(path)))


def load_schema(url_or_filename: str | Path) -> etree.XMLSchema:
    """Compile one schema, given by official URL (looked up in the catalogs) or by file name
    (relative to a catalog's directory). Cached: each schema is compiled once per process."""
    return _load(catalogs(), str(url_or_filename)).schema


def _wrapper_bytes(table: Iterable[tuple[str, str]],
                   declare: Sequence[tuple[str, str]] = ()) -> bytes:
    """A schema importing each (namespace, location) of `table`. With `declare`, the schema is
    in the first namespace instead, includes that namespace's schema and declares the given
    (element, type) pairs as global elements, so that a bare OAI-PMH <record> can be a root."""
    rows = list(table)
    head = include = elements = ""
    if declare:
        (namespace, location), rows = rows[0], rows[1:]
        head = f" targetNamespace={quoteattr(namespace)} xmlns:t={quoteattr(namespace)}"
        include = f"  <xs:include schemaLocation={quoteattr(location)}/>\n"
        elements = "".join(
            f"  <xs:element name={quoteattr(name)} type={quoteattr('t:' + kind)}/>\n"
            for name, kind in declare)
    imports = "".join(  # no namespace attribute at all imports a schema without one
        f"  <xs:import{f' namespace={quoteattr(ns)}' if ns else ''} "
        f"schemaLocation={quoteattr(url)}/>\n"
        for ns, url in rows
    )
    return (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified"'
        f"{head}>\n{include}{imports}{elements}</xs:schema>\n"
    ).encode()


@cache
def _wrapper(paths: tuple[str, ...], table: tuple[tuple[str, str], ...],
             declare: tuple[tuple[str, str], ...] = ()) -> _Compiled:
    resolver = _resolver(paths)
    # Namespaces several of these schemas define (e.g. DataCite's, by the datacite format
    # and by OpenAIRE): one hub each, imported before anything else (see schema_hubs).
    found = hubs(resolver, [url for _, url in table], skip=[table[0][0]] if declare else [])
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(HubResolver(found))
    parser.resolvers.add(resolver)
    first = list(table[:1]) if declare else []
    rows = [*first, *((ns, hub_url(ns)) for ns in found), *table[len(first):]]
    # A base URL beside the first catalog keeps any relative location cwd-independent.
    tree = etree.fromstring(
        _wrapper_bytes(rows, declare), parser,
        base_url=str(Path(paths[0]).parent / "wrapper.xsd")).getroottree()
    return _Compiled(_compile(tree, " + ".join(url for _, url in table)))


def _response_compiled() -> _Compiled:
    # The table is part of the cache key, so a format registered later gets a fresh compile.
    return _wrapper(catalogs(), tuple(sorted(namespace_schemas().items())))


def response_schema() -> etree.XMLSchema:
    """OAI-PMH.xsd compiled together with the schema of every namespace we ship (the
    protocol's and every registered format's), so that a whole response, payloads included,
    validates in one pass. Compiled once."""
    return _response_compiled().schema


_ANY_URI_PROBE = (b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
                  b'<xs:element name="v" type="xs:anyURI"/></xs:schema>')


@cache
def _any_uri_probe() -> _Compiled:
    return _Compiled(_compile(etree.fromstring(_ANY_URI_PROBE).getroottree(), "xs:anyURI"))


# --------------------------------------------------------------------------- validation


def _as_tree(document: bytes | str | Any, what: str) -> Any:
    if isinstance(document, str):
        document = document.encode("utf-8")
    if isinstance(document, bytes | bytearray | memoryview):
        try:
            return etree.fromstring(bytes(document), _document_parser()).getroottree()
        except etree.XMLSyntaxError as exc:
            errors = [f"line {e.line}: {e.message}" for e in exc.error_log] or [str(exc)]
            raise SchemaViolation(f"{what} is not well-formed XML", errors) from exc
    if isinstance(document, etree._ElementTree | etree._Element):
        return document
    raise TypeError(f"expected XML bytes or an lxml element/tree, got {type(document).__name__}")


def _format(entry: Any) -> str:
    where = f"line {entry.line}" if entry.line else f"path {entry.path}"
    return f"{where}: {entry.message}"


def _check(compiled: _Compiled, document: Any, what: str) -> None:
    with compiled.lock:
        if compiled.schema.validate(document):
            return
        errors = [_format(e) for e in compiled.schema.error_log]
    raise SchemaViolation(f"{what} is not schema-valid ({len(errors)} error(s)):", errors)


def accepts_any_uri(value: str) -> bool:
    """Whether libxml2's schema validator takes `value` as an xs:anyURI (identifiers, base
    URLs). Asked of libxml2 itself rather than of an RFC 3986 grammar: its URI parser is the
    judge of every response we send, and it is stricter in places (`[`, stray `%`, a second
    `#`) and laxer in others (spaces, non-ASCII)."""
    element = etree.Element("v")
    try:
        element.text = value
    except ValueError:  # characters XML cannot carry at all
        return False
    compiled = _any_uri_probe()
    with compiled.lock:
        return bool(compiled.schema.validate(element))


def validate_response(document: bytes | str | Any) -> None:
    """Raise SchemaViolation unless `document` (XML bytes, an element or a tree) is a valid
    OAI-PMH response, including its metadata/about/description payloads."""
    _check(_response_compiled(), _as_tree(document, "response"), "OAI-PMH response")


def _namespace_for(namespace_or_prefix: str, table: Mapping[str, str]) -> str:
    if namespace_or_prefix in table:
        return namespace_or_prefix
    prefixes = format_prefixes()
    if prefixes.get(namespace_or_prefix) in table:
        return prefixes[namespace_or_prefix]
    raise KeyError(f"no bundled schema for namespace or prefix {namespace_or_prefix!r}")


def validate_fragment(namespace_or_prefix: str, element: bytes | str | Any) -> None:
    """Raise SchemaViolation unless `element` is a valid root element of the given format
    (namespace URI or prefix such as "oai_dc"); for checking each rendered payload at write
    time. The element may sit inside a larger tree. Uses a schema compiled once per format.

    Raises KeyError for a namespace/prefix we ship no schema for."""
    table = namespace_schemas()
    namespace = _namespace_for(namespace_or_prefix, table)
    tree = _as_tree(element, "fragment")
    root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
    actual = etree.QName(root).namespace
    if actual != namespace:
        raise SchemaViolation(
            f"fragment root {root.tag!r} is not in namespace {namespace!r}",
            [f"line {root.sourceline or 0}: expected an element in {namespace}"],
        )
    compiled = _load(catalogs(), table[namespace])
    _check(compiled, root, f"{namespace_or_prefix} fragment")


# --------------------------------------------------------------------------- any catalog


@lru_cache(maxsize=4096)
def _schema_for(paths: tuple[str, ...], namespace: str, roots: frozenset[str],
                hints: tuple[str, ...], known: str | None) -> str | None:
    resolver = _resolver(paths)
    candidates = [*hints, *([known] if known else []), *catalogued(resolver, namespace)]
    return choose(resolver, namespace, candidates, roots)


def schema_for(namespace: str, *, roots: Iterable[str] = (), hints: Iterable[str] = (),
               catalog: Path | str | None = None) -> str | None:
    """Which schema validates elements of `namespace`: the URL of a schema the catalog (by
    default ours: the protocol's and every installed format's) maps to a local file whose
    targetNamespace is `namespace`, or None.

    Tried in order: the document's own schemaLocation `hints` for the namespace, the location
    we know for it (`namespace_schemas()`, the formats' registry), then every catalogued schema
    of that namespace, latest version first. A candidate declaring every one of `roots` (the
    local names of the document's elements to validate) wins over one that does not."""
    return _schema_for(_catalog_paths(catalog), namespace, frozenset(roots), tuple(hints),
                       namespace_schemas().get(namespace))


def validate_with(table: Sequence[tuple[str, str]], element: Any, *,
                  catalog: Path | str | None = None,
                  declare: Sequence[tuple[str, str]] = ()) -> list[Any]:
    """Validate `element` (an lxml element or tree) with the schemas of `table` ((namespace,
    location) pairs, as `schema_for` gives them) compiled together through `catalog`; the
    libxml2 error entries (line, path, type_name, message), empty when valid.

    `declare` names (element, type) pairs of the first namespace to accept as roots besides
    its own global elements (e.g. ("record", "recordType") for a bare OAI-PMH record). Raises
    SchemaViolation when the schemas do not compile. Each combination is compiled once."""
    compiled = _wrapper(_catalog_paths(catalog), tuple(table), tuple(declare))
    with compiled.lock:
        if compiled.schema.validate(element):
            return []
        return list(compiled.schema.error_log)
