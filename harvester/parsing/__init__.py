"""Sans-I/O parsing of OAI-PMH response bodies into plain dataclasses.

Why it is shaped like this:
- Speed: the happy path is one strict lxml parse of the page and one scan of its text for the
  record payloads, which are kept as served rather than re-serialized.
- Safety: the parser never loads a DTD, resolves entities or touches the network, and has no
  10 MB limit (huge_tree); the byte cap is checked by the caller's `max_bytes`.
- Robustness: real servers send broken pages, which are repaired (`repair`) and, failing that,
  read record by record (`salvage`), every repair logged and listed in `Page.repairs`.

Modules: `model` (the dataclasses), `repair` (decoding, repairs, the secure parser),
`scanning` (byte patterns: token, record spans), `payload` (payloads exactly as served),
`reading` (tree to model), `salvage` (one bad record quarantined alone).
"""

from __future__ import annotations

from lxml import etree

from harvester.errors import MalformedResponse, NotOAIResponse, ResponseTooLarge
from harvester.parsing.model import (
    FormatInfo,
    HarvestedRecord,
    IdentifyInfo,
    Page,
    Quarantined,
    SetInfo,
    TokenInfo,
)
from harvester.parsing.payload import SpanCursor
from harvester.parsing.reading import child, children, fill_items, read_envelope, text_of
from harvester.parsing.repair import (
    declared_encoding,
    decode,
    drop_entities,
    looks_misdeclared,
    parse_tree,
    repair_text,
    sniff_not_oai,
    strict,
    to_utf8,
    utf8_of,
)
from harvester.parsing.salvage import salvage
from harvester.parsing.scanning import scan_token
from oai.protocol.datestamps import Granularity

_WITH_PAYLOADS = ("ListRecords", "GetRecord")


def parse_page(body: bytes, verb: str, max_bytes: int | None = None) -> Page:
    """Parse one response body for `verb` (the verb the request was made with).

    Raises ResponseTooLarge, NotOAIResponse (HTML, JSON, empty, wrong root) or
    MalformedResponse (unrepairable, no record to salvage). OAI errors are returned in
    `Page.errors` (see `Page.raise_for_errors`), not raised.
    """
    if max_bytes is not None and len(body) > max_bytes:
        raise ResponseTooLarge(max_bytes, size=len(body))
    reason = sniff_not_oai(body)
    if reason:
        raise NotOAIResponse(reason)
    page = Page(verb=verb, raw_size=len(body))
    declared = declared_encoding(body)
    root = None
    data: bytes | None = None  # the UTF-8 bytes record payloads are sliced from
    if not looks_misdeclared(body, declared):
        try:
            root = strict(body)
        except etree.XMLSyntaxError:
            root = None
    if root is None:
        fixed = to_utf8(repair_text(decode(body, declared, page.repairs), page.repairs))
        try:
            root = strict(fixed)
        except etree.XMLSyntaxError as exc:
            if verb not in _WITH_PAYLOADS:
                raise MalformedResponse(f"unparsable XML: {exc}") from None
            salvage(page, body, str(exc))
            page.raw = body
            return page
        data = fixed
    elif verb in _WITH_PAYLOADS:
        data = utf8_of(body, root)
    if root.getroottree().docinfo.doctype:
        drop_entities(root, page.repairs)
        data = None  # the bytes still hold the dropped references: serialize instead
    container = read_envelope(page, root)
    if container is not None:
        fill_items(page, container, SpanCursor(data))
    elif not page.errors and not page.no_records_match:
        raise MalformedResponse(f"the response has neither <{verb}> nor <error>")
    if page.repairs or page.quarantined:
        page.raw = body
    return page


def parse_identify(body: bytes) -> IdentifyInfo:
    """Parse an Identify response; OAI errors are raised as OAIProtocolError."""
    page = Page(verb="Identify")
    reason = sniff_not_oai(body)
    if reason:
        raise NotOAIResponse(reason)
    el = read_envelope(page, parse_tree(body, page.repairs))
    page.raise_for_errors()
    if el is None:
        raise MalformedResponse("the response has neither <Identify> nor <error>")
    granularity = text_of(child(el, "granularity"))
    return IdentifyInfo(
        repository_name=text_of(child(el, "repositoryName")),
        base_url=text_of(child(el, "baseURL")),
        protocol_version=text_of(child(el, "protocolVersion")),
        earliest_datestamp=text_of(child(el, "earliestDatestamp")),
        deleted_record=text_of(child(el, "deletedRecord")),
        granularity=Granularity.SECONDS if "hh" in granularity else Granularity.DAY,
        compression=[text_of(c) for c in children(el, "compression")],
        admin_emails=[text_of(a) for a in children(el, "adminEmail")],
    )


def parse_sets(body: bytes) -> Page:
    """Parse a ListSets page (entries in `Page.sets`); noSetHierarchy stays in `errors`."""
    return parse_page(body, "ListSets")


def parse_formats(body: bytes) -> list[FormatInfo]:
    """Parse a ListMetadataFormats response; OAI errors are raised."""
    page = parse_page(body, "ListMetadataFormats")
    page.raise_for_errors()
    return page.formats


__all__ = [
    "FormatInfo",
    "HarvestedRecord",
    "IdentifyInfo",
    "Page",
    "Quarantined",
    "SetInfo",
    "TokenInfo",
    "parse_formats",
    "parse_identify",
    "parse_page",
    "parse_sets",
    "parse_tree",
    "scan_token",
]
