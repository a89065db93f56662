"""Render a validated record in every registered format, sanitised and schema-checked.

This runs once per record write (and for `oai formats rebuild`); what it returns is stored and
later streamed verbatim, so a served fragment has always passed its format's schema. A format
that cannot carry a record (`Format.requires`), or whose output would not be valid, leaves the
record out, with the reason: never an invalid record.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from lxml import etree

from oai.formats import MANDATORY_PREFIX, Format, Record, registry
from oai.protocol.canonical import canonical_json
from oai.protocol.records import InvalidRecord, validate_record
from oai.protocol.schemas import SchemaViolation, validate_fragment

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@dataclass(frozen=True)
class PreparedRecord:
    """A record ready to store: canonical JSON, its hash, one XML fragment per format that
    carries it, and why the others do not."""

    id: str
    deleted: bool
    set_specs: tuple[str, ...]
    data: str
    content_hash: str
    renditions: dict[str, str]
    unavailable: dict[str, str] = field(default_factory=dict)  # prefix -> reason


def render(fmt: Format, record: Record) -> tuple[str | None, str | None]:
    """(fragment, None), or (None, why the format does not carry this record)."""
    reason = fmt.unavailable(record)
    if reason is not None:
        return None, reason
    fragment = fmt.crosswalk(record)
    try:
        element = etree.fromstring(fragment.encode("utf-8"), _PARSER)
        validate_fragment(fmt.namespace, element)
    except (etree.XMLSyntaxError, SchemaViolation) as exc:
        first = str(exc).strip().splitlines()
        return None, f"the crosswalk's output is not schema-valid: {first[-1].strip()}"
    return fragment, None


def prepare_record(candidate: object) -> PreparedRecord:
    """Validate, render and schema-check one record; raise InvalidRecord saying why not."""
    record = validate_record(candidate)
    renditions: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    for prefix, fmt in registry().items():
        fragment, reason = render(fmt, record)
        if fragment is not None:
            renditions[prefix] = fragment
        elif prefix == MANDATORY_PREFIX:
            raise InvalidRecord(f"oai_dc: {reason}")
        else:
            unavailable[prefix] = reason or "not available"
    data = canonical_json(record)
    specs = tuple(dict.fromkeys(record.get("sets", [])))
    return PreparedRecord(
        id=record["id"],
        deleted=bool(record.get("deleted")),
        set_specs=specs,
        data=data,
        content_hash=hashlib.sha256(data.encode("utf-8")).hexdigest(),
        renditions=renditions,
        unavailable=unavailable,
    )
