"""Validate anyone's OAI-PMH: responses, records and metadata documents, offline, and live
repositories by walking a bounded sample of their lists.

    from oai.validation import validate_bytes, validate_file, validate_url
    report = validate_url("https://repo.example.org/oai", pages=3)
    report.ok, report.problems, report.summary()

Schemas are found through our catalog, or any other OASIS catalog given as `catalog`
(`oai.protocol.schemas.schema_for`). Rules are listed in `RULES` (protocol rules) and
`DOCUMENT_RULES` (the document checks), each under a stable id.
"""

from __future__ import annotations

from oai.validation.checks import validate_bytes, validate_file, validate_path
from oai.validation.report import Problem, Report, Severity
from oai.validation.rules import RULES
from oai.validation.walk import validate_url

#: The ids of the checks that are not protocol rules, with what they mean.
DOCUMENT_RULES: dict[str, str] = {
    "not-well-formed": "the document is not well-formed XML",
    "schema": "an element is not valid against its namespace's schema",
    "no-schema": "no schema is known for a namespace; its elements are not judged (warning; "
                 "an error when a format recognises its record spelt otherwise)",
    "format-spelling": "a record a format recognises, spelt otherwise than its schema (e.g. "
                       "RIOXX's example spelling): what is wrong",
    "schema-unusable": "the schemas chosen for a document do not compile together",
    "unreadable": "a file or folder cannot be read",
    "no-documents": "a folder holds no *.xml file (warning)",
    "request-failed": "a request to the repository failed (after retries)",
    "not-oai": "the repository answered with something else than an OAI-PMH response",
    "http-status": "an OAI-PMH answer came with an HTTP status other than 200 (warning)",
}

__all__ = ["DOCUMENT_RULES", "RULES", "Problem", "Report", "Severity", "validate_bytes",
           "validate_file", "validate_path", "validate_url"]
