"""Reading bytes that real servers call XML: a secure parser, sniffing, and logged repairs.

When the strict parse fails (or the declared encoding is visibly wrong) the text is repaired:
the real encoding chosen, characters illegal in XML 1.0 (and references to them) dropped, bare
ampersands escaped. Each repair is logged and listed, so nothing is papered over silently; a
wrong encoding is never masked with U+FFFD.
"""

from __future__ import annotations

import codecs
import logging
import re
import threading

from lxml import etree

from harvester.errors import MalformedResponse
from oai.protocol.xmltext import ILLEGAL_XML_CHARS, has_illegal_xml_chars, strip_illegal_xml_chars

log = logging.getLogger("harvester.parsing")

_local = threading.local()

_DECL_RE = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_DECL_ANY_RE = re.compile(r"\A(\ufeff)?\s*<\?xml[^>]*\?>")
_CHAR_REF_RE = re.compile(r"&#(?:x([0-9a-fA-F]+)|([0-9]+));")
_BARE_AMP_RE = re.compile(r"&(?!(?:#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z_][\w.-]*);)")
_UTF8_NAMES = {"utf-8", "utf8"}
_LATIN_NAMES = {"iso-8859-1", "latin-1", "latin1", "iso8859-1", "iso_8859-1", "windows-1252",
                "cp1252", "us-ascii", "ascii", "iso-8859-15"}
_FALLBACK = "harvester-cp1252-fallback"
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def parser() -> etree.XMLParser:
    """A secure parser per thread (lxml parsers must not be shared between threads): no DTD,
    no entity expansion, no network, no 10 MB limit (the caller caps the body size)."""
    found = getattr(_local, "parser", None)
    if found is None:
        found = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                dtd_validation=False, huge_tree=True, remove_comments=False)
        _local.parser = found
    return found


def strict(data: bytes) -> etree._Element:
    return etree.fromstring(data, parser())


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


def looks_misdeclared(body: bytes, declared: str | None) -> bool:
    """Declared Latin-1-ish, but the non-ASCII bytes are well-formed UTF-8 (a parse would
    succeed and silently produce mojibake, so this is checked before parsing)."""
    if declared is None or declared not in _LATIN_NAMES or body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode(body: bytes, declared: str | None, repairs: list[str]) -> str:
    """Decode bytes to text, choosing the real encoding and noting when it differs."""
    if body.startswith(UTF16_BOMS):
        return body.decode("utf-16")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if declared not in (None, *_UTF8_NAMES) and not body.isascii():
            note(repairs, f"declared encoding {(declared or '').upper()} but the bytes are "
                          "UTF-8: read as UTF-8")
        return text
    if declared not in (None, *_UTF8_NAMES):
        try:
            return body.decode(declared or "utf-8")
        except (LookupError, UnicodeDecodeError):
            pass
    text = body.decode("utf-8", errors=_FALLBACK)
    note(repairs, f"declared encoding {(declared or 'utf-8').upper()} but some bytes are not "
                  "UTF-8: read those as windows-1252")
    return text


def _illegal_ref(m: re.Match[str]) -> bool:
    hexa, dec = m.groups()
    try:
        cp = int(hexa, 16) if hexa else int(dec)
    except ValueError:
        return True
    return cp > 0x10FFFF or has_illegal_xml_chars(chr(cp))


def repair_text(text: str, repairs: list[str]) -> str:
    """Drop illegal characters and character references, escape bare ampersands."""
    found = ILLEGAL_XML_CHARS.findall(text)
    if found:
        text = strip_illegal_xml_chars(text)
        names = ", ".join(sorted({f"U+{ord(c):04X}" for c in found}))
        note(repairs, f"stripped {len(found)} character(s) illegal in XML 1.0 ({names})")
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
        note(repairs, f"stripped {len(bad_refs)} illegal character reference(s) ({names})")
    text, amps = _BARE_AMP_RE.subn("&amp;", text)
    if amps:
        note(repairs, f"escaped {amps} bare '&' character(s)")
    return text


def to_utf8(text: str) -> bytes:
    """Re-encode repaired text as UTF-8, without a declaration that might say otherwise."""
    text = _DECL_ANY_RE.sub("", text, count=1).lstrip("\ufeff")
    return text.encode("utf-8")


def note(repairs: list[str], message: str) -> None:
    if message not in repairs:
        log.warning("repaired response: %s", message)
        repairs.append(message)


def sniff_not_oai(body: bytes) -> str | None:
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
    if not head.startswith(b"<") and not body.startswith(UTF16_BOMS):
        return "the response is not XML"
    return None


def parse_tree(body: bytes, repairs: list[str] | None = None) -> etree._Element:
    """Parse a whole body: strict first, then once more after the repairs. Raises
    MalformedResponse with the parser's message when both fail."""
    return parse_text(body, [] if repairs is None else repairs)[0]


def parse_text(body: bytes, repairs: list[str]) -> tuple[etree._Element, bytes]:
    """The parsed root and the UTF-8 bytes it was parsed from (for byte-exact payloads)."""
    declared = declared_encoding(body)
    if not looks_misdeclared(body, declared):
        try:
            root = strict(body)
        except etree.XMLSyntaxError:
            pass
        else:
            return root, utf8_of(body, root)
    fixed = to_utf8(repair_text(decode(body, declared, repairs), repairs))
    try:
        return strict(fixed), fixed
    except etree.XMLSyntaxError as exc:
        raise MalformedResponse(f"unparsable XML: {exc}") from None


_UTF8 = {"utf-8", "utf8", "us-ascii", "ascii"}


def utf8_of(body: bytes, root: etree._Element) -> bytes:
    """The body as UTF-8 bytes: itself when the parser read it as UTF-8 (nearly always),
    else transcoded from the encoding the parser used."""
    encoding = (root.getroottree().docinfo.encoding or "utf-8").lower()
    if encoding in _UTF8 and not body.startswith(UTF16_BOMS):
        return body
    try:
        return body.decode(encoding).encode("utf-8")
    except (LookupError, UnicodeDecodeError):
        return body.decode("utf-8", errors="replace").encode("utf-8")


def drop_entities(root: etree._Element, repairs: list[str]) -> None:
    """Remove unresolved entity references (never expanded: that would load files or URLs),
    so that stored metadata stays well-formed on its own."""
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
        note(repairs, f"dropped {len(refs)} unresolved entity reference(s) ({names})")
