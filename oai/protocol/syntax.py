"""The lexical rules OAI-PMH.xsd gives to argument values, as predicates.

A value no rule admits can never name anything, so it is badArgument (decided in
`oai.protocol.arguments`); and since the `<request>` element echoes arguments as attributes
typed by the same rules (spec 3.2), `echoable` keeps any value its type refuses out of a
response, as a last safety net. metadataPrefix and setSpec follow the schema's patterns,
dates the protocol's two granularities, identifier is xs:anyURI as libxml2 reads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from oai.protocol.datestamps import InvalidDate, parse_protocol_date
from oai.protocol.schemas import accepts_any_uri
from oai.protocol.xmltext import has_illegal_xml_chars

# OAI-PMH.xsd metadataPrefixType and setSpecType: URI "unreserved" characters of RFC 2396.
_UNRESERVED = r"[A-Za-z0-9\-_.!~*'()]+"
_METADATA_PREFIX = re.compile(_UNRESERVED)
_SET_SPEC = re.compile(f"{_UNRESERVED}(?::{_UNRESERVED})*")

#: OAI-PMH.xsd verbType.
VERBS = frozenset({"Identify", "ListMetadataFormats", "ListSets", "GetRecord",
                   "ListIdentifiers", "ListRecords"})


def is_metadata_prefix(value: str) -> bool:
    return _METADATA_PREFIX.fullmatch(value) is not None


def is_set_spec(value: str) -> bool:
    return _SET_SPEC.fullmatch(value) is not None


def is_identifier(value: str) -> bool:
    """An xs:anyURI that libxml2 accepts, made only of characters XML can carry."""
    # A request's identifier is checked when parsed and again when echoed, and base URLs
    # repeat: short values are remembered (asking libxml2 costs a couple of microseconds).
    if len(value) <= _REMEMBERED_LENGTH:
        return _remembered_identifier(value)
    return _any_uri(value)


def _any_uri(value: str) -> bool:
    return not has_illegal_xml_chars(value) and accepts_any_uri(value)


_REMEMBERED_LENGTH = 512
_remembered_identifier = lru_cache(maxsize=1024)(_any_uri)


def is_protocol_date(value: str) -> bool:
    try:
        parse_protocol_date(value)
    except InvalidDate:
        return False
    return True


def _any_string(value: str) -> bool:
    return True  # xs:string: the writer drops characters XML cannot carry


#: The request element's attributes (OAI-PMH.xsd requestType) and the rule of each type.
REQUEST_ATTRIBUTES: dict[str, Callable[[str], bool]] = {
    "verb": VERBS.__contains__,
    "identifier": is_identifier,
    "metadataPrefix": is_metadata_prefix,
    "from": is_protocol_date,
    "until": is_protocol_date,
    "set": is_set_spec,
    "resumptionToken": _any_string,
}


def echoable(arguments: Mapping[str, str]) -> dict[str, str]:
    """The arguments the request element may carry: known attributes with values of their
    schema type. Requests that reach an echo have been validated already; this is the net
    under any path that has not."""
    return {name: value for name, value in arguments.items()
            if (rule := REQUEST_ATTRIBUTES.get(name)) is not None and rule(value)}
