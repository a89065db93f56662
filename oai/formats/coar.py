"""COAR controlled vocabularies (resource types, access rights, versions), shared by the
formats that speak them (RIOXX, OpenAIRE, DataCite-minded ones): the record model's values
mapped to the vocabulary's URI and preferred English label."""

from __future__ import annotations

from oai.formats.base import Record

RESOURCE_TYPE = "http://purl.org/coar/resource_type/"
ACCESS_RIGHT = "http://purl.org/coar/access_right/"
VERSION = "http://purl.org/coar/version/"

# record type -> (COAR resource type code, label); theses by level below
RESOURCE_TYPES: dict[str, tuple[str, str]] = {
    "article": ("c_6501", "journal article"),
    "book": ("c_2f33", "book"),
    "book_section": ("c_3248", "book part"),
    "conference_item": ("c_5794", "conference paper"),
    "dataset": ("c_ddb1", "dataset"),
    "report": ("c_93fc", "report"),
    "working_paper": ("c_8042", "working paper"),
    "software": ("c_5ce6", "software"),
    "patent": ("c_15cd", "patent"),
    "other": ("c_1843", "other"),
}

THESIS_TYPES: dict[str, tuple[str, str]] = {
    "doctoral": ("c_db06", "doctoral thesis"),
    "master": ("c_bdcc", "master thesis"),
    "bachelor": ("c_7a1f", "bachelor thesis"),
}
THESIS = ("c_46ec", "thesis")

# record access status -> (code, label)
ACCESS_RIGHTS: dict[str, tuple[str, str]] = {
    "open": ("c_abf2", "open access"),
    "embargoed": ("c_f1cf", "embargoed access"),
    "restricted": ("c_16ec", "restricted access"),
    "metadata_only": ("c_14cb", "metadata only access"),
}

# NISO JAV version (the record model's file versions) -> (code, label)
VERSIONS: dict[str, tuple[str, str]] = {
    "AO": ("c_b1a7d7d4d402bcce", "AO"),
    "SMUR": ("c_71e4c1898caa6e32", "SMUR"),
    "AM": ("c_ab4af688f83e57aa", "AM"),
    "P": ("c_fa2ee174bc00049f", "P"),
    "VoR": ("c_970fb48d4fbd8a85", "VoR"),
    "CVoR": ("c_e19f295774971610", "CVoR"),
    "EVoR": ("c_dc82b40f9837b551", "EVoR"),
    "NA": ("c_be7fb7dd8ff6fe43", "NA"),
}


def resource_type(record: Record) -> tuple[str, str]:
    """(URI, label) of the record's COAR resource type."""
    if record["type"] == "thesis":
        code, label = THESIS_TYPES.get(record.get("thesis", {}).get("level", ""), THESIS)
    else:
        code, label = RESOURCE_TYPES[record["type"]]
    return RESOURCE_TYPE + code, label


def access_right(status: str) -> tuple[str, str]:
    code, label = ACCESS_RIGHTS[status]
    return ACCESS_RIGHT + code, label


def version(jav: str) -> tuple[str, str]:
    code, label = VERSIONS[jav]
    return VERSION + code, label
