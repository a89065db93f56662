"""Sans-I/O parsing of OAI-PMH response bodies into plain dataclasses.

Why it is shaped like this:
- Speed: the happy path is one strict lxml parse of the page and one `tostring` per metadata
  element; nothing is re-parsed.
- Safety: the parser never loads a DTD, resolves entities or touches the network, and has no
  10 MB limit (huge_tree); the byte cap is checked by the caller's `max_bytes`.
- Robustness: real servers send broken pages. When the strict parse fails (or the declared
  encoding is visibly wrong) the page is repaired (encoding, characters illegal in XML 1.0,
  bare ampersands), each repair is logged and listed in `Page.repairs`; if it still fails the
  page is cut at its <record> boundaries so one bad record is quarantined with its raw bytes
  and the others are kept. A wrong encoding is never papered over with U+FFFD.
- Tolerance: elements are matched by local name, so the OAI namespace with any prefix, or no
  namespace at all, is accepted.
"""

from __future__ import annotations

import codecs
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from oai.protocol.datestamps import Granularity, InvalidDate, parse_lenient
from oai.protocol.errors import error_for_code
from oai.protocol.namespaces import OAI as OAI_NS
from oai.protocol.xmltext import strip_illegal_xml_chars

from .errors import MalformedResponse, NotOAIResponse, OAIProtocolError, ResponseTooLarge

log = logging.getLogger(__name__)

NO_RECORDS_MATCH = "noRecordsMatch"


@dataclass(frozen=True)
class TokenInfo:
    """A resumptionToken element; an empty `value` means the list is complete."""

    value: str
    cursor: int | None = None
    complete_list_size: int | None = None
    expiration: str | None = None


@dataclass(frozen=True)
class HarvestedRecord:
    """One record (or, for ListIdentifiers, one header).

    `metadata` is the metadata element's child serialized as a standalone, well-formed XML
    string carrying its namespace declarations; None for deleted records and headers.
    """

    identifier: str
    datestamp: str
    datestamp_epoch: int | None
    deleted: bool = False
    set_specs: tuple[str, ...] = ()
    metadata: str | None = None
    about: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Quarantined:
    """A record that could not be read, kept byte for byte so it can be inspected later."""

    index: int
    identifier: str | None
    reason: str
    raw: bytes


@dataclass(frozen=True)
class SetInfo:
    """One ListSets entry."""

    spec: str
    name: str
    description: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FormatInfo:
    """One ListMetadataFormats entry."""

    prefix: str
    schema: str
    namespace: str


@dataclass
class Page:
    """One parsed response page.

    `errors` holds the OAI errors read from the page as (code, message), except noRecordsMatch,
    which is a successful empty result and only sets `no_records_match`. `raw` keeps the
    original body when anything had to be repaired or quarantined.
    """

    verb: str
    response_date: str | None = None
    response_epoch: int | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    records: list[HarvestedRecord] = field(default_factory=list)
    token: TokenInfo | None = None
    repairs: list[str] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    raw_size: int = 0
    no_records_match: bool = False
    sets: list[SetInfo] = field(default_factory=list)
    formats: list[FormatInfo] = field(default_factory=list)
    raw: bytes | None = None

    @property
    def next_token(self) -> str | None:
        """The token to send for the next page, or None when the list is complete."""
        if self.token is None or not self.token.value:
            return None
        return self.token.value

    def raise_for_errors(self, url: str | None = None) -> None:
        """Raise OAIProtocolError if the page carries errors (noRecordsMatch is not one)."""
        if self.errors:
            raise OAIProtocolError([error_for_code(c, m) for c, m in self.errors], url=url)


@dataclass(frozen=True)
class IdentifyInfo:
    """What a repository says about itself (spec 4.2)."""

    repository_name: str
    base_url: str
    protocol_version: str
    earliest_datestamp: str
    deleted_record: str
    granularity: Granularity
    compression: list[str] = field(default_factory=list)
    admin_emails: list[str] = field(default_factory=list)


# --- the parser -------------------------------------------------------------------------------

_local = threading.local()


