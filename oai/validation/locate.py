"""Where a problem is: a readable XPath of an element and the record it belongs to.

libxml2 names an element in its error log by a path of its own (`/*/*[3]/*[1]/oai_dc:dc`);
lxml's `getpath` writes the very same string, which is how an error entry is traced back to
its element. What the validator prints instead reads like the document:
`/OAI-PMH/ListRecords/record[1]/metadata/oai_dc:dc` (the document's own prefixes; a step
without one is in the default namespace; `[n]` counts same-named siblings, from 1).
"""

from __future__ import annotations

from lxml import etree

from oai.protocol.namespaces import OAI


def tag(name: str) -> str:
    """The Clark name of an OAI-PMH element."""
    return f"{{{OAI}}}{name}"


RECORD = tag("record")
HEADER = tag("header")
IDENTIFIER = tag("identifier")


def step(element: etree._Element) -> str:
    qname = etree.QName(element)
    name = f"{element.prefix}:{qname.localname}" if element.prefix else qname.localname
    parent = element.getparent()
    if parent is None:
        return name
    same = [e for e in parent if e.tag == element.tag]
    return f"{name}[{same.index(element) + 1}]" if len(same) > 1 else name


def xpath_of(element: etree._Element) -> str:
    steps = [step(e) for e in (element, *element.iterancestors())]
    return "/" + "/".join(reversed(steps))


def record_of(element: etree._Element) -> str | None:
    """The identifier of the OAI-PMH record (or header) `element` is in, if any."""
    for candidate in (element, *element.iterancestors()):
        if candidate.tag == RECORD:
            header = candidate.find(HEADER)
            return header.findtext(IDENTIFIER, default="").strip() or None \
                if header is not None else None
        if candidate.tag == HEADER:
            return candidate.findtext(IDENTIFIER, default="").strip() or None
    return None


def _libxml2_name(element: etree._Element) -> str:
    qname = etree.QName(element)
    if element.prefix:
        return f"{element.prefix}:{qname.localname}"
    return "*" if qname.namespace else qname.localname


class PathIndex:
    """libxml2 error paths to the elements of one validated subtree, built on first use
    (only when there are errors). lxml validates an element that is not the document's root
    as the root of a stand-in document, so paths start at that element."""

    def __init__(self, unit: etree._Element) -> None:
        self.unit = unit
        self._paths: dict[str, etree._Element] | None = None

    def find(self, path: str | None) -> etree._Element | None:
        if not path:
            return None
        if self._paths is None:
            tree = self.unit.getroottree()
            cut = len(tree.getpath(self.unit))
            top = "/" + _libxml2_name(self.unit)
            self._paths = {top + tree.getpath(e)[cut:]: e for e in self.unit.iter()
                           if isinstance(e.tag, str)}
        return self._paths.get(path.split("/@", 1)[0])
