"""What a metadata format is, to the toolkit: everything the store, the provider and the
validators need to know about it, declared in one object by one plug-in.

A format maps the record model to one XML vocabulary. It says which records it can carry
(`requires` gives the reason it cannot, e.g. RIOXX without a licence), renders the others
(`crosswalk`), and names the schemas that check the result (`catalog`, an OASIS catalog
mapping official schema URLs to bundled files, loaded offline). Its `version` changes whenever
its output for an unchanged record may change: `oai formats rebuild` then re-renders the
store, and records whose rendering really changed get a new datestamp.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Record = dict[str, Any]


def always(record: Record) -> str | None:
    """Every record can be disseminated."""
    return None


@dataclass(frozen=True)
class Format:
    """One metadata format, as registered under the `oai.formats` entry-point group."""

    prefix: str  # metadataPrefix
    namespace: str  # metadataNamespace: the root element's namespace
    schema_location: str  # the official XSD URL (ListMetadataFormats' schema)
    version: str  # of the crosswalk's output
    catalog: Path  # OASIS catalog of its XSDs (official URLs -> bundled files)
    crosswalk: Callable[[Record], str]  # the record as this format's XML fragment
    requires: Callable[[Record], str | None] = always  # why a record cannot be carried
    label: str = ""  # a human name, for listings
    aliases: tuple[str, ...] = field(default_factory=tuple)  # other schema URLs, if any
    # What is wrong with an element that looks like this format's record spelt otherwise (a
    # profile's example spelling, a wrong namespace), or None: validators say it instead of
    # a bare "no schema for this namespace" / "element not expected"
    diagnose: Callable[[Any], str | None] | None = None

    def unavailable(self, record: Record) -> str | None:
        """The reason `record` is not disseminated in this format, or None."""
        return self.requires(record)
