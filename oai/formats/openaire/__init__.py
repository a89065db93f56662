"""OpenAIRE Guidelines for Literature Repositories v4 (metadataPrefix `oai_openaire`): the
record as OpenAIRE harvests it, DataCite and Dublin Core properties with COAR vocabularies
under an oaire:resource root, checked against our own XSDs (schemas/oai_openaire)."""

from __future__ import annotations

from oai.formats.base import Format
from oai.formats.openaire.crosswalk import render_openaire
from oai.formats.openaire.namespaces import OAIRE, SCHEMA_URL
from oai.formats.openaire.requirements import requires
from oai.paths import schema_dir

FORMAT = Format(
    prefix="oai_openaire", namespace=OAIRE, schema_location=SCHEMA_URL, version="1",
    catalog=schema_dir() / "oai_openaire" / "catalog.xml", crosswalk=render_openaire,
    requires=requires, label="OpenAIRE Guidelines for Literature Repositories v4")

__all__ = ["FORMAT", "render_openaire", "requires"]
