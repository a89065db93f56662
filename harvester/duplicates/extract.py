"""Per-format field pickers: from a harvested payload, the identifier candidates (with the
scheme a typed field declares), the title, the first creator and the publication date.

Driven by namespaces: the payload's root namespace (or, for wrappers such as oai_datacite,
the first descendant in a known namespace) chooses the picker, so a format the toolkit does
not render itself (RIOXX) is read as soon as records in it arrive, and an unknown format
still gives what its Dublin Core elements say. Only fields naming the work itself are read:
relations (references, the journal's ISSN, the host book's ISBN in a chapter) would tie
different works together, so `relatedItem`, MARC 773/787, DataCite relatedIdentifiers other
than IsIdenticalTo and oai_dc's dc:relation and dc:source are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DATACITE = "http://schema.datacite.org/oai/oai-1.1/"
DATACITE_PREFIX = "http://datacite.org/schema/kernel-"
OAIRE = "http://namespace.openaire.eu/schema/oaire/"
MODS = "http://www.loc.gov/mods/v3"
MARC = "http://www.loc.gov/MARC21/slim"
RIOXX = "http://www.rioxx.net/schema/v3.0/rioxx/"
RIOXXTERMS = "http://www.rioxx.net/schema/v3.0/rioxxterms/"
XLINK = "http://www.w3.org/1999/xlink"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True,
                          huge_tree=False)


@dataclass
class Fields:
    """What a picker found; identifiers as (value, declared scheme or None)."""

    identifiers: list[tuple[str, str | None]] = field(default_factory=list)
    title: str | None = None
    creator: str | None = None
    date: str | None = None


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _first(elements: Iterator[etree._Element] | list[etree._Element]) -> str | None:
    for element in elements:
        text = _text(element)
        if text:
            return text
    return None


def _dublin_core(root: etree._Element) -> Fields:
    """oai_dc, RIOXX and any format of Dublin Core elements (the generic fallback)."""
    found = Fields()
    found.identifiers = [(t, None) for t in map(_text, root.iter(f"{{{DC}}}identifier")) if t]
    for name in ("version_of_record",):
        found.identifiers += [(t, None) for t in map(_text, root.iter(f"{{{RIOXXTERMS}}}{name}"))
                              if t]
    if root.tag == f"{{{RIOXX}}}rioxx":  # RIOXX relations say what they are: cite-as is us
        for relation in [*root.iter(f"{{{DC}}}relation"),
                         *root.iter(f"{{{RIOXXTERMS}}}ext_relation")]:
            if (relation.get("rel") or "cite-as").lower() == "cite-as":
                value = relation.get("href") or _text(relation)
                if value:
                    found.identifiers.append((value, None))
    found.title = _first(root.iter(f"{{{DC}}}title"))
    found.creator = _first(root.iter(f"{{{DC}}}creator"))
    if found.creator is None:
        for creator in root.iter(f"{{{RIOXXTERMS}}}creator", f"{{{RIOXXTERMS}}}author"):
            found.creator = _text(creator.find(f"{{{RIOXXTERMS}}}name")) or _text(creator)
            if found.creator:
                break
    found.date = _first(root.iter(f"{{{RIOXXTERMS}}}publication_date", f"{{{DCTERMS}}}issued")) \
        or _first(root.iter(f"{{{DC}}}date"))
    return found


def _datacite(resource: etree._Element, ns: str) -> Fields:
    """A DataCite resource (any kernel version), or OpenAIRE's record of DataCite elements."""
    q = f"{{{ns}}}"
    found = Fields()
    for identifier in resource.findall(f"{q}identifier"):
        if (value := _text(identifier)):
            found.identifiers.append((value, identifier.get("identifierType")))
    for identifier in resource.iterfind(f"{q}alternateIdentifiers/{q}alternateIdentifier"):
        if (value := _text(identifier)):
            found.identifiers.append((value, identifier.get("alternateIdentifierType")))
    for related in resource.iterfind(f"{q}relatedIdentifiers/{q}relatedIdentifier"):
        if related.get("relationType") == "IsIdenticalTo" and (value := _text(related)):
            found.identifiers.append((value, related.get("relatedIdentifierType")))
    titles = resource.findall(f"{q}titles/{q}title")
    found.title = _first([t for t in titles if not t.get("titleType")] or titles)
    for creator in resource.iterfind(f"{q}creators/{q}creator"):
        found.creator = _text(creator.find(f"{q}familyName")) \
            or _text(creator.find(f"{q}creatorName"))
        if found.creator:
            break
    issued = [d for d in resource.iterfind(f"{q}dates/{q}date") if d.get("dateType") == "Issued"]
    found.date = _text(resource.find(f"{q}publicationYear")) or _first(issued) \
        or _first(resource.iterfind(f"{{{DC}}}date"))
    return found


