"""The `marcxml` metadata format: a MARC 21 bibliographic record in MARCXML (MARC 21 slim),
for library catalogues and discovery systems that load repository records as MARC."""

from __future__ import annotations

from oai.formats.base import Format
from oai.formats.marcxml.crosswalk import MARC, MARC_SCHEMA_URL, render_marcxml, requires
from oai.paths import schema_dir

FORMAT = Format(
    prefix="marcxml", namespace=MARC, schema_location=MARC_SCHEMA_URL, version="1",
    catalog=schema_dir() / "marcxml" / "catalog.xml", crosswalk=render_marcxml,
    requires=requires, label="MARC 21 (MARCXML)")

__all__ = ["FORMAT"]
