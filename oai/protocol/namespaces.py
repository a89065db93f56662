"""Every XML namespace and official schema URL the toolkit uses: the one place they are spelled."""

from __future__ import annotations

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML = "http://www.w3.org/XML/1998/namespace"
OAI_IDENTIFIER = "http://www.openarchives.org/OAI/2.0/oai-identifier"

OAI_SCHEMA_URL = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_DC_SCHEMA_URL = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
OAI_IDENTIFIER_SCHEMA_URL = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
