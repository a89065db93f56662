"""People and organisations in kernel-4: creators, contributors (with their DataCite role),
ORCID name identifiers and ROR affiliations, and the short forms a relatedItem allows."""

from __future__ import annotations

from typing import Any

from oai.formats.datacite.vocabularies import CONTRIBUTOR_TYPES, ORCID_URI, ROR_URI
from oai.protocol.xmltext import escape_attr, escape_text

Agent = dict[str, Any]


def _is_person(agent: Agent) -> bool:
    return agent.get("kind", "person") == "person"


def _name(tag: str, agent: Agent) -> str:
    """<creatorName>/<contributorName> with nameType, then givenName and familyName for a
    person whose parts are known."""
    person = _is_person(agent)
    kind = "Personal" if person else "Organizational"
    out = f'<{tag} nameType="{kind}">{escape_text(agent["name"])}</{tag}>'
    if person:
        if agent.get("given"):
            out += f"<givenName>{escape_text(agent['given'])}</givenName>"
        if agent.get("family"):
            out += f"<familyName>{escape_text(agent['family'])}</familyName>"
    return out


def _identifiers(agent: Agent) -> str:
    """ORCID as a nameIdentifier (full https URI, DataCite's documented form), then each
    affiliation, with its ROR ID when known."""
    out = ""
    if agent.get("orcid"):
        out += (f'<nameIdentifier nameIdentifierScheme="ORCID" schemeURI="{ORCID_URI}">'
                f"{ORCID_URI}/{escape_text(agent['orcid'])}</nameIdentifier>")
    for affiliation in agent.get("affiliations", []):
        ror = affiliation.get("ror")
        attrs = (f' affiliationIdentifier="{escape_attr(ror)}" affiliationIdentifierScheme="ROR"'
                 f' schemeURI="{ROR_URI}"') if ror else ""
        out += f"<affiliation{attrs}>{escape_text(affiliation['name'])}</affiliation>"
    return out


def creator(agent: Agent) -> str:
    return f"<creator>{_name('creatorName', agent)}{_identifiers(agent)}</creator>"


def contributor(agent: Agent, contributor_type: str | None = None) -> str:
    kind = contributor_type or CONTRIBUTOR_TYPES[agent.get("role") or "other"]
    return (f'<contributor contributorType="{kind}">{_name("contributorName", agent)}'
            f"{_identifiers(agent)}</contributor>")


def rights_holder(name: str) -> str:
    """The record's rights holder, as a RightsHolder contributor (its kind is not known)."""
    return (f'<contributor contributorType="RightsHolder">'
            f"<contributorName>{escape_text(name)}</contributorName></contributor>")


def related_item_contributor(agent: Agent, contributor_type: str) -> str:
    """A relatedItem's contributor: name parts only (no identifiers in that position)."""
    return (f'<contributor contributorType="{contributor_type}">'
            f"{_name('contributorName', agent)}</contributor>")
