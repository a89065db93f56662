"""The namespaces and schema URL of the OpenAIRE v4 record (kept with the format rather than in
oai.protocol.namespaces so that format plug-ins stay self-contained)."""

from __future__ import annotations

OAIRE = "http://namespace.openaire.eu/schema/oaire/"
DATACITE = "http://datacite.org/schema/kernel-4"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# as the profile's declaration gives it ("Application Profile Overview")
SCHEMA_URL = "https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd"
