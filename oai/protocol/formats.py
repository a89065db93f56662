"""The metadata format registry: prefix -> namespace, schema and crosswalk.

Adding a format means writing its crosswalk and registering it here; the store renders and
validates every record in every registered format at write time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from oai.protocol.crosswalks.common import Record
from oai.protocol.crosswalks.oai_dc import render_oai_dc
from oai.protocol.namespaces import OAI_DC, OAI_DC_SCHEMA_URL


@dataclass(frozen=True)
class MetadataFormat:
    """One disseminated format; `render` returns None when a record cannot be expressed in it."""

    prefix: str
    namespace: str
    schema: str
    render: Callable[[Record], str | None]


# OAI-PMH 2.0 (3.4): every item must be available in unqualified Dublin Core.
MANDATORY_PREFIX = "oai_dc"

FORMATS: dict[str, MetadataFormat] = {
    fmt.prefix: fmt
    for fmt in (
        MetadataFormat("oai_dc", OAI_DC, OAI_DC_SCHEMA_URL, render_oai_dc),
    )
}
