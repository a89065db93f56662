"""Record payloads exactly as served.

A record's `<metadata>` (and `<about>`) child is kept as the very text the server sent: its
attribute quoting, character references and whitespace untouched. The parse tree tells which
records carry which containers; one scan of the page's UTF-8 bytes finds where each
container's content starts and ends, and only those slices are decoded. Namespace
declarations the payload relies on but inherits from the envelope (say `xsi`, declared on
`<OAI-PMH>`) are added to its start tag, and only those it uses, so it is well-formed on its
own. When the bytes and the tree disagree (a DOCTYPE trick, a comment the scan misread), the
payload is serialized from the tree instead, with the same rule.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from functools import lru_cache

from lxml import etree

# Comments, CDATA and processing instructions are matched first so that a tag-like text
# inside them is skipped; then start and end tags named metadata or about (any prefix).
_CONTAINER_SCAN = re.compile(
    rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>"
    rb"|<(/?)(?:[A-Za-z_][\w.-]*:)?(metadata|about)(?=[\s/>])"
    rb"(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(/?)>",
    re.DOTALL)
_TAG_REST = re.compile(rb"(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(/?)>")
_AFTER_NAME = frozenset(b" \t\r\n/>")
_NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_LEADING_MISC = re.compile(r"\A(?:\s+|<!--.*?-->|<\?.*?\?>)*", re.DOTALL)
# the prolog before the root element: a BOM, the XML declaration, stylesheet instructions...
_PROLOG = re.compile(rb"\A(?:\xef\xbb\xbf)?(?:\s+|<!--.*?-->|<\?.*?\?>)*", re.DOTALL)
_START_TAG = re.compile(r"<([^\s/>]+)((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>")
_DECLARED = re.compile(r"\sxmlns(?::([^\s=]+))?\s*=")
_QNAME_VALUE = re.compile(r"^([A-Za-z_][\w.-]*):")
_SPACE = re.compile(r"[ \t\r\n]")

Tag = tuple[str, bool, bool, int, int]  # (name, closing, empty, start, end)
Span = tuple[str, int, int]  # (container name, content start, content end)


def container_spans(data: bytes) -> list[Span]:
    """The content of every top-level metadata/about container of a UTF-8 page, in document
    order. Inside a container only tags of its own name are counted, so payload elements
    called `about` inside `<metadata>` (or nested `metadata` elements) are never mistaken for
    containers.

    Where the page holds no comment, CDATA section or processing instruction (nearly every
    page), the tags are found with `bytes.find`, several times faster than the general
    regular expression that has to step over those."""
    # "<!" is a comment or CDATA (a page with a DOCTYPE is never scanned: its entities are
    # dropped from the tree, so its payloads are serialized). The prolog is stepped over
    # first: many servers (ours too) put an xml-stylesheet instruction there.
    prolog = _PROLOG.match(data)
    root = prolog.end() if prolog else 0
    if _follows_lt(data, b"!", root) or _follows_lt(data, b"?", root):
        return _pair(_tags_by_regex(data))
    simple = _plain_containers(data, root)
    return simple if simple is not None else _pair(_tags_by_find(data, root))


def _plain_containers(data: bytes, start: int) -> list[Span] | None:
    """The spans where every container tag is a plain `<metadata>` or `</metadata>` and no
    tag outside them is named about (nearly every page): one `bytes.find` loop over the page,
    the short stretches between containers searched for about. None when an occurrence could
    be anything else (a prefix, attributes, an about tag), which the general scan then
    reads."""
    spans: list[Span] = []
    depth = begin = 0
    outside = start  # where the text outside every container resumes
    last = len(data) - 8
    i = data.find(b"metadata", max(start, 2))
    while i >= 0:
        before = data[i - 1]
        closing = before == 0x2F and data[i - 2] == 0x3C  # "</"
        if before == 0x3C or closing:  # "<"
            if i >= last or data[i + 8] != 0x3E:  # ">"
                return None
            if closing:
                depth -= 1
                if depth == 0:
                    spans.append(("metadata", begin, i - 2))
                    outside = i + 9
                elif depth < 0:
                    return None
            else:
                depth += 1
                if depth == 1:
                    if _may_hold_about(data, outside, i):
                        return None
                    begin = i + 9
        elif before == 0x3A:  # ":" a prefixed name
            return None
        i = data.find(b"metadata", i + 8)
    if depth or _may_hold_about(data, outside, len(data)):
        return None
    return spans


def _may_hold_about(data: bytes, start: int, end: int) -> bool:
    """Whether `about` occurs between `start` and `end` where a tag name could begin (after
    `<`, `</` or a prefix's colon); in text it is left alone."""
    i = data.find(b"about", max(start, 1), end)
    while i >= 0:
        if data[i - 1] in b"</:":
            return True
        i = data.find(b"about", i + 5, end)
    return False


def _follows_lt(data: bytes, mark: bytes, start: int) -> bool:
    """Whether `<` + `mark` occurs from `start` on. The rare single byte is looked for (a
    memchr) and its neighbour checked: searching for the pair itself stops at every `<` of
    the page and is ten times slower."""
    i = data.find(mark, start + 1)
    while i >= 0:
        if data[i - 1] == 0x3C:  # "<"
            return True
        i = data.find(mark, i + 1)
    return False


def _tags_by_regex(data: bytes) -> Iterator[Tag]:
    for m in _CONTAINER_SCAN.finditer(data):
        tag = m.group(2)
        if tag is not None:  # else a comment, CDATA, processing instruction
            yield tag.decode(), m.group(1) == b"/", m.group(3) == b"/", m.start(), m.end()


def _tags_by_find(data: bytes, start: int) -> Iterator[Tag]:
    """The metadata/about tags, in document order. A name in text content or in an
    attribute value is told apart by what precedes it: in XML only a tag puts `<` or `</`
    (and an optional prefix) right before a name."""
    found = sorted([*_occurrences(data, b"metadata", start),
                    *_occurrences(data, b"about", start)])
    for i in found:
        word = "metadata" if data.startswith(b"metadata", i) else "about"
        after = i + len(word)
        if after >= len(data) or data[after] not in _AFTER_NAME:
            continue
        begin = i
        if data[begin - 1] == 0x3A:  # ":" ends a prefix: step back over it
            begin -= 1
            while begin > 0 and (data[begin - 1] in _NAME_BYTES or data[begin - 1] >= 0x80):
                begin -= 1
            if begin == i - 1:
                continue
        closing = data[begin - 1] == 0x2F  # "/"
        lt = begin - 2 if closing else begin - 1
        if lt < 0 or data[lt] != 0x3C:  # "<"
            continue
        if data[after] == 0x3E:  # ">" right after the name, as nearly every container has
            yield word, closing, False, lt, after + 1
            continue
        end = _TAG_REST.match(data, after)
        if end is None:
            continue
        yield word, closing, end.group(1) == b"/", lt, end.end()


def _occurrences(data: bytes, word: bytes, start: int) -> Iterator[int]:
    i = data.find(word, max(start, 1))
    while i >= 0:
        yield i
        i = data.find(word, i + 1)


def _pair(tags: Iterator[Tag]) -> list[Span]:
    spans: list[Span] = []
    name: str | None = None
    depth = 0
    start = 0
    for tag, closing, empty, tag_start, tag_end in tags:
        if name is None:
            if closing:
                continue
            if empty:
                spans.append((tag, tag_end, tag_end))
            else:
                name, depth, start = tag, 1, tag_end
        elif tag == name and not empty:
            depth += -1 if closing else 1
            if depth == 0:
                spans.append((name, start, tag_start))
                name = None
    return spans


class SpanCursor:
    """Hands out the scanned spans of a page's UTF-8 bytes in document order, and says when
    the tree disagrees (None: no bytes to trust, every payload is serialized)."""

    def __init__(self, data: bytes | None) -> None:
        self.data = data
        self._spans: Iterator[Span] = iter(container_spans(data) if data is not None else ())
        self.broken = data is None

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
    if span is not None and cursor.data is not None:
        exact = _exact(cursor.data[span[0]:span[1]].decode("utf-8"), element)
        if exact is not None:
            return exact
    return serialize(element)


def _exact(content: str, element: etree._Element) -> str | None:
    """The single child element of a container's content, with inherited declarations."""
    parent = element.getparent()
    if (element.tail or "").strip() or (parent is not None and len(parent) != 1 and sum(
            isinstance(c.tag, str) for c in parent) != 1):
        return None  # text or several children: the scan cannot tell where the child ends
    if content[:1] != "<" or content[1:2] in ("!", "?"):
        begin = _LEADING_MISC.match(content)
        content = content[begin.end() if begin else 0:]
    text = content.rstrip()
    if text.endswith(("-->", "?>")):
        text = _strip_trailing_misc(text)
    tag = _start_tag(text)
    if tag is None or tag[0] != _qualified_name(element):
        return None
    return _declare(text, tag, element, parent)


def _start_tag(text: str) -> tuple[str, str, int] | None:
    """(name, attributes, where the attributes start) of the start tag `text` begins with.
    Where its values use one kind of quote only, the first `>` ends it unless a value holds
    one, and then that quote is unbalanced up to there; otherwise the general expression
    decides."""
    end = text.find(">")
    if end > 0:
        read = _read_head(text[:end])
        if read is not None:
            return read
    m = _START_TAG.match(text)
    return (m.group(1), m.group(2), m.start(2)) if m else None


@lru_cache(maxsize=256)
def _read_head(head: str) -> tuple[str, str, int] | None:
    """A start tag up to its first `>` read without the general expression, or None where
    its quotes make that unsafe. Cached: a list's payloads mostly share one start tag."""
    if not (("'" not in head and not head.count('"') % 2)
            or ('"' not in head and not head.count("'") % 2)):
        return None
    if head.endswith("/"):
        head = head[:-1]
    space = _SPACE.search(head)
    cut = space.start() if space else len(head)
    return head[1:cut], head[cut:], cut


def _strip_trailing_misc(text: str) -> str:
    while text.endswith(("-->", "?>")):
        cut = text.rfind("<!--" if text.endswith("-->") else "<?")
        if cut < 0:
            break
        text = text[:cut].rstrip()
    return text


def _qualified_name(element: etree._Element) -> str:
    tag = element.tag
    local = tag[tag.rfind("}") + 1:]  # a clark name; cheaper than building an etree.QName
    prefix = element.prefix
    return f"{prefix}:{local}" if prefix else local


def _declare(text: str, tag: tuple[str, str, int], element: etree._Element,
             parent: etree._Element | None) -> str:
    """The payload with the declarations it inherits and uses added to its start tag."""
    inherited = parent.nsmap if parent is not None else {}
    if not inherited:
        return text
    needed = [(prefix, uri) for prefix, uri in _undeclared(tag[1], tuple(inherited.items()))
              if _uses(text, prefix, uri, element)]
    if not needed:
        return text
    declarations = "".join(
        f' xmlns{":" + prefix if prefix else ""}="{_attr(uri)}"' for prefix, uri in needed)
    at = tag[2]
    return text[:at] + declarations + text[at:]


@lru_cache(maxsize=256)
def _undeclared(attributes: str, inherited: tuple[tuple[str | None, str], ...]
                ) -> tuple[tuple[str | None, str], ...]:
    """The inherited declarations a start tag does not make itself. Cached: a list's
    payloads mostly share one start tag and one set of inherited declarations."""
    own = _own_prefixes(attributes) if "xmlns" in attributes else frozenset()
    return tuple((prefix, uri) for prefix, uri in inherited if prefix not in own)


def _uses(text: str, prefix: str | None, uri: str, element: etree._Element) -> bool:
    """Whether the payload needs an inherited declaration. The default namespace: any
    unprefixed element in it (the tree's own filter finds them at C speed); a prefix: a quick
    look at the text."""
    if prefix is None:
        if "}" in uri:  # not expressible as a tag filter
            return any(e.prefix is None and etree.QName(e).namespace == uri
                       for e in element.iter() if isinstance(e.tag, str))
        return any(e.prefix is None for e in element.iter(f"{{{uri}}}*"))
    return f"{prefix}:" in text and _prefix_use(prefix).search(text) is not None


def _own_prefixes(attributes: str) -> frozenset[str | None]:
    """The prefixes a start tag declares (None: the default namespace)."""
    return frozenset(p or None for p in _DECLARED.findall(attributes))


@lru_cache(maxsize=256)
def _prefix_use(prefix: str) -> re.Pattern[str]:
    """A prefix used as one: in a name (`<p:x`, ` p:a=`) or a QName value (`"p:x"`)."""
    return re.compile(rf"[<\s\"'>]{re.escape(prefix)}:[^\s\"'<>=/]")


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
