"""MODS <name> elements: creators, contributors, editors, funders, degree-granting bodies and
conferences, each with its MARC relator role (code and term), ORCID and affiliations."""

from __future__ import annotations

from typing import Any

from oai.formats.base import Record
from oai.formats.loc import RELATORS
from oai.protocol.xmltext import escape_attr, escape_text

_ROLE = ('<role><roleTerm type="code" authority="marcrelator">{code}</roleTerm>'
         '<roleTerm type="text" authority="marcrelator">{term}</roleTerm></role>')


def role(key: str) -> str:
    code, term = RELATORS[key]
    return _ROLE.format(code=code, term=term)


def agent(person: dict[str, Any], role_key: str) -> str:
    """One creator or contributor: family/given name parts when known, else the name whole;
    the display form, affiliations, role and ORCID."""
    organisation = person.get("kind") == "organisation"
    out = [f'<name type="{"corporate" if organisation else "personal"}">']
    family, given = person.get("family"), person.get("given")
    if not organisation and (family or given):
        if family:
            out.append(f'<namePart type="family">{escape_text(family)}</namePart>')
        if given:
            out.append(f'<namePart type="given">{escape_text(given)}</namePart>')
        out.append(f"<displayForm>{escape_text(person['name'])}</displayForm>")
    else:
        out.append(f"<namePart>{escape_text(person['name'])}</namePart>")
    for affiliation in person.get("affiliations", []):
        out.append(f"<affiliation>{escape_text(affiliation['name'])}</affiliation>")
    out.append(role(role_key))
    if person.get("orcid"):
        out.append('<nameIdentifier type="orcid" typeURI="https://orcid.org">'
                   f"https://orcid.org/{escape_text(person['orcid'])}</nameIdentifier>")
    out.append("</name>")
    return "".join(out)


def corporate(name: str, role_key: str, parts: tuple[str, ...] = (),
              identifier: tuple[str, str] | None = None) -> str:
    """A corporate body (funder, degree-granting institution) with subordinate units."""
    out = [f'<name type="corporate"><namePart>{escape_text(name)}</namePart>']
    out.extend(f"<namePart>{escape_text(p)}</namePart>" for p in parts)
    out.append(role(role_key))
    if identifier:
        out.append(f'<nameIdentifier type="{escape_attr(identifier[0])}">'
                   f"{escape_text(identifier[1])}</nameIdentifier>")
    out.append("</name>")
    return "".join(out)


def funder_identifier(funder_id: str) -> tuple[str, str]:
    """(MODS identifier type, value) for a Crossref Funder Registry DOI or a ROR URL."""
    if "ror.org/" in funder_id:
        return "ror", funder_id
    if "10.13039/" in funder_id:
        return "fundref", funder_id
    return "uri", funder_id


def conference(event: dict[str, Any]) -> str:
    """The conference as a name of type conference: its name, place and dates as parts."""
    out = [f'<name type="conference"><namePart>{escape_text(event["name"])}</namePart>']
    if event.get("place"):
        out.append(f"<namePart>{escape_text(event['place'])}</namePart>")
    dates = "/".join(d for d in (event.get("start"), event.get("end")) if d)
    if dates:
        out.append(f'<namePart type="date">{escape_text(dates)}</namePart>')
    out.append("</name>")
    return "".join(out)


def names(record: Record) -> list[str]:
    """Every <name> of the record itself, creators first."""
    out = [agent(c, "author") for c in record.get("creators", [])]
    out.extend(agent(c, c.get("role") or "other") for c in record.get("contributors", []))
    thesis = record.get("thesis") or {}
    if record["type"] == "thesis" and thesis.get("institution"):
        department = (thesis["department"],) if thesis.get("department") else ()
        out.append(corporate(thesis["institution"], "degree_granting", department))
    for funding in record.get("funding", []):
        ident = funder_identifier(funding["funder_id"]) if funding.get("funder_id") else None
        out.append(corporate(funding["funder"], "funder", identifier=ident))
    if record.get("event"):
        out.append(conference(record["event"]))
    return out