def _mods(root: etree._Element) -> Fields:
    q = f"{{{MODS}}}"
    found = Fields()
    for identifier in root.findall(f"{q}identifier"):  # direct children: not relatedItem's
        if (value := _text(identifier)):
            kind = (identifier.get("type") or "").lower()
            found.identifiers.append((value, None if kind in ("", "uri") else kind))
    for url in root.iterfind(f"{q}location/{q}url"):
        if (value := _text(url)):
            found.identifiers.append((value, None))
    titles = root.findall(f"{q}titleInfo")
    for info in [t for t in titles if not t.get("type")] or titles:
        title = _text(info.find(f"{q}title"))
        if title and (article := _text(info.find(f"{q}nonSort"))):
            title = f"{article} {title}"  # MODS keeps a leading article apart
        if title:
            sub = _text(info.find(f"{q}subTitle"))
            found.title = f"{title}: {sub}" if sub else title
            break
    for name in root.findall(f"{q}name"):
        family = [p for p in name.findall(f"{q}namePart") if p.get("type") == "family"]
        found.creator = _first(family) or _first(
            p for p in name.findall(f"{q}namePart") if not p.get("type"))
        if found.creator:
            break
    issued = list(root.iterfind(f"{q}originInfo/{q}dateIssued"))
    found.date = _first([d for d in issued if d.get("keyDate") == "yes"] or issued) \
        or _first(root.iterfind(f"{q}originInfo/{q}dateCreated"))
    return found


def _subfields(field_: etree._Element, code: str) -> list[str]:
    return [t for t in (_text(s) for s in field_.iterfind(f"{{{MARC}}}subfield")
                        if s.get("code") == code) if t]


def _marc(root: etree._Element) -> Fields:
    record = root if root.tag == f"{{{MARC}}}record" else root.find(f"{{{MARC}}}record")
    found = Fields()
    if record is None:
        return found
    fields: dict[str, list[etree._Element]] = {}
    for datafield in record.iterfind(f"{{{MARC}}}datafield"):
        fields.setdefault(datafield.get("tag") or "", []).append(datafield)
    for f024 in fields.get("024", []):
        declared = _subfields(f024, "2")
        for value in _subfields(f024, "a"):
            found.identifiers.append((value, declared[0] if declared else None))
    for f020 in fields.get("020", []):
        for value in _subfields(f020, "a"):
            found.identifiers.append((value.split(" ")[0], "isbn"))  # "... (pbk.)"
    for f856 in fields.get("856", []):
        found.identifiers += [(u, None) for u in _subfields(f856, "u")]
    for f245 in fields.get("245", [])[:1]:
        found.title = " ".join(_subfields(f245, "a") + _subfields(f245, "b")).rstrip(" /:;,.") \
            or None
    for tag in ("100", "700"):
        names = [n for f in fields.get(tag, []) for n in _subfields(f, "a")]
        if names:
            found.creator = names[0]
            break
    dates = [d for tag in ("264", "260") for f in fields.get(tag, []) for d in _subfields(f, "c")]
    fixed = record.find(f"{{{MARC}}}controlfield[@tag='008']")
    found.date = dates[0] if dates else (_text(fixed) or "")[7:11] or None
    return found


def _fields(root: etree._Element) -> Fields:
    """Choose the picker by the root's namespace (the wrapped resource's for oai_datacite)."""
    ns = etree.QName(root).namespace or ""
    if ns == OAI_DATACITE:  # the wrapper: read the resource inside
        for element in root.iter():
            inner = etree.QName(element).namespace or ""
            if inner.startswith(DATACITE_PREFIX) and etree.QName(element).localname == "resource":
                return _datacite(element, inner)
        return Fields()
    if ns.startswith(DATACITE_PREFIX):
        return _datacite(root, ns)
    if ns == OAIRE:
        return _datacite(root, DATACITE_PREFIX + "4")
    if ns == MODS:
        return _mods(root)
    if ns == MARC:
        return _marc(root)
    return _dublin_core(root)  # oai_dc, RIOXX, and any other Dublin Core based format


def pick(payload: str | bytes) -> Fields | None:
    """The fields of one payload; None when it is not well-formed XML."""
    try:
        root = etree.fromstring(payload.encode("utf-8") if isinstance(payload, str) else payload,
                                _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root is None:
        return None
    return _fields(root)
