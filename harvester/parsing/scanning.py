"""Reading a body by pattern, before or without a parse: where records lie, and the token.

Used to ask for the next page while the current one is still being parsed, and to salvage a
page the parser rejects. Patterns match the OAI element names with any prefix or none.
"""

from __future__ import annotations

import re

from harvester.parsing.model import TokenInfo

_RECORD_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?record(?=[\s/>])[^>]*?(/?)>")
_XMLNS = re.compile(rb"\sxmlns(?::[\w.-]+)?\s*=\s*(?:\"[^\"]*\"|'[^']*')")
_IDENTIFIER = re.compile(rb"<(?:[\w.-]+:)?identifier[^>]*>\s*([^<]*?)\s*<")
_TOKEN = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?resumptionToken\b([^>]*?)"
    rb"(?:/>|>([^<]*)</(?:[A-Za-z_][\w.-]*:)?resumptionToken\s*>)")
_ATTRIBUTE = re.compile(rb"([\w.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_REFERENCE = re.compile(r"&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(amp|lt|gt|quot|apos));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
TAIL_BYTES = 8192


def int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None and value.strip() else None
    except ValueError:
        return None


def unescape(text: str) -> str:
    """Resolve the predefined entities and character references of XML character data."""
    def one(m: re.Match[str]) -> str:
        hexa, dec, name = m.groups()
        if name:
            return _NAMED[name]
        try:
            return chr(int(hexa, 16) if hexa else int(dec))
        except (ValueError, OverflowError):
            return m.group(0)
    return _REFERENCE.sub(one, text) if "&" in text else text


def scan_token(data: bytes, tail_only: bool = False) -> TokenInfo | None:
    """The last resumptionToken element in `data` (in its last 8 KB with `tail_only`, where a
    list puts it), or None when there is none or it is not UTF-8."""
    start = max(0, len(data) - TAIL_BYTES) if tail_only else 0
    found = None
    for match in _TOKEN.finditer(data, start):
        found = match
    if found is None:
        return None
    try:
        attrs = {a.group(1).decode("ascii"): (a.group(2) or a.group(3) or b"").decode("utf-8")
                 for a in _ATTRIBUTE.finditer(found.group(1))}
        value = unescape((found.group(2) or b"").decode("utf-8")).strip()
    except UnicodeDecodeError:
        return None
    return TokenInfo(value=value, cursor=int_or_none(attrs.get("cursor")),
                     complete_list_size=int_or_none(attrs.get("completeListSize")),
                     expiration=attrs.get("expirationDate"))


def split_records(body: bytes) -> list[tuple[int, int]]:
    """Byte spans of top-level <record> elements (nested ones, e.g. MARC, stay inside)."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start = 0
    for m in _RECORD_TAG.finditer(body):
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


def namespace_declarations(head: bytes) -> bytes:
    """Every xmlns attribute in a stretch of bytes (the envelope before the first record)."""
    return b"".join(_XMLNS.findall(head))


def scan_identifier(raw: bytes) -> str | None:
    m = _IDENTIFIER.search(raw)
    return m.group(1).decode("utf-8", "replace") if m else None
