"""Record payloads exactly as served.

A record's `<metadata>` (and `<about>`) child is kept as the very text the server sent: its
attribute quoting, character references and whitespace untouched. The parse tree tells which
records carry which containers; one scan of the text finds where each container's content
starts and ends. Namespace declarations the payload relies on but inherits from the envelope
(say `xsi`, declared on `<OAI-PMH>`) are added to its start tag, and only those it uses, so it
is well-formed on its own. When the text and the tree disagree (a DOCTYPE trick, a comment
the scan misread), the payload is serialized from the tree instead, with the same rule.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator

from lxml import etree

# Comments, CDATA and processing instructions are matched first so that a tag-like text
# inside them is skipped; then start and end tags named metadata or about (any prefix).
_CONTAINER_SCAN = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>"
    r"|<(/?)(?:[A-Za-z_][\w.-]*:)?(metadata|about)(?=[\s/>])(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(/?)>",
    re.DOTALL)
_LEADING_MISC = re.compile(r"\A(?:\s+|<!--.*?-->|<\?.*?\?>)*", re.DOTALL)
_START_TAG = re.compile(r"<([A-Za-z_][\w.:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>")
_DECLARED = re.compile(r"\sxmlns(?::([A-Za-z_][\w.-]*))?\s*=")
_UNPREFIXED_TAG = re.compile(r"<[A-Za-z_][\w.-]*[\s/>]")
_QNAME_VALUE = re.compile(r"^([A-Za-z_][\w.-]*):")

Span = tuple[str, int, int]  # (container name, content start, content end)


def container_spans(text: str) -> list[Span]:
    """The content of every top-level metadata/about container, in document order. Inside a
    container only tags of its own name are counted, so payload elements called `about`
    inside `<metadata>` (or nested `metadata` elements) are never mistaken for containers."""
    spans: list[Span] = []
    name: str | None = None
    depth = 0
    start = 0
    for m in _CONTAINER_SCAN.finditer(text):
        tag = m.group(2)
        if tag is None:
            continue  # comment, CDATA, processing instruction
        closing, empty = m.group(1) == "/", m.group(3) == "/"
        if name is None:
            if closing:
                continue
            if empty:
                spans.append((tag, m.end(), m.end()))
            else:
                name, depth, start = tag, 1, m.end()
        elif tag == name and not empty:
            depth += -1 if closing else 1
            if depth == 0:
                spans.append((name, start, m.start()))
                name = None
    return spans


class SpanCursor:
    """Hands out the scanned spans in document order, and says when the tree disagrees."""

    def __init__(self, text: str | None) -> None:
        self.text = text
        self._spans: Iterator[Span] = iter(container_spans(text) if text is not None else ())
        self.broken = text is None

    def take(self, container: str) -> tuple[int, int] | None:
        if self.broken:
            return None
        span = next(self._spans, None)
        if span is None or span[0] != container:
            self.broken = True
            return None
        return span[1], span[2]


def payload_text(element: etree._Element, container: str, cursor: SpanCursor) -> str:
    """The container's child element as served (see the module doc); `element` is that child
    in the parse tree, `container` its parent's local name."""
    span = cursor.take(container)
    if span is not None and cursor.text is not None:
        exact = _exact(cursor.text[span[0]:span[1]], element)
        if exact is not None:
            return exact
    return serialize(element)


def _exact(content: str, element: etree._Element) -> str | None:
    """The single child element of a container's content, with inherited declarations."""
    if (element.tail or "").strip() or any(
            isinstance(c.tag, str) for c in element.itersiblings(preceding=True)) or any(
            isinstance(c.tag, str) for c in element.itersiblings()):
        return None  # text or several children: the scan cannot tell where the child ends
    begin = _LEADING_MISC.match(content)
    text = content[begin.end() if begin else 0:]
    text = _strip_trailing_misc(text)
    tag = _START_TAG.match(text)
    if tag is None or tag.group(1) != _qualified_name(element):
        return None
    return _declare(text, tag, element)


def _strip_trailing_misc(text: str) -> str:
    text = text.rstrip()
    while text.endswith(("-->", "?>")):
        cut = text.rfind("<!--" if text.endswith("-->") else "<?")
        if cut < 0:
            break
        text = text[:cut].rstrip()
    return text


def _qualified_name(element: etree._Element) -> str:
    local = etree.QName(element).localname
    return f"{element.prefix}:{local}" if element.prefix else local


def _declare(text: str, tag: re.Match[str], element: etree._Element) -> str:
    own = {m.group(1) for m in _DECLARED.finditer(tag.group(2))}
    needed = [(prefix, uri) for prefix, uri in element.nsmap.items()
              if prefix not in own and _uses(text, prefix, uri, element)]
    if not needed:
        return text
    declarations = "".join(
        f' xmlns{":" + prefix if prefix else ""}="{_attr(uri)}"' for prefix, uri in needed)
    at = tag.start(2)
    return text[:at] + declarations + text[at:]


def _uses(text: str, prefix: str | None, uri: str, element: etree._Element) -> bool:
    """Whether the payload needs an inherited declaration: a quick look at the text first,
    the tree only when the text cannot rule it out."""
    if prefix is None:
        if not _UNPREFIXED_TAG.search(text):
            return False
        return any(e.prefix is None and etree.QName(e).namespace == uri
                   for e in element.iter() if isinstance(e.tag, str))
    return re.search(rf"[<\s\"'>]{re.escape(prefix)}:[A-Za-z_]", text) is not None


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def serialize(element: etree._Element) -> str:
    """A payload serialized from the tree, keeping only the declarations it uses (names, and
    prefixes in QName-valued attributes such as xsi:type)."""
    clone = copy.deepcopy(element)  # carries every declaration in scope
    keep = {m.group(1) for e in clone.iter() if isinstance(e.tag, str)
            for v in e.attrib.values() if (m := _QNAME_VALUE.match(v))}
    etree.cleanup_namespaces(clone, keep_ns_prefixes=sorted(keep))
    return etree.tostring(clone, encoding="unicode", with_tail=False)
