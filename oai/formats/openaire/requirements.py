"""Which records OpenAIRE v4 cannot carry: those lacking a property the 4.0 profile makes
Mandatory (title, creator, publication date, resource identifier, access right; the resource
type always exists), or the embargo dates it requires of an embargoed record ("the start and
end date of the embargo period must be provided"). Reasons name the property and carry no
record-specific values, so that `oai check` can count them."""

from __future__ import annotations

from oai.formats.base import Record
from oai.formats.openaire.fields import (
    accepted_date,
    embargo_end,
    has_text,
    issued_date,
    primary_identifier,
)

NO_TITLE = "OpenAIRE requires a title (datacite:title): every title is empty once cleaned"
NO_CREATOR = ("OpenAIRE 4.0 requires a creator (datacite:creator is mandatory): "
              "the record has none")
NO_DATE = "OpenAIRE requires a publication date (datacite:date Issued): the record has no date"
NO_IDENTIFIER = ("OpenAIRE requires a resource identifier (datacite:identifier): the record has "
                 "no landing page URL, DOI, handle, URN or ARK")
NO_ACCESS = ("OpenAIRE requires an access right (datacite:rights, COAR): the record has no "
             "access status")
NO_EMBARGO_END = ("OpenAIRE requires the end of an embargo (datacite:date Available): the "
                  "record is embargoed without an embargo end date")
NO_EMBARGO_START = ("OpenAIRE requires the start of an embargo (datacite:date Accepted): the "
                    "record is embargoed without an acceptance or deposit date")


def requires(record: Record) -> str | None:
    """Why the record cannot be disseminated as oai_openaire, or None."""
    if not any(has_text(t["text"]) for t in record["titles"]):
        return NO_TITLE
    if not any(has_text(c["name"]) for c in record.get("creators", [])):
        return NO_CREATOR
    if issued_date(record) is None:
        return NO_DATE
    if primary_identifier(record) is None:
        return NO_IDENTIFIER
    access = record.get("access") or {}
    if not access.get("status"):
        return NO_ACCESS
    if access["status"] == "embargoed":
        if embargo_end(record) is None:
            return NO_EMBARGO_END
        if accepted_date(record) is None:
            return NO_EMBARGO_START
    return None
