"""The namespaces and schema URL of the RIOXX v3.0 record, and the other spelling the profile's
own example records use (kept with the format so that the plug-in stays self-contained)."""

from __future__ import annotations

RIOXX = "http://www.rioxx.net/schema/v3.0/rioxx/"
RIOXXTERMS = "http://www.rioxx.net/schema/v3.0/rioxxterms/"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

SCHEMA_URL = "http://www.rioxx.net/schema/v3.0/rioxx/rioxx.xsd"

# The profile pages' example records (and DSpace's RIOXX crosswalk) bind rioxxterms here, a
# namespace no schema declares, and leave the root <rioxx> in no namespace.
DOCS_RIOXXTERMS = "http://docs.rioxx.net/schema/v3.0/rioxxterms/"
