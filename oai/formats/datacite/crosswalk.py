"""Canonical record -> DataCite kernel-4 <resource> (`datacite`), and the same resource inside
DataCite's OAI wrapper (`oai_datacite`).

Written as strings, like oai_dc, in the documented property order. DataCite describes the
resource its DOI names, so a record is carried only with a DOI and with everything else the
kernel makes mandatory (`requires`): at least one creator, a publisher (the degree-granting
institution for a thesis) and a publication year.
"""

from __future__ import annotations

from oai.formats import coar, setting
from oai.formats.base import Record
from oai.formats.datacite import related
from oai.formats.datacite.agents import contributor, creator, rights_holder
from oai.formats.datacite.vocabularies import (
    KERNEL,
    KERNEL_SCHEMA_URL,
    KERNEL_VERSION,
    OAI_DATACITE_NS,
    OAI_DATACITE_SCHEMA_URL,
    SPDX_URI,
    SUBJECT_SCHEMES,
    classification_code,
    resource_type_general,
    spdx_licence,
)
from oai.protocol.namespaces import XSI
from oai.protocol.xmltext import escape_attr, escape_text

_OPEN = (f'<resource xmlns="{KERNEL}" xmlns:xsi="{XSI}" '
         f'xsi:schemaLocation="{KERNEL} {KERNEL_SCHEMA_URL}">')
_OPEN_NESTED = f'<resource xmlns="{KERNEL}" xsi:schemaLocation="{KERNEL} {KERNEL_SCHEMA_URL}">'
_CLOSE = "</resource>"
_WRAPPER_OPEN = (f'<oai_datacite xmlns="{OAI_DATACITE_NS}" xmlns:xsi="{XSI}" '
                 f'xsi:schemaLocation="{OAI_DATACITE_NS} {OAI_DATACITE_SCHEMA_URL}">'
                 f"<schemaVersion>{KERNEL_VERSION}</schemaVersion>")

_TITLE_TYPES = {"subtitle": "Subtitle", "alternative": "AlternativeTitle",
                "translated": "TranslatedTitle"}
# the first of these dates gives publicationYear
_YEAR_SOURCES = ("published", "published_online", "awarded", "created", "deposited")


# --------------------------------------------------------------------------- requirements


def publisher(record: Record) -> str | None:
    """The publisher, or for a thesis without one the degree-granting institution."""
    return record.get("publisher") or (record.get("thesis") or {}).get("institution")


def publication_year(record: Record) -> str | None:
    dates = record.get("dates") or {}
    for key in _YEAR_SOURCES:
        if dates.get(key):
            return str(dates[key][:4])
    return None


def requires(record: Record) -> str | None:
    """Why DataCite cannot carry the record (the kernel's mandatory properties, and the
    guidelines' DOI as identifier), or None."""
    if not record.get("doi"):
        return "DataCite requires a DOI (identifier identifierType=\"DOI\"): the record has none"
    if not record.get("creators"):
        return "DataCite requires at least one creator: the record has none"
    if not publisher(record):
        return "DataCite requires a publisher: the record has no publisher or thesis institution"
    if publication_year(record) is None:
        return ("DataCite requires a publicationYear: the record has no publication, award, "
                "creation or deposit date")
    return None


# --------------------------------------------------------------------------- properties


def _lang(lang: str | None) -> str:
    return f' xml:lang="{escape_attr(lang)}"' if lang else ""


def _titles(record: Record) -> str:
    out = []
    for title in record["titles"]:
        kind = _TITLE_TYPES.get(title.get("kind", "main"))
        attr = f' titleType="{kind}"' if kind else ""
        out.append(f"<title{attr}{_lang(title.get('lang'))}>{escape_text(title['text'])}</title>")
    return f"<titles>{''.join(out)}</titles>"


def _resource_type(record: Record) -> str:
    general = resource_type_general(record)
    label = "preprint" if general == "Preprint" and record["type"] == "article" else \
        coar.resource_type(record)[1]
    return f'<resourceType resourceTypeGeneral="{general}">{escape_text(label)}</resourceType>'


