"""DataCite as two metadata formats sharing one crosswalk: `datacite`, the DataCite Metadata
Schema kernel-4 <resource> itself, and `oai_datacite`, that resource inside the wrapper
DataCite's own OAI-PMH service (and Zenodo) disseminate. Both carry only records with a DOI
and the kernel's other mandatory properties (see `crosswalk.requires`)."""

from __future__ import annotations

from oai.formats.base import Format
from oai.formats.datacite.crosswalk import render_datacite, render_oai_datacite, requires
from oai.formats.datacite.vocabularies import (
    KERNEL,
    KERNEL_SCHEMA_URL,
    OAI_DATACITE_NS,
    OAI_DATACITE_SCHEMA_URL,
)
from oai.paths import schema_dir

DATACITE = Format(
    prefix="datacite", namespace=KERNEL, schema_location=KERNEL_SCHEMA_URL, version="1",
    catalog=schema_dir() / "datacite" / "catalog.xml", crosswalk=render_datacite,
    requires=requires, label="DataCite Metadata Schema 4")

OAI_DATACITE = Format(
    prefix="oai_datacite", namespace=OAI_DATACITE_NS, schema_location=OAI_DATACITE_SCHEMA_URL,
    version="1", catalog=schema_dir() / "oai_datacite" / "catalog.xml",
    crosswalk=render_oai_datacite, requires=requires,
    label="DataCite Metadata Schema 4 in the DataCite OAI wrapper 1.1")

__all__ = ["DATACITE", "OAI_DATACITE"]
