"""Text and attribute escaping for streamed XML, and removal of characters XML 1.0 forbids.

Responses are written as strings for speed; every piece of text goes through `escape_text`
or `escape_attr`, which also drop characters outside the XML 1.0 Char production so one bad
character can never break a page.
"""

from __future__ import annotations

import re

# XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
ILLEGAL_XML_CHARS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]"
)


def strip_illegal_xml_chars(text: str) -> str:
    """Remove characters that may not appear in an XML 1.0 document, even as references."""
    return ILLEGAL_XML_CHARS.sub("", text)


def has_illegal_xml_chars(text: str) -> bool:
    return ILLEGAL_XML_CHARS.search(text) is not None


def escape_text(text: str) -> str:
    """Escape character data (and strip illegal characters)."""
    text = strip_illegal_xml_chars(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(text: str) -> str:
    """Escape an attribute value delimited by double quotes."""
    return escape_text(text).replace('"', "&quot;").replace("\t", "&#9;").replace(
        "\n", "&#10;").replace("\r", "&#13;")