def _parser() -> etree.XMLParser:
    """A secure parser per thread (lxml parsers must not be shared between threads)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
            huge_tree=True, remove_comments=False,
        )
        _local.parser = parser
    return parser


def _strict(data: bytes) -> etree._Element:
    return etree.fromstring(data, _parser())


def _local_name(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _children(el: etree._Element, name: str) -> Iterator[etree._Element]:
    for child in el:
        tag = child.tag
        if isinstance(tag, str) and (tag == name or tag.endswith("}" + name)):
            yield child


def _child(el: etree._Element, name: str) -> etree._Element | None:
    return next(_children(el, name), None)


def _text(el: etree._Element | None) -> str:
    if el is None:
        return ""
    if len(el) == 0:
        return (el.text or "").strip()
    return "".join(el.itertext()).strip()


def _first_element(el: etree._Element) -> etree._Element | None:
    for child in el:
        if isinstance(child.tag, str):
            return child
    return None


_OAI_DEFAULT_DECLARATION = f' xmlns="{OAI_NS}"'


def _serialize(el: etree._Element) -> str:
    """The payload as a standalone document. Serializing a subelement repeats the namespace
    declarations in scope; the envelope's default OAI namespace, which a payload never uses,
    is dropped from the first tag (cheaper than copying and cleaning the subtree)."""
    text = etree.tostring(el, encoding="unicode", with_tail=False)
    if el.nsmap.get(None) == OAI_NS and etree.QName(el).namespace != OAI_NS:
        end = text.find(">")
        text = text[:end].replace(_OAI_DEFAULT_DECLARATION, "", 1) + text[end:]
    return text


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None and value.strip() else None
    except ValueError:
        return None


def _epoch_or_none(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return parse_lenient(value)
    except InvalidDate:
        return None


# --- sniffing and repair ----------------------------------------------------------------------

_DECL_RE = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_DECL_ANY_RE = re.compile(r"\A(\ufeff)?\s*<\?xml[^>]*\?>")
_CHAR_REF_RE = re.compile(r"&#(?:x([0-9a-fA-F]+)|([0-9]+));")
_BARE_AMP_RE = re.compile(r"&(?!(?:#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z_][\w.-]*);)")
_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_UTF8_NAMES = {"utf-8", "utf8"}
_LATIN_NAMES = {"iso-8859-1", "latin-1", "latin1", "iso8859-1", "iso_8859-1", "windows-1252",
                "cp1252", "us-ascii", "ascii", "iso-8859-15"}
_FALLBACK = "harvester-cp1252-fallback"


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Decode the bytes that are not UTF-8 as windows-1252 (Latin-1 where it has holes)."""
    assert isinstance(exc, UnicodeDecodeError)
    bad = exc.object[exc.start:exc.end]
    out = "".join(
        bytes([b]).decode("cp1252") if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else chr(b)
        for b in bad
    )
    return out, exc.end


codecs.register_error(_FALLBACK, _cp1252_fallback)


def declared_encoding(body: bytes) -> str | None:
    """The encoding named in the XML declaration, lower-cased, or None."""
    m = _DECL_RE.match(body)
    return m.group(1).decode("ascii").lower() if m else None


def _looks_misdeclared(body: bytes, declared: str | None) -> bool:
    """Declared Latin-1-ish, but the non-ASCII bytes are well-formed UTF-8 (a parse would
    succeed and silently produce mojibake, so this is checked before parsing)."""
    if declared is None or declared not in _LATIN_NAMES or body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode(body: bytes, declared: str | None, repairs: list[str]) -> str:
    """Decode bytes to text, choosing the real encoding and noting when it differs."""
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if declared not in (None, *_UTF8_NAMES) and not body.isascii():
            _note(repairs, f"declared encoding {(declared or '').upper()} but the bytes are UTF-8: "
                           "read as UTF-8")
        return text
    if declared not in (None, *_UTF8_NAMES):
        try:
            return body.decode(declared or "utf-8")
        except (LookupError, UnicodeDecodeError):
            pass
    text = body.decode("utf-8", errors=_FALLBACK)
    _note(repairs, f"declared encoding {(declared or 'utf-8').upper()} but some bytes are not "
                   "UTF-8: read those as windows-1252")
    return text


def _illegal_ref(m: re.Match[str]) -> bool:
    hexa, dec = m.groups()
    try:
        cp = int(hexa, 16) if hexa else int(dec)
    except ValueError:
        return True
    if cp > 0x10FFFF:
        return True
    return _ILLEGAL_RE.match(chr(cp)) is not None


