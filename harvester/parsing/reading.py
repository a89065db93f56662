"""From a parse tree to the model: envelope, records, headers, sets, formats, token.

Elements are matched by local name, so the OAI namespace with any prefix, or none at all, is
accepted. Record payloads are taken from the text the tree was parsed from (see `payload`).
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from harvester.errors import NotOAIResponse
from harvester.parsing.model import (
    NO_RECORDS_MATCH,
    FormatInfo,
    HarvestedRecord,
    Page,
    Quarantined,
    SetInfo,
    TokenInfo,
)
from harvester.parsing.payload import SpanCursor, payload_text, serialize
from harvester.parsing.scanning import int_or_none
from oai.protocol.datestamps import parse_lenient_or_none

_ELEMENT = etree._Element


def local_name(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def children(el: etree._Element, name: str) -> Iterator[etree._Element]:
    for child in el:
        tag = child.tag
        if isinstance(tag, str) and (tag == name or tag.endswith("}" + name)):
            yield child


def child(el: etree._Element, name: str) -> etree._Element | None:
    return next(children(el, name), None)


def text_of(el: etree._Element | None) -> str:
    if el is None:
        return ""
    if len(el) == 0:
        return (el.text or "").strip()
    return "".join(el.itertext()).strip()


def _first_element(el: etree._Element) -> etree._Element | None:
    for item in el:
        if type(item) is _ELEMENT or isinstance(item.tag, str):  # the type: no tag string
            return item
    return None


def record_from_header(header: etree._Element, metadata: str | None,
                       about: list[str]) -> HarvestedRecord | None:
    identifier = datestamp = ""
    set_specs: list[str] = []
    for item in header:  # one pass: this runs for every record
        tag = item.tag
        if not isinstance(tag, str):
            continue
        name = tag[tag.rfind("}") + 1:]
        text = item.text
        text = (text.strip() if text else "") if len(item) == 0 else text_of(item)
        if name == "identifier":
            identifier = text
        elif name == "datestamp":
            datestamp = text
        elif name == "setSpec":
            set_specs.append(text)
    if not identifier:
        return None
    return HarvestedRecord(identifier, datestamp, parse_lenient_or_none(datestamp),
                           header.get("status") == "deleted", tuple(set_specs), metadata,
                           about)


def read_record(record: etree._Element, cursor: SpanCursor) -> HarvestedRecord | None:
    """One <record>; its containers' spans are consumed from `cursor` in document order, so
    the text and the tree stay in step even for deleted records that carry metadata. One
    pass over the record's children, compared by local name (any prefix, or none)."""
    header: etree._Element | None = None
    metadata: str | None = None
    about: list[str] = []
    for item in record:
        tag = item.tag
        if not isinstance(tag, str):
            continue
        name = tag[tag.rfind("}") + 1:]
        if name == "header":
            if header is None:
                header = item
            continue
        if name != "metadata" and name != "about":
            continue
        inner = _first_element(item)
        if inner is None:
            cursor.take(name)
            continue
        text = payload_text(inner, name, cursor)
        if name == "about":
            about.append(text)
        elif metadata is None and (header is None or header.get("status") != "deleted"):
            metadata = text
    if header is None:
        return None
    return record_from_header(header, metadata, about)


def read_token(el: etree._Element) -> TokenInfo:
    return TokenInfo(
        value=(el.text or "").strip(),
        cursor=int_or_none(el.get("cursor")),
        complete_list_size=int_or_none(el.get("completeListSize")),
        expiration=el.get("expirationDate"),
    )


def fill_items(page: Page, container: etree._Element, cursor: SpanCursor) -> None:
    """Read records/headers/sets/formats and the token from the verb's element."""
    verb = page.verb
    with_payloads = verb in ("ListRecords", "GetRecord")
    index = -1  # among the child elements (comments and processing instructions skipped)
    for item in container:
        tag = item.tag  # (built anew on each access: read once)
        if not isinstance(tag, str):
            continue
        index += 1
        name = tag[tag.rfind("}") + 1:]
        if name == "record" and with_payloads:
            keep(page, index, item, read_record(item, cursor))
        elif name == "resumptionToken":
            page.token = read_token(item)
        elif name == "header" and verb == "ListIdentifiers":
            keep(page, index, item, record_from_header(item, None, []))
        elif name == "set":
            page.sets.append(SetInfo(
                spec=text_of(child(item, "setSpec")), name=text_of(child(item, "setName")),
                description=[serialize(d) for sd in children(item, "setDescription")
                             if (d := _first_element(sd)) is not None]))
        elif name == "metadataFormat":
            page.formats.append(FormatInfo(
                prefix=text_of(child(item, "metadataPrefix")),
                schema=text_of(child(item, "schema")),
                namespace=text_of(child(item, "metadataNamespace"))))


def keep(page: Page, index: int, el: etree._Element, rec: HarvestedRecord | None) -> None:
    if rec is not None:
        page.records.append(rec)
        return
    raw = etree.tostring(el, encoding="utf-8", with_tail=False)
    page.quarantined.append(Quarantined(index, None, "record without header or identifier", raw))


def read_envelope(page: Page, root: etree._Element) -> etree._Element | None:
    """Fill responseDate and errors; return the verb's element if present."""
    if local_name(root) != "OAI-PMH":
        raise NotOAIResponse(f"the root element is <{local_name(root) or '?'}>, not <OAI-PMH>")
    container = None
    for item in root:
        name = local_name(item)
        if name == "responseDate":
            page.response_date = text_of(item)
            page.response_epoch = parse_lenient_or_none(page.response_date)
        elif name == "error":
            code = item.get("code") or "unknown"
            if code == NO_RECORDS_MATCH:
                page.no_records_match = True
            else:
                page.errors.append((code, text_of(item)))
        elif name == page.verb:
            container = item
    return container
