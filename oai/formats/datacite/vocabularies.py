"""The record model's values in DataCite kernel-4 terms: resource types, contributor roles,
relation and identifier types, subject schemes, funder identifiers and licences (SPDX).

Every value written into an enumerated attribute comes from these tables, whose targets are
checked against the kernel-4 controlled lists by the tests."""

from __future__ import annotations

import re
from functools import lru_cache

from oai.formats.base import Record

KERNEL = "http://datacite.org/schema/kernel-4"
KERNEL_SCHEMA_URL = "http://schema.datacite.org/meta/kernel-4/metadata.xsd"
KERNEL_VERSION = "4.7"  # the kernel-4 revision our schema mirrors and the output is checked by
OAI_DATACITE_NS = "http://schema.datacite.org/oai/oai-1.1/"
OAI_DATACITE_SCHEMA_URL = "http://schema.datacite.org/oai/oai-1.1/oai.xsd"

# record type -> resourceTypeGeneral (articles not yet accepted are Preprints: see below)
RESOURCE_TYPES: dict[str, str] = {
    "article": "JournalArticle",
    "book": "Book",
    "book_section": "BookChapter",
    "conference_item": "ConferencePaper",
    "thesis": "Dissertation",
    "dataset": "Dataset",
    "report": "Report",
    "working_paper": "Preprint",
    "software": "Software",
    "patent": "Text",
    "other": "Other",
}
PREPRINT_STATUSES = frozenset({"submitted", "unpublished"})

# contributor role -> contributorType ("examiner" has no DataCite counterpart: Other)
CONTRIBUTOR_TYPES: dict[str, str] = {
    "editor": "Editor",
    "supervisor": "Supervisor",
    "examiner": "Other",
    "translator": "Translator",
    "data_collector": "DataCollector",
    "data_curator": "DataCurator",
    "project_leader": "ProjectLeader",
    "researcher": "Researcher",
    "sponsor": "Sponsor",
    "other": "Other",
}

RELATION_TYPES: dict[str, str] = {
    "is_part_of": "IsPartOf",
    "has_part": "HasPart",
    "is_supplemented_by": "IsSupplementedBy",
    "is_supplement_to": "IsSupplementTo",
    "references": "References",
    "is_referenced_by": "IsReferencedBy",
    "is_version_of": "IsVersionOf",
    "has_version": "HasVersion",
    "is_derived_from": "IsDerivedFrom",
    "is_source_of": "IsSourceOf",
    "cites": "Cites",
    "is_cited_by": "IsCitedBy",
    "is_identical_to": "IsIdenticalTo",
    "is_previous_version_of": "IsPreviousVersionOf",
    "is_new_version_of": "IsNewVersionOf",
}

# relation scheme -> relatedIdentifierType
RELATED_IDENTIFIER_TYPES: dict[str, str] = {
    "doi": "DOI",
    "handle": "Handle",
    "url": "URL",
    "isbn": "ISBN",
    "issn": "ISSN",
    "arxiv": "arXiv",
    "pmid": "PMID",
    "urn": "URN",
}

# identifier scheme -> alternateIdentifierType (free text in DataCite; usual spellings)
ALTERNATE_IDENTIFIER_TYPES: dict[str, str] = {
    "handle": "Handle",
    "pmid": "PMID",
    "pmcid": "PMCID",
    "arxiv": "arXiv",
    "urn": "URN",
    "ark": "ARK",
    "isni": "ISNI",
    "url": "URL",
    "local": "Local accession number",
    "wos": "WOS",
    "scopus": "Scopus",
}

# subject scheme -> (subjectScheme, schemeURI or None); "local" subjects carry no scheme
SUBJECT_SCHEMES: dict[str, tuple[str, str | None]] = {
    "lcsh": ("LCSH", "https://id.loc.gov/authorities/subjects"),
    "ddc": ("DDC", "https://www.oclc.org/en/dewey.html"),
    "udc": ("UDC", "https://udcc.org"),
    "mesh": ("MeSH", "https://id.nlm.nih.gov/mesh"),
    "jacs": ("JACS", None),
    "hesa": ("HESA", None),
    "for": ("ANZSRC Fields of Research", None),
}

# NISO JAV versions that are not the version of record: their files are versions of the work
EARLIER_VERSIONS = frozenset({"AO", "SMUR", "AM", "P"})

ORCID_URI = "https://orcid.org"
ROR_URI = "https://ror.org"
CROSSREF_FUNDER_PREFIX = "10.13039/"
SPDX_URI = "https://spdx.org/licenses/"