def _repair_text(text: str, repairs: list[str]) -> str:
    """Drop illegal characters and character references, escape bare ampersands."""
    found = _ILLEGAL_RE.findall(text)
    if found:
        text = strip_illegal_xml_chars(text)
        names = ", ".join(sorted({f"U+{ord(c):04X}" for c in found}))
        _note(repairs, f"stripped {len(found)} character(s) illegal in XML 1.0 ({names})")
    bad_refs: list[str] = []

    def drop(m: re.Match[str]) -> str:
        if _illegal_ref(m):
            bad_refs.append(m.group(0))
            return ""
        return m.group(0)

    if "&#" in text:
        text = _CHAR_REF_RE.sub(drop, text)
    if bad_refs:
        names = ", ".join(sorted(set(bad_refs)))
        _note(repairs, f"stripped {len(bad_refs)} illegal character reference(s) ({names})")
    text, amps = _BARE_AMP_RE.subn("&amp;", text)
    if amps:
        _note(repairs, f"escaped {amps} bare '&' character(s)")
    return text


def _to_utf8(text: str) -> bytes:
    """Re-encode repaired text as UTF-8 with a declaration that says so."""
    text = _DECL_ANY_RE.sub("", text, count=1).lstrip("\ufeff")
    return text.encode("utf-8")


def _note(repairs: list[str], message: str) -> None:
    if message not in repairs:
        log.warning("repaired response: %s", message)
        repairs.append(message)


def _sniff_not_oai(body: bytes) -> str | None:
    """A reason why this body is obviously not OAI-PMH XML, or None."""
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not head:
        return "empty response body"
    if head[:1] in (b"{", b"["):
        return "the server sent JSON, not OAI-PMH XML"
    html = min((i for i in (head.find(b"<html"), head.find(b"<!doctype html")) if i >= 0),
               default=-1)
    oai = head.find(b"oai-pmh")
    if html >= 0 and (oai < 0 or html < oai):
        return "the server sent an HTML page, not OAI-PMH XML"
    if not head.startswith(b"<") and not body.startswith((codecs.BOM_UTF16_LE,
                                                          codecs.BOM_UTF16_BE)):
        return "the response is not XML"
    return None


def parse_tree(body: bytes, repairs: list[str] | None = None) -> etree._Element:
    """Parse a whole body: strict first, then once more after the repairs. Raises
    MalformedResponse with the parser's message when both fail."""
    repairs = [] if repairs is None else repairs
    declared = declared_encoding(body)
    if not _looks_misdeclared(body, declared):
        try:
            return _strict(body)
        except etree.XMLSyntaxError:
            pass
    fixed = _to_utf8(_repair_text(_decode(body, declared, repairs), repairs))
    try:
        return _strict(fixed)
    except etree.XMLSyntaxError as exc:
        raise MalformedResponse(f"unparsable XML: {exc}") from None


def _drop_entities(root: etree._Element, repairs: list[str]) -> None:
    """Remove unresolved entity references (never expanded: that would load files or URLs),
    so that serialized metadata stays well-formed on its own."""
    refs = list(root.iter(etree.Entity))
    for ref in refs:
        parent = ref.getparent()
        if parent is None:
            continue
        tail = ref.tail or ""
        prev = ref.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
        parent.remove(ref)
    if refs:
        names = ", ".join(sorted({f"&{r.name};" for r in refs}))
        _note(repairs, f"dropped {len(refs)} unresolved entity reference(s) ({names})")


# --- reading the tree ----------------------------------------------------------------------------


def _record_from_header(header: etree._Element, metadata: str | None,
                        about: list[str]) -> HarvestedRecord | None:
    identifier = datestamp = ""
    set_specs: list[str] = []
    for child in header:  # one pass: this runs for every record
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = tag.rpartition("}")[2]
        if name == "identifier":
            identifier = _text(child)
        elif name == "datestamp":
            datestamp = _text(child)
        elif name == "setSpec":
            set_specs.append(_text(child))
    if not identifier:
        return None
    return HarvestedRecord(
        identifier=identifier,
        datestamp=datestamp,
        datestamp_epoch=_epoch_or_none(datestamp),
        deleted=header.get("status") == "deleted",
        set_specs=tuple(set_specs),
        metadata=metadata,
        about=about,
    )


def _read_record(record: etree._Element) -> HarvestedRecord | None:
    header = _child(record, "header")
    if header is None:
        return None
    metadata: str | None = None
    about: list[str] = []
    if header.get("status") != "deleted":
        md = _child(record, "metadata")
        inner = _first_element(md) if md is not None else None
        metadata = _serialize(inner) if inner is not None else None
    for ab in _children(record, "about"):
        inner = _first_element(ab)
        if inner is not None:
            about.append(_serialize(inner))
    return _record_from_header(header, metadata, about)


def _read_token(el: etree._Element) -> TokenInfo:
    return TokenInfo(
        value=(el.text or "").strip(),
        cursor=_int_or_none(el.get("cursor")),
        complete_list_size=_int_or_none(el.get("completeListSize")),
        expiration=el.get("expirationDate"),
    )


