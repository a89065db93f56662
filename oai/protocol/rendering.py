"""Render a validated record in every registered format, sanitised and schema-checked.

This runs once per record write; what it returns is stored and later streamed verbatim, so a
served fragment has always passed its format's schema.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from lxml import etree

from oai.protocol.canonical import canonical_json
from oai.protocol.formats import FORMATS, MANDATORY_PREFIX
from oai.protocol.records import InvalidRecord, validate_record
from oai.protocol.schemas import SchemaViolation, validate_fragment

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@dataclass(frozen=True)
class PreparedRecord:
    """A record ready to store: canonical JSON, its hash, and one XML fragment per format."""

    id: str
    deleted: bool
    set_specs: tuple[str, ...]
    data: str
    content_hash: str
    renditions: dict[str, str]


def prepare_record(candidate: object) -> PreparedRecord:
    """Validate, render and schema-check one record; raise InvalidRecord saying why not."""
    record = validate_record(candidate)
    renditions: dict[str, str] = {}
    for prefix, fmt in FORMATS.items():
        fragment = fmt.render(record)
        if fragment is None:
            continue
        try:
            element = etree.fromstring(fragment.encode("utf-8"), _PARSER)
            validate_fragment(fmt.namespace, element)
        except (etree.XMLSyntaxError, SchemaViolation) as exc:
            if prefix == MANDATORY_PREFIX:
                raise InvalidRecord(f"oai_dc rendering is not schema-valid: {exc}") from None
            continue
        renditions[prefix] = fragment
    data = canonical_json(record)
    specs = tuple(dict.fromkeys(record.get("sets", [])))
    return PreparedRecord(
        id=record["id"],
        deleted=bool(record.get("deleted")),
        set_specs=specs,
        data=data,
        content_hash=hashlib.sha256(data.encode("utf-8")).hexdigest(),
        renditions=renditions,
    )
