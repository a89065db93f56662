"""The record model's values in the OpenAIRE v4 profile's vocabularies (DataCite 4.1 types as
the profile lists them, OpenAIRE's own lists); the COAR ones are in `oai.formats.coar`."""

from __future__ import annotations

import re

# relations[].kind -> @relationType and relations[].scheme -> @relatedIdentifierType: OpenAIRE
# v4 takes DataCite's vocabularies for both, so they are DataCite's tables
from oai.formats.datacite.vocabularies import (
    RELATED_IDENTIFIER_TYPES as RELATED_IDENTIFIER_TYPES,
)
from oai.formats.datacite.vocabularies import RELATION_TYPES as RELATION_TYPES

# titles[].kind -> datacite:title/@titleType (a main title has none)
TITLE_TYPES: dict[str, str] = {
    "subtitle": "Subtitle",
    "alternative": "AlternativeTitle",
    "translated": "TranslatedTitle",
}

# agent kind -> @nameType
NAME_TYPES: dict[str, str] = {"person": "Personal", "organisation": "Organizational"}

# contributors[].role -> datacite:contributor/@contributorType (DataCite has no examiner or
# translator: Other)
CONTRIBUTOR_TYPES: dict[str, str] = {
    "editor": "Editor",
    "supervisor": "Supervisor",
    "examiner": "Other",
    "translator": "Other",
    "data_collector": "DataCollector",
    "data_curator": "DataCurator",
    "project_leader": "ProjectLeader",
    "researcher": "Researcher",
    "sponsor": "Sponsor",
    "other": "Other",
}

# record type -> oaire:resourceType/@resourceTypeGeneral
RESOURCE_TYPE_GENERAL: dict[str, str] = {
    "dataset": "dataset",
    "software": "software",
    "other": "other research product",
}
LITERATURE = "literature"

# record type -> oaire:file/@objectType (every other type's files are its full text)
OBJECT_TYPES: dict[str, str] = {"dataset": "dataset", "software": "software"}
FULLTEXT = "fulltext"

# identifiers[].scheme -> @alternateIdentifierType (free text in the profile, which suggests
# the related identifier types: those spellings where one exists)
ALTERNATE_IDENTIFIER_TYPES: dict[str, str] = {
    "handle": "Handle",
    "pmid": "PMID",
    "pmcid": "PMCID",
    "arxiv": "arXiv",
    "urn": "URN",
    "ark": "ARK",
    "isni": "ISNI",
    "url": "URL",
    "local": "Local",
    "wos": "WOS",
    "scopus": "Scopus",
}

# subjects[].scheme -> (@subjectScheme, @schemeURI); local terms carry neither
SUBJECT_SCHEMES: dict[str, tuple[str, str | None]] = {
    "lcsh": ("LCSH", "http://id.loc.gov/authorities/subjects"),
    "ddc": ("DDC", "http://dewey.info/"),
    "udc": ("UDC", "http://udcdata.info/"),
    "mesh": ("MeSH", "http://id.nlm.nih.gov/mesh"),
    "jacs": ("JACS", None),
    "hesa": ("HESA", None),
    "for": ("ANZSRC FoR", None),
}
# thesauri, whose codes identify a heading rather than make part of it
THESAURI = frozenset({"lcsh", "mesh"})
MESH_DESCRIPTOR = "http://id.nlm.nih.gov/mesh/"

_CROSSREF_FUNDER = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/)?(10\.13039/\S+)$", re.I)


def funder_identifier(value: str) -> tuple[str, str]:
    """(funderIdentifier, funderIdentifierType) for a funder id as the model holds it: a
    Crossref Funder Registry DOI (bare or as a URL: written as https://doi.org/...), a ROR,
    ISNI or GRID id, or anything else ("Other")."""
    crossref = _CROSSREF_FUNDER.match(value)
    if crossref:
        return f"https://doi.org/{crossref.group(1)}", "Crossref Funder ID"
    lowered = value.lower()
    if "ror.org/" in lowered:
        return value, "ROR"
    if "isni" in lowered or re.fullmatch(r"\d{15}[\dX]", value.replace(" ", "")):
        return value, "ISNI"
    if lowered.startswith(("grid.", "https://www.grid.ac/", "http://www.grid.ac/")):
        return value, "GRID"
    return value, "Other"