def _fill_items(page: Page, container: etree._Element) -> None:
    """Read records/headers/sets/formats and the token from the verb's element."""
    verb = page.verb
    for index, child in enumerate(el for el in container if isinstance(el.tag, str)):
        name = _local_name(child)
        if name == "resumptionToken":
            page.token = _read_token(child)
        elif name == "record" and verb in ("ListRecords", "GetRecord"):
            _keep(page, index, child, _read_record(child))
        elif name == "header" and verb == "ListIdentifiers":
            _keep(page, index, child, _record_from_header(child, None, []))
        elif name == "set":
            page.sets.append(SetInfo(
                spec=_text(_child(child, "setSpec")), name=_text(_child(child, "setName")),
                description=[_serialize(d) for sd in _children(child, "setDescription")
                             if (d := _first_element(sd)) is not None]))
        elif name == "metadataFormat":
            page.formats.append(FormatInfo(
                prefix=_text(_child(child, "metadataPrefix")),
                schema=_text(_child(child, "schema")),
                namespace=_text(_child(child, "metadataNamespace"))))


def _keep(page: Page, index: int, el: etree._Element, rec: HarvestedRecord | None) -> None:
    if rec is not None:
        page.records.append(rec)
        return
    raw = etree.tostring(el, encoding="utf-8", with_tail=False)
    page.quarantined.append(Quarantined(index, None, "record without header or identifier", raw))


def _read_envelope(page: Page, root: etree._Element) -> etree._Element | None:
    """Fill responseDate and errors; return the verb's element if present."""
    if _local_name(root) != "OAI-PMH":
        raise NotOAIResponse(f"the root element is <{_local_name(root) or '?'}>, not <OAI-PMH>")
    container = None
    for child in root:
        name = _local_name(child)
        if name == "responseDate":
            page.response_date = _text(child)
            page.response_epoch = _epoch_or_none(page.response_date)
        elif name == "error":
            code = child.get("code") or "unknown"
            if code == NO_RECORDS_MATCH:
                page.no_records_match = True
            else:
                page.errors.append((code, _text(child)))
        elif name == page.verb:
            container = child
    return container


# --- record-by-record salvage --------------------------------------------------------------------

_RECORD_TAG_RE = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?record(?=[\s/>])[^>]*?(/?)>")
_XMLNS_RE = re.compile(rb"\sxmlns(?::[\w.-]+)?\s*=\s*(?:\"[^\"]*\"|'[^']*')")
_IDENT_RE = re.compile(rb"<(?:[\w.-]+:)?identifier[^>]*>\s*([^<]*?)\s*<")
_TOKEN_RE = re.compile(
    rb"<(?:[\w.-]+:)?resumptionToken([^>]*?)(?:/>|>([^<]*)</(?:[\w.-]+:)?resumptionToken\s*>)")
