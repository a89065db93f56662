"""OAI-PMH protocol errors (spec 3.6) as exceptions, mapped to their codes by an explicit table.

A handler raises one of these; the web layer turns it into an `<error code="...">` element in
an HTTP 200 response. `echo_request_arguments` says whether the `<request>` element may carry
the request's arguments (spec 3.2: not for badVerb and badArgument).
"""

from __future__ import annotations


class OAIError(Exception):
    """Base of every OAI-PMH protocol error; `code` is the spec's error code."""

    code = "badArgument"
    echo_request_arguments = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadArgument(OAIError):
    """Illegal, missing, repeated or malformed arguments."""

    code = "badArgument"
    echo_request_arguments = False


class BadVerb(OAIError):
    """Missing, repeated or unknown verb."""

    code = "badVerb"
    echo_request_arguments = False


class BadResumptionToken(OAIError):
    """The token is malformed, tampered with, or belongs to another request."""

    code = "badResumptionToken"


class CannotDisseminateFormat(OAIError):
    """The metadata format is not supported by the item or the repository."""

    code = "cannotDisseminateFormat"


class IdDoesNotExist(OAIError):
    """The identifier is unknown or illegal in this repository."""

    code = "idDoesNotExist"


class NoRecordsMatch(OAIError):
    """The combination of from, until, set and metadataPrefix yields an empty list."""

    code = "noRecordsMatch"


class NoMetadataFormats(OAIError):
    """The item has no metadata format available."""

    code = "noMetadataFormats"


class NoSetHierarchy(OAIError):
    """The repository does not support sets."""

    code = "noSetHierarchy"


ERRORS_BY_CODE: dict[str, type[OAIError]] = {
    "badArgument": BadArgument,
    "badResumptionToken": BadResumptionToken,
    "badVerb": BadVerb,
    "cannotDisseminateFormat": CannotDisseminateFormat,
    "idDoesNotExist": IdDoesNotExist,
    "noRecordsMatch": NoRecordsMatch,
    "noMetadataFormats": NoMetadataFormats,
    "noSetHierarchy": NoSetHierarchy,
}


def error_for_code(code: str, message: str) -> OAIError:
    """The exception for an error code read from a response (unknown codes become OAIError)."""
    cls = ERRORS_BY_CODE.get(code)
    if cls is None:
        err = OAIError(message)
        err.code = code
        return err
    return cls(message)
