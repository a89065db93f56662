"""Which records RIOXX v3.0 cannot carry: those lacking a property the official schema makes
mandatory (title, landing page, language, type, creator, acceptance date; the type always
exists). Reasons name the property and carry no record-specific values, so that `oai check`
can count them. rioxxterms:project, also mandatory in the official schema, is optional by the
profile (see schemas/README.md, "RIOXX")."""

from __future__ import annotations

from oai.formats.base import Record
from oai.formats.rioxx.fields import accepted, has_text, landing_page, title

NO_TITLE = "RIOXX requires a title (dc:title): every title is empty once cleaned"
NO_IDENTIFIER = ("RIOXX requires the landing page's HTTP(S) URI (dc:identifier): the record "
                 "has no landing page URL")
NO_LANGUAGE = "RIOXX requires a language (dc:language): the record has none"
NO_CREATOR = "RIOXX requires a creator (rioxxterms:creator): the record has none"
NO_ACCEPTED = ("RIOXX v3.0's schema requires the acceptance date (dcterms:dateAccepted): the "
               "record has no accepted date")


def requires(record: Record) -> str | None:
    """Why the record cannot be disseminated as rioxx, or None."""
    if title(record) is None:
        return NO_TITLE
    if landing_page(record) is None:
        return NO_IDENTIFIER
    if not record.get("languages"):
        return NO_LANGUAGE
    if not any(has_text(c["name"]) for c in record.get("creators", [])):
        return NO_CREATOR
    if accepted(record) is None:
        return NO_ACCEPTED
    return None