def _subjects(record: Record) -> str:
    out = []
    for subject in record.get("subjects", []):
        attrs = ""
        scheme = SUBJECT_SCHEMES.get(subject.get("scheme") or "local")
        if scheme:
            attrs = f' subjectScheme="{scheme[0]}"'
            if scheme[1]:
                attrs += f' schemeURI="{scheme[1]}"'
        code = classification_code(subject.get("code"))
        if code:
            attrs += f' classificationCode="{escape_attr(code)}"'
        out.append(f"<subject{attrs}>{escape_text(subject['text'])}</subject>")
    out.extend(f"<subject>{escape_text(k)}</subject>" for k in record.get("keywords", []))
    return f"<subjects>{''.join(out)}</subjects>" if out else ""


def _contributors(record: Record) -> str:
    out = [contributor(c) for c in record.get("contributors", [])]
    holder = (record.get("rights") or {}).get("holder")
    if holder:
        out.append(rights_holder(holder))
    return f"<contributors>{''.join(out)}</contributors>" if out else ""


def _date(kind: str, value: str, information: str | None = None) -> str:
    info = f' dateInformation="{information}"' if information else ""
    return f'<date dateType="{kind}"{info}>{value}</date>'


def _dates(record: Record) -> str:
    """Issued (publication, else the award of a thesis), Available (first online; the end of
    an embargo), Accepted, Submitted, Created, Updated, and the repository's own dates as
    Other with their dateInformation. Model dates are ISO 8601: nothing to escape."""
    dates = record.get("dates") or {}
    out = []
    issued = dates.get("published") or dates.get("awarded")
    if issued:
        out.append(_date("Issued", issued))
    if dates.get("published_online"):
        out.append(_date("Available", dates["published_online"], "Published online"))
    for key, kind in (("accepted", "Accepted"), ("submitted", "Submitted"),
                      ("created", "Created"), ("modified", "Updated")):
        if dates.get(key):
            out.append(_date(kind, dates[key]))
    embargo_end = (record.get("access") or {}).get("embargo_end")
    if embargo_end:
        out.append(_date("Available", embargo_end, "End of embargo"))
    if dates.get("awarded") and dates.get("published"):
        out.append(_date("Other", dates["awarded"], "Degree awarded"))
    for key, info in (("deposited", "Deposited in the repository"),
                      ("first_compliant_deposit", "First compliant deposit")):
        if dates.get(key):
            out.append(_date("Other", dates[key], info))
    licence_start = (record.get("rights") or {}).get("licence_start")
    if licence_start:
        out.append(_date("Other", licence_start, "Licence applies from"))
    return f"<dates>{''.join(out)}</dates>" if out else ""


def _sizes_and_formats(record: Record) -> str:
    sizes: list[str] = []
    count = (record.get("pages") or {}).get("count")
    if count:
        sizes.append(f"{count} pages")
    for file in record.get("files", []):
        if file.get("size") is not None:
            sizes.append(f"{file['size']} bytes")
    out = ""
    if sizes:
        out += "<sizes>" + "".join(f"<size>{s}</size>" for s in dict.fromkeys(sizes)) + "</sizes>"
    mimes = sorted({f["mime_type"] for f in record.get("files", [])})
    if mimes:
        out += "<formats>" + "".join(f"<format>{m}</format>" for m in mimes) + "</formats>"
    return out


def _licence(url: str) -> str:
    known = spdx_licence(url)
    if known is None:
        return f'<rights rightsURI="{escape_attr(url)}">{escape_text(url)}</rights>'
    spdx, name = known
    return (f'<rights xml:lang="en" rightsURI="{escape_attr(url)}" rightsIdentifier="{spdx}"'
            f' rightsIdentifierScheme="SPDX" schemeURI="{SPDX_URI}">{escape_text(name)}</rights>')