# a classificationCode is an xs:anyURI: plain codes ("HV", "L500", "300207") always are
_SAFE_CODE = re.compile(r"\A[A-Za-z0-9._~:/?@!$&'()*+,;=-]+\Z")


def resource_type_general(record: Record) -> str:
    """resourceTypeGeneral: an article that is only submitted or unpublished is a Preprint."""
    if record["type"] == "article" and record.get("status") in PREPRINT_STATUSES:
        return "Preprint"
    return RESOURCE_TYPES[record["type"]]


def classification_code(code: str | None) -> str | None:
    return code if code and _SAFE_CODE.match(code) else None


def related_identifier_type(identifier: str, scheme: str | None) -> str | None:
    """relatedIdentifierType from the relation's scheme, or guessed from the identifier's
    form; None when it can be neither (the relation is then left out)."""
    if scheme:
        return RELATED_IDENTIFIER_TYPES[scheme]
    lowered = identifier.lower()
    if identifier.startswith("10.") and "/" in identifier:
        return "DOI"
    if lowered.startswith(("http://", "https://")):
        return "URL"
    if lowered.startswith("urn:"):
        return "URN"
    if lowered.startswith("arxiv:"):
        return "arXiv"
    return None


def funder_identifier(value: str) -> tuple[str, str, str | None]:
    """(identifier, funderIdentifierType, schemeURI) for a record's funder_id: Crossref
    Funder IDs written as https://doi.org/10.13039/... (DataCite's recommended form), ROR
    IDs as their URL."""
    if CROSSREF_FUNDER_PREFIX in value:
        suffix = value[value.index(CROSSREF_FUNDER_PREFIX):]
        return f"https://doi.org/{suffix}", "Crossref Funder ID", None
    if "ror.org/" in value:
        return value, "ROR", ROR_URI
    return value, "Other", None


# --------------------------------------------------------------------------- licences

_CC = re.compile(r"\Acreativecommons\.org/licenses/(by(?:-nc)?(?:-nd|-sa)?)/([1-4]\.[05])\Z")
_CC_PARTS = {"by": "Attribution", "nc": "Non Commercial", "nd": "No Derivatives",
             "sa": "Share Alike"}
_CC_SCOPE = {"1.0": "Generic", "2.0": "Generic", "2.5": "Generic", "3.0": "Unported",
             "4.0": "International"}
_OTHER_LICENCES: dict[str, tuple[str, str]] = {
    "creativecommons.org/publicdomain/zero/1.0": ("CC0-1.0",
                                                  "Creative Commons Zero v1.0 Universal"),
    "opensource.org/licenses/MIT": ("MIT", "MIT License"),
    "opensource.org/license/mit": ("MIT", "MIT License"),
    "opensource.org/licenses/Apache-2.0": ("Apache-2.0", "Apache License 2.0"),
    "apache.org/licenses/LICENSE-2.0": ("Apache-2.0", "Apache License 2.0"),
    "opensource.org/licenses/BSD-3-Clause": ("BSD-3-Clause",
                                             'BSD 3-Clause "New" or "Revised" License'),
    "opensource.org/licenses/BSD-2-Clause": ("BSD-2-Clause",
                                             'BSD 2-Clause "Simplified" License'),
    "gnu.org/licenses/gpl-3.0": ("GPL-3.0-only", "GNU General Public License v3.0 only"),
    "gnu.org/licenses/gpl-3.0.html": ("GPL-3.0-only", "GNU General Public License v3.0 only"),
    "opensource.org/licenses/GPL-3.0": ("GPL-3.0-only",
                                        "GNU General Public License v3.0 only"),
}
_DEED = re.compile(r"/(legalcode|deed)(\.[A-Za-z-]+)?\Z")


def _licence_key(url: str) -> str:
    key = re.sub(r"\A[a-zA-Z]+://(www\.)?", "", url.strip())
    key = _DEED.sub("", key.split("#")[0].split("?")[0])
    return key.rstrip("/")


@lru_cache(maxsize=256)
def spdx_licence(url: str) -> tuple[str, str] | None:
    """(SPDX identifier, SPDX full name) of a licence URL, for the Creative Commons licences
    (unported/international versions 1.0-4.0, CC0) and a few software licences; None for
    anything else (jurisdiction ports included: SPDX lists only some of them)."""
    key = _licence_key(url)
    match = _CC.match(key)
    if match:
        kind, version = match.groups()
        name = " ".join(_CC_PARTS[part] for part in kind.split("-"))
        return (f"CC-{kind.upper()}-{version}",
                f"Creative Commons {name} {version} {_CC_SCOPE[version]}")
    return _OTHER_LICENCES.get(key)