_ATTR_RE = re.compile(rb"([\w.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def _split_records(body: bytes) -> list[tuple[int, int]]:
    """Byte spans of top-level <record> elements (nested ones, e.g. MARC, stay inside)."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start = 0
    for m in _RECORD_TAG_RE.finditer(body):
        closing, selfclosing = m.group(1), m.group(2)
        if closing:
            if depth == 0:
                continue
            depth -= 1
            if depth == 0:
                spans.append((start, m.end()))
        elif selfclosing:
            if depth == 0:
                spans.append((m.start(), m.end()))
        else:
            if depth == 0:
                start = m.start()
            depth += 1
    return spans


def _token_by_pattern(data: bytes) -> TokenInfo | None:
    matches = list(_TOKEN_RE.finditer(data))
    if not matches:
        return None
    m = matches[-1]
    attrs = {a.group(1).decode(): (a.group(2) or a.group(3) or b"").decode("utf-8", "replace")
             for a in _ATTR_RE.finditer(m.group(1))}
    return TokenInfo(
        value=(m.group(2) or b"").decode("utf-8", "replace").strip(),
        cursor=_int_or_none(attrs.get("cursor")),
        complete_list_size=_int_or_none(attrs.get("completeListSize")),
        expiration=attrs.get("expirationDate"),
    )


def _salvage(page: Page, body: bytes, why: str) -> None:
    """Parse the envelope and each record on its own: one bad record is quarantined alone."""
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        body = body.decode("utf-16").encode("utf-8")
    spans = _split_records(body)
    if not spans:
        raise MalformedResponse(f"unparsable XML: {why}")
    _note(page.repairs, f"page unparsable ({why}): records read one by one")
    declared = declared_encoding(body)
    head, tail = body[:spans[0][0]], body[spans[-1][1]:]
    ns_decls = b"".join(_XMLNS_RE.findall(head))
    try:
        container = _read_envelope(page, parse_tree(head + tail, page.repairs))
        if container is not None:
            _fill_items(page, container)
    except MalformedResponse:
        _note(page.repairs, "response envelope unparsable: resumptionToken read by pattern")
        page.token = _token_by_pattern(tail)
    for index, (a, b) in enumerate(spans):
        raw = body[a:b]
        wrapped = b"<w" + ns_decls + b">" + raw + b"</w>"
        try:
            text = _repair_text(_decode(wrapped, declared, page.repairs), page.repairs)
            el = _strict(text.encode("utf-8"))[0]
            rec = _read_record(el)
        except (etree.XMLSyntaxError, IndexError) as exc:
            m = _IDENT_RE.search(raw)
            ident = m.group(1).decode("utf-8", "replace") if m else None
            page.quarantined.append(Quarantined(index, ident, f"unparsable record: {exc}", raw))
            log.warning("quarantined record %s: %s", ident or f"#{index}", exc)
            continue
        if rec is None:
            page.quarantined.append(Quarantined(index, None, "record without identifier", raw))
        else:
            page.records.append(rec)


# --- public API -------------------------------------------------------------------------------


def parse_page(body: bytes, verb: str, max_bytes: int | None = None) -> Page:
    """Parse one response body for `verb` (the verb the request was made with).

    Raises ResponseTooLarge, NotOAIResponse (HTML, JSON, empty, wrong root) or
    MalformedResponse (unrepairable, no record to salvage). OAI errors are returned in
    `Page.errors` (see `Page.raise_for_errors`), not raised.
    """
    if max_bytes is not None and len(body) > max_bytes:
        raise ResponseTooLarge(max_bytes, size=len(body))
    reason = _sniff_not_oai(body)
    if reason:
        raise NotOAIResponse(reason)
    page = Page(verb=verb, raw_size=len(body))
    declared = declared_encoding(body)
    root = None
    if not _looks_misdeclared(body, declared):
        try:
            root = _strict(body)
        except etree.XMLSyntaxError:
            root = None
    if root is None:
        fixed = _to_utf8(_repair_text(_decode(body, declared, page.repairs), page.repairs))
        try:
            root = _strict(fixed)
        except etree.XMLSyntaxError as exc:
            if verb not in ("ListRecords", "GetRecord"):
                raise MalformedResponse(f"unparsable XML: {exc}") from None
            _salvage(page, body, str(exc))
            page.raw = body
            return page
    if root.getroottree().docinfo.doctype:
        _drop_entities(root, page.repairs)
    container = _read_envelope(page, root)
    if container is not None:
        _fill_items(page, container)
    elif not page.errors and not page.no_records_match:
        raise MalformedResponse(f"the response has neither <{verb}> nor <error>")
    if page.repairs or page.quarantined:
        page.raw = body
    return page


def parse_identify(body: bytes) -> IdentifyInfo:
    """Parse an Identify response; OAI errors are raised as OAIProtocolError."""
    page = Page(verb="Identify")
    reason = _sniff_not_oai(body)
    if reason:
        raise NotOAIResponse(reason)
    el = _read_envelope(page, parse_tree(body, page.repairs))
    page.raise_for_errors()
    if el is None:
        raise MalformedResponse("the response has neither <Identify> nor <error>")
    gran = _text(_child(el, "granularity"))
    return IdentifyInfo(
        repository_name=_text(_child(el, "repositoryName")),
        base_url=_text(_child(el, "baseURL")),
        protocol_version=_text(_child(el, "protocolVersion")),
        earliest_datestamp=_text(_child(el, "earliestDatestamp")),
        deleted_record=_text(_child(el, "deletedRecord")),
        granularity=Granularity.SECONDS if "hh" in gran else Granularity.DAY,
        compression=[_text(c) for c in _children(el, "compression")],
        admin_emails=[_text(a) for a in _children(el, "adminEmail")],
    )


def parse_sets(body: bytes) -> Page:
    """Parse a ListSets page (entries in `Page.sets`); noSetHierarchy stays in `errors`."""
    return parse_page(body, "ListSets")


def parse_formats(body: bytes) -> list[FormatInfo]:
    """Parse a ListMetadataFormats response; OAI errors are raised."""
    page = parse_page(body, "ListMetadataFormats")
    page.raise_for_errors()
    return page.formats
