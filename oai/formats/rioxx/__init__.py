"""RIOXX v3.0 (metadataPrefix `rioxx`): the UK's repository metadata profile (funder
compliance, REF), the record under a rioxx root with Dublin Core, DCMI Terms and RIOXX Terms
properties, checked against our own XSDs (schemas/rioxx)."""

from __future__ import annotations

from oai.formats.base import Format
from oai.formats.rioxx.crosswalk import render_rioxx
from oai.formats.rioxx.namespaces import RIOXX, SCHEMA_URL
from oai.formats.rioxx.requirements import requires
from oai.formats.rioxx.spelling import diagnose
from oai.paths import schema_dir

FORMAT = Format(
    prefix="rioxx", namespace=RIOXX, schema_location=SCHEMA_URL, version="1",
    catalog=schema_dir() / "rioxx" / "catalog.xml", crosswalk=render_rioxx,
    requires=requires, label="RIOXX v3.0", diagnose=diagnose)

__all__ = ["FORMAT", "diagnose", "render_rioxx", "requires"]
