"""Writing what the repository says about itself: Identify's `<description>` containers
(oai-identifier, eprints, friends, branding, rightsManifest) and the rights statement of a
record's `<about>` container, from the settings of `oai.description_config`.

Sans-I/O: text in, XML text out, every value escaped. Each payload names its schema in
xsi:schemaLocation, as harvesters and validators expect. `check_descriptions` validates
the configured payloads inside whole responses before a server starts, so a value that
passed the settings' own checks but not the schemas still stops it, naming its table.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from oai.description_config import (
    AboutRights,
    Branding,
    Descriptions,
    Eprints,
    RightsManifest,
    SettingError,
    TextAndLinks,
)
from oai.protocol.namespaces import (
    BRANDING,
    BRANDING_SCHEMA_URL,
    DC,
    EPRINTS,
    EPRINTS_SCHEMA_URL,
    FRIENDS,
    FRIENDS_SCHEMA_URL,
    OAI,
    OAI_DC,
    OAI_DC_SCHEMA_URL,
    OAI_IDENTIFIER,
    OAI_IDENTIFIER_SCHEMA_URL,
    RIGHTS,
    RIGHTS_APPLIES_TO_METADATA,
    RIGHTS_MANIFEST_SCHEMA_URL,
    RIGHTS_SCHEMA_URL,
    XSI,
)
from oai.protocol.xmltext import escape_attr, escape_text


def _open(tag: str, namespace: str, schema_url: str, attrs: str = "") -> str:
    return (f'<{tag} xmlns="{namespace}" xmlns:xsi="{XSI}" '
            f'xsi:schemaLocation="{namespace} {schema_url}"{attrs}>')


def _element(tag: str, text: str) -> str:
    return f"<{tag}>{escape_text(text)}</{tag}>"


def oai_identifier(repository_identifier: str, sample_identifier: str) -> str:
    """The oai-identifier payload: identifiers are oai:<repositoryIdentifier>:<local id>."""
    return (f"{_open('oai-identifier', OAI_IDENTIFIER, OAI_IDENTIFIER_SCHEMA_URL)}"
            f"<scheme>oai</scheme>{_element('repositoryIdentifier', repository_identifier)}"
            f"<delimiter>:</delimiter>{_element('sampleIdentifier', sample_identifier)}"
            "</oai-identifier>")


def _text_and_links(tag: str, value: TextAndLinks | None) -> str:
    if value is None:
        return ""
    inner = "".join(_element("text", t) for t in value.texts)
    inner += "".join(_element("URL", u) for u in value.urls)
    return f"<{tag}>{inner}</{tag}>"


def eprints(settings: Eprints) -> str:
    return (_open("eprints", EPRINTS, EPRINTS_SCHEMA_URL)
            + _text_and_links("content", settings.content)
            + _text_and_links("metadataPolicy", settings.metadata_policy)
            + _text_and_links("dataPolicy", settings.data_policy)
            + _text_and_links("submissionPolicy", settings.submission_policy)
            + "".join(_element("comment", c) for c in settings.comments)
            + "</eprints>")


def friends(base_urls: tuple[str, ...]) -> str:
    return (_open("friends", FRIENDS, FRIENDS_SCHEMA_URL)
            + "".join(_element("baseURL", u) for u in base_urls) + "</friends>")


def branding(settings: Branding) -> str:
    out = [_open("branding", BRANDING, BRANDING_SCHEMA_URL)]
    icon = settings.collection_icon
    if icon is not None:
        out.append("<collectionIcon>" + _element("url", icon.url))
        for tag, value in (("link", icon.link), ("title", icon.title),
                           ("width", icon.width), ("height", icon.height)):
            if value is not None:
                out.append(_element(tag, str(value)))
        out.append("</collectionIcon>")
    for rendering in settings.metadata_renderings:
        out.append(f'<metadataRendering metadataNamespace="'
                   f'{escape_attr(rendering.metadata_namespace)}" '
                   f'mimeType="{escape_attr(rendering.mime_type)}">'
                   f"{escape_text(rendering.url)}</metadataRendering>")
    out.append("</branding>")
    return "".join(out)


def _reference(url: str) -> str:
    return f'<rightsReference ref="{escape_attr(url)}"/>'


def _definition(statement: str) -> str:
    """A statement written in line: rightsDefinition needs an element of another namespace
    whose schema is loaded, so the text goes in Dublin Core's dc:rights."""
    return (f'<rightsDefinition><oai_dc:dc xmlns:oai_dc="{OAI_DC}" xmlns:dc="{DC}" '
            f'xsi:schemaLocation="{OAI_DC} {OAI_DC_SCHEMA_URL}">'
            f"<dc:rights>{escape_text(statement)}</dc:rights></oai_dc:dc></rightsDefinition>")


