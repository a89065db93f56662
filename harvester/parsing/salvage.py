"""Record-by-record salvage of a page the parser rejects even after repairs: the envelope and
each record are parsed on their own, so one bad record is quarantined alone (with its raw
bytes) and the others are kept."""

from __future__ import annotations

import logging

from lxml import etree

from harvester.errors import MalformedResponse
from harvester.parsing.model import Page, Quarantined
from harvester.parsing.payload import SpanCursor
from harvester.parsing.reading import fill_items, read_envelope, read_record
from harvester.parsing.repair import (
    UTF16_BOMS,
    declared_encoding,
    decode,
    note,
    parse_text,
    repair_text,
    strict,
)
from harvester.parsing.scanning import (
    namespace_declarations,
    scan_identifier,
    scan_token,
    split_records,
)

log = logging.getLogger("harvester.parsing")


def salvage(page: Page, body: bytes, why: str) -> None:
    if body.startswith(UTF16_BOMS):
        body = body.decode("utf-16").encode("utf-8")
    spans = split_records(body)
    if not spans:
        raise MalformedResponse(f"unparsable XML: {why}")
    note(page.repairs, f"page unparsable ({why}): records read one by one")
    declared = declared_encoding(body)
    head, tail = body[:spans[0][0]], body[spans[-1][1]:]
    declarations = namespace_declarations(head)
    try:
        root, data = parse_text(head + tail, page.repairs)
        container = read_envelope(page, root)
        if container is not None:
            fill_items(page, container, SpanCursor(data))
    except MalformedResponse:
        note(page.repairs, "response envelope unparsable: resumptionToken read by pattern")
        page.token = scan_token(tail)
    for index, (a, b) in enumerate(spans):
        raw = body[a:b]
        wrapped = b"<w" + declarations + b">" + raw + b"</w>"
        try:
            data = repair_text(decode(wrapped, declared, page.repairs),
                               page.repairs).encode("utf-8")
            element = strict(data)[0]
            record = read_record(element, SpanCursor(data))
        except (etree.XMLSyntaxError, IndexError) as exc:
            ident = scan_identifier(raw)
            page.quarantined.append(Quarantined(index, ident, f"unparsable record: {exc}", raw))
            log.warning("quarantined record %s: %s", ident or f"#{index}", exc)
            continue
        if record is None:
            page.quarantined.append(Quarantined(index, None, "record without identifier", raw))
        else:
            page.records.append(record)
