"""Every XML namespace and official schema URL the toolkit uses: the one place they are spelled."""

from __future__ import annotations

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML = "http://www.w3.org/XML/1998/namespace"
OAI_IDENTIFIER = "http://www.openarchives.org/OAI/2.0/oai-identifier"
# Identify descriptions and about containers (eprints keeps its OAI 1.1 namespace)
EPRINTS = "http://www.openarchives.org/OAI/1.1/eprints"
FRIENDS = "http://www.openarchives.org/OAI/2.0/friends/"
BRANDING = "http://www.openarchives.org/OAI/2.0/branding/"
RIGHTS = "http://www.openarchives.org/OAI/2.0/rights/"
#: about containers of re-exposed (harvested) records
PROVENANCE = "http://www.openarchives.org/OAI/2.0/provenance"
#: The only appliesTo value rightsManifest.xsd allows: the records' metadata.
RIGHTS_APPLIES_TO_METADATA = "http://www.openarchives.org/OAI/2.0/entity#metadata"

OAI_SCHEMA_URL = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_DC_SCHEMA_URL = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
OAI_IDENTIFIER_SCHEMA_URL = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
EPRINTS_SCHEMA_URL = "http://www.openarchives.org/OAI/2.0/eprints.xsd"
FRIENDS_SCHEMA_URL = "http://www.openarchives.org/OAI/2.0/friends.xsd"
BRANDING_SCHEMA_URL = "http://www.openarchives.org/OAI/2.0/branding.xsd"
#: rights.xsd declares <rights> (about containers); rightsManifest.xsd includes it and adds
#: <rightsManifest> (Identify), so the latter validates both.
RIGHTS_SCHEMA_URL = "http://www.openarchives.org/OAI/2.0/rights.xsd"
RIGHTS_MANIFEST_SCHEMA_URL = "http://www.openarchives.org/OAI/2.0/rightsManifest.xsd"
PROVENANCE_SCHEMA_URL = "http://www.openarchives.org/OAI/2.0/provenance.xsd"
