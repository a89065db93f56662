"""The `mods` metadata format: MODS 3.7 (Library of Congress), for library catalogues and
aggregators that harvest richer descriptions than Dublin Core (structured citations,
name parts and roles, identifiers by type, access conditions)."""

from __future__ import annotations

from oai.formats.base import Format
from oai.formats.mods.crosswalk import MODS, MODS_SCHEMA_URL, render_mods, requires
from oai.paths import schema_dir

FORMAT = Format(
    prefix="mods", namespace=MODS, schema_location=MODS_SCHEMA_URL, version="1",
    catalog=schema_dir() / "mods" / "catalog.xml", crosswalk=render_mods, requires=requires,
    label="MODS 3.7")

__all__ = ["FORMAT"]