def _rights(record: Record) -> str:
    """The record's licence and any other file licence (SPDX identifiers for the known ones),
    the rights statement, and the access status as a COAR access right."""
    rights = record.get("rights") or {}
    licences = [rights["licence"]] if rights.get("licence") else []
    licences += [f["licence"] for f in record.get("files", []) if f.get("licence")]
    out = [_licence(url) for url in dict.fromkeys(licences)]
    if rights.get("statement"):
        out.append(f"<rights>{escape_text(rights['statement'])}</rights>")
    status = (record.get("access") or {}).get("status")
    if status:
        uri, label = coar.access_right(status)
        out.append(f'<rights xml:lang="en" rightsURI="{uri}">{label}</rights>')
    return f"<rightsList>{''.join(out)}</rightsList>" if out else ""


def _descriptions(record: Record) -> str:
    """Abstracts; the series as SeriesInformation; the event, the thesis and the notes as
    Other."""
    out = [f'<description descriptionType="Abstract"{_lang(a.get("lang"))}>'
           f"{escape_text(a['text'])}</description>" for a in record.get("abstracts", [])]
    texts: list[tuple[str, str]] = []
    series = record.get("series")
    if series:
        number = f", {series['number']}" if series.get("number") else ""
        texts.append(("SeriesInformation", f"{series['title']}{number}"))
    event = record.get("event")
    if event:
        when = "/".join(d for d in (event.get("start"), event.get("end")) if d)
        parts = [event["name"], event.get("place"), when]
        texts.append(("Other", "Presented at: " + ", ".join(p for p in parts if p)))
    thesis = record.get("thesis")
    if thesis and (thesis.get("degree") or thesis.get("institution")):
        degree = f" ({thesis['degree']})" if thesis.get("degree") else ""
        parts = [f"Thesis{degree}", thesis.get("institution"), thesis.get("department")]
        texts.append(("Other", ", ".join(p for p in parts if p)))
    texts.extend(("Other", note) for note in record.get("notes", []))
    out.extend(f'<description descriptionType="{kind}">{escape_text(text)}</description>'
               for kind, text in texts)
    return f"<descriptions>{''.join(out)}</descriptions>" if out else ""


def _body(record: Record) -> str:
    """Every property after the root's opening tag, in the documented order."""
    parts = [
        f'<identifier identifierType="DOI">{escape_text(record["doi"])}</identifier>',
        "<creators>", *(creator(c) for c in record["creators"]), "</creators>",
        _titles(record),
        f"<publisher>{escape_text(publisher(record) or '')}</publisher>",
        f"<publicationYear>{publication_year(record)}</publicationYear>",
        _resource_type(record),
        _subjects(record),
        _contributors(record),
        _dates(record),
    ]
    if record.get("languages"):
        parts.append(f"<language>{escape_text(record['languages'][0])}</language>")
    parts += [related.alternate_identifiers(record), related.related_identifiers(record),
              _sizes_and_formats(record), _rights(record), _descriptions(record),
              related.funding_references(record), related.related_items(record), _CLOSE]
    return "".join(parts)


# --------------------------------------------------------------------------- the two roots


def render_datacite(record: Record) -> str:
    """The kernel-4 <resource> of a record that `requires` accepts."""
    return _OPEN + _body(record)


def datacentre_symbol() -> str:
    """The repository's DataCite symbol (e.g. BL.CARDIFF): the `datacite_symbol` setting
    (OAI_DATACITE_SYMBOL); empty when not set, since the wrapper requires the element but
    nothing else can supply it."""
    return setting("datacite_symbol")


def render_oai_datacite(record: Record) -> str:
    """The same resource in the oai_datacite 1.1 wrapper (schemaVersion, datacentreSymbol,
    payload)."""
    return (f"{_WRAPPER_OPEN}<datacentreSymbol>{escape_text(datacentre_symbol())}"
            f"</datacentreSymbol><payload>{_OPEN_NESTED}{_body(record)}</payload></oai_datacite>")
