"""Metadata formats as plug-ins, registered under the `oai.formats` entry-point group.

The built-in formats register exactly as a third party's package does (see pyproject.toml
and the README's worked example): an entry point naming a `Format` object. Everything that
depends on the set of formats (the schema tables, ListMetadataFormats, the renderings made
at write time, `oai formats rebuild`, `oai check`) is built from `registry()`, so adding a
format is one new package and one entry-point line.

A repository may serve only some of the installed formats (the `formats` setting): `select()`
narrows `registry()`, while `installed()` still names every format, so that validators know
the schemas of formats that are not served.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from oai.formats.base import Format, Record, always

GROUP = "oai.formats"
MANDATORY_PREFIX = "oai_dc"  # OAI-PMH 2.0 (3.4): every item must be available as oai_dc


class FormatRegistryError(RuntimeError):
    """A format plug-in cannot be used (broken entry point, duplicate prefix...)."""


_selection: tuple[str, ...] | None = None  # None: every installed format
_settings: dict[str, str] = {}  # the crosswalks' settings (see `configure`)


@cache
def installed() -> dict[str, Format]:
    """Every installed format by prefix, oai_dc first, the others in prefix order."""
    found: dict[str, Format] = {}
    namespaces: dict[str, str] = {}
    from importlib.metadata import entry_points  # 35 ms: not for commands that need no format

    for entry in entry_points(group=GROUP):
        try:
            fmt = entry.load()
        except Exception as exc:  # one line naming the plug-in, never a traceback
            raise FormatRegistryError(f"the metadata format {entry.name!r} ({entry.value}) "
                                      f"cannot be loaded: {type(exc).__name__}: {exc}") from exc
        if not isinstance(fmt, Format):
            raise FormatRegistryError(f"the metadata format {entry.name!r} ({entry.value}) "
                                      "is not an oai.formats.Format")
        if fmt.prefix in found:
            raise FormatRegistryError(f"two plug-ins register the metadataPrefix "
                                      f"{fmt.prefix!r}")
        if fmt.namespace in namespaces:
            raise FormatRegistryError(f"{fmt.prefix!r} and {namespaces[fmt.namespace]!r} "
                                      f"both claim the namespace {fmt.namespace}")
        found[fmt.prefix] = fmt
        namespaces[fmt.namespace] = fmt.prefix
    if MANDATORY_PREFIX not in found:
        raise FormatRegistryError("no oai_dc format is registered: is the package installed?"
                                  " (pip install -e .)")
    return {p: found[p] for p in sorted(found, key=lambda p: (p != MANDATORY_PREFIX, p))}


def select(prefixes: Iterable[str] | None) -> None:
    """Serve and render only these formats (None or empty: every installed one). Checked when
    the registry is next read: an unknown prefix, or a selection without oai_dc, raises
    FormatRegistryError there."""
    global _selection
    chosen = tuple(dict.fromkeys(prefixes or ())) or None
    if chosen != _selection:
        _selection = chosen
        registry.cache_clear()


def selection() -> tuple[str, ...] | None:
    """The prefixes `select()` was given (None: every installed format)."""
    return _selection


def configure(prefixes: Iterable[str] | None, settings: dict[str, str] | None = None) -> None:
    """Select the formats served (see `select`) and give the crosswalks their settings
    (e.g. `datacite_symbol`), from the configuration; also how worker processes inherit
    both (see `configuration`)."""
    select(prefixes)
    _settings.clear()
    _settings.update(settings or {})


def configuration() -> tuple[tuple[str, ...] | None, dict[str, str]]:
    """The arguments that make another process's formats match this one's `configure`."""
    return _selection, dict(_settings)


def setting(name: str, default: str = "") -> str:
    """A crosswalk setting given to `configure` (the value of the configuration key)."""
    return _settings.get(name, default)


@cache
def registry() -> dict[str, Format]:
    """The formats this repository serves and renders: every installed one, or the selected
    ones (see `select`)."""
    every = installed()
    if _selection is None:
        return every
    unknown = [p for p in _selection if p not in every]
    if unknown:
        raise FormatRegistryError(
            f"formats: no metadata format {', '.join(map(repr, unknown))} is installed "
            f"(installed: {', '.join(every)})")
    if MANDATORY_PREFIX not in _selection:
        raise FormatRegistryError(f"formats: {MANDATORY_PREFIX} must be among the formats "
                                  "served (OAI-PMH requires it for every record)")
    return {p: f for p, f in every.items() if p in _selection}


def refresh() -> None:
    """Look for installed formats again (after installing a plug-in in a running process)."""
    installed.cache_clear()
    registry.cache_clear()


def get(prefix: str) -> Format | None:
    return registry().get(prefix)


__all__ = ["GROUP", "MANDATORY_PREFIX", "Format", "FormatRegistryError", "Record", "always",
           "configuration", "configure", "get", "installed", "refresh", "registry", "select",
           "selection", "setting"]