def rights_manifest(settings: RightsManifest) -> str:
    statements = [_reference(u) for u in settings.references]
    statements += [_definition(s) for s in settings.statements]
    return (_open("rightsManifest", RIGHTS, RIGHTS_MANIFEST_SCHEMA_URL,
                  f' appliesTo="{RIGHTS_APPLIES_TO_METADATA}"')
            + "".join(f"<rights>{s}</rights>" for s in statements) + "</rightsManifest>")


def identify_descriptions(settings: Descriptions) -> dict[str, str]:
    """The configured payloads by settings key (identify.eprints, ...), in the order served."""
    out: dict[str, str] = {}
    if settings.eprints is not None:
        out["identify.eprints"] = eprints(settings.eprints)
    if settings.friends:
        out["identify.friends"] = friends(settings.friends)
    if settings.branding is not None:
        out["identify.branding"] = branding(settings.branding)
    if settings.rights is not None:
        out["identify.rights"] = rights_manifest(settings.rights)
    return out


def description_elements(payloads: list[str]) -> str:
    return "".join(f"<description>{p}</description>" for p in payloads)


# --------------------------------------------------------------------------- about


def about_rights(statement: str) -> bytes:
    """An `<about>` container holding one rights statement (from `_reference` or
    `_definition`)."""
    return (f"<about>{_open('rights', RIGHTS, RIGHTS_SCHEMA_URL)}{statement}</rights></about>"
            .encode())


def about_writer(settings: AboutRights,
                 is_uri: Callable[[str], bool]) -> Callable[[str | None], bytes]:
    """The about container of a record with the given licence URL (or None): a reference to
    the licence when `from_licence` and `is_uri` takes it as an xs:anyURI, else the fixed
    reference or statement, else nothing. Containers are cached: records share a few
    licences."""
    fallback = b""
    if settings.reference is not None:
        fallback = about_rights(_reference(settings.reference))
    elif settings.statement is not None:
        fallback = about_rights(_definition(settings.statement))
    if not settings.from_licence:
        return lambda licence: fallback

    @lru_cache(maxsize=1024)
    def about(licence: str | None) -> bytes:
        if licence and is_uri(licence):
            return about_rights(_reference(licence))
        return fallback

    return about


def check_descriptions(settings: Descriptions, about: AboutRights | None) -> None:
    """Raise SettingError, naming the table, unless every configured payload is valid in a
    response (against the same schemas `validate_response` uses)."""
    from oai.protocol.schemas import SchemaViolation, validate_response

    def check(key: str, document: str) -> None:
        try:
            validate_response(document)
        except SchemaViolation as exc:
            first = exc.errors[0] if exc.errors else str(exc)
            raise SettingError(f"{key}: the settings give an invalid description ({first})"
                               ) from None

    for key, payload in identify_descriptions(settings).items():
        check(key, _sample_response(f"<Identify>{_IDENTIFY_FIELDS}"
                                    f"{description_elements([payload])}</Identify>"))
    if about is not None:
        container = about_writer(about, lambda url: True)(None).decode()
        if container:
            check("about.rights", _sample_response(
                f"<GetRecord><record>{_SAMPLE_HEADER}<metadata>{_SAMPLE_DC}</metadata>"
                f"{container}</record></GetRecord>"))


_IDENTIFY_FIELDS = (
    "<repositoryName>check</repositoryName><baseURL>http://localhost/oai</baseURL>"
    "<protocolVersion>2.0</protocolVersion><adminEmail>a@localhost.org</adminEmail>"
    "<earliestDatestamp>2000-01-01T00:00:00Z</earliestDatestamp>"
    "<deletedRecord>persistent</deletedRecord><granularity>YYYY-MM-DDThh:mm:ssZ</granularity>")
_SAMPLE_HEADER = ("<header><identifier>oai:localhost.org:1</identifier>"
                  "<datestamp>2000-01-01T00:00:00Z</datestamp></header>")
_SAMPLE_DC = f'<oai_dc:dc xmlns:oai_dc="{OAI_DC}"/>'


def _sample_response(body: str) -> str:
    return (f'<OAI-PMH xmlns="{OAI}"><responseDate>2000-01-01T00:00:00Z</responseDate>'
            f"<request>http://localhost/oai</request>{body}</OAI-PMH>")


__all__ = [
    "about_writer",
    "check_descriptions",
    "description_elements",
    "identify_descriptions",
    "oai_identifier",
]
