"""Writing OAI-PMH response XML (spec 3.2): the envelope, error elements and record headers.

Sans-I/O and shared by everything that writes OAI-PMH documents (the provider, exports), so
the envelope is spelled in one place. Text goes through `oai.protocol.xmltext`, so no value
can break the document; `header_bytes` is the provider's hot path, taking pieces that are
already escaped and encoded, and `header` is the same element built from plain text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote

from oai.protocol.datestamps import format_datestamp
from oai.protocol.namespaces import OAI, OAI_SCHEMA_URL, XSI
from oai.protocol.syntax import echoable, is_identifier
from oai.protocol.xmltext import escape_attr, escape_text, strip_illegal_xml_chars

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
OPEN_ROOT = f'<OAI-PMH xmlns="{OAI}" xmlns:xsi="{XSI}" xsi:schemaLocation="{OAI} {OAI_SCHEMA_URL}">'
CLOSE = "</OAI-PMH>\n"

_HEADER = b"<header%s><identifier>%s</identifier><datestamp>%s</datestamp>%s</header>"
_DELETED = b' status="deleted"'


def open_envelope(response_epoch: int, base_url: str,
                  arguments: Mapping[str, str] | None, preamble: str = "") -> str:
    """Everything up to the verb (or error) element: declaration, `preamble` (processing
    instructions, see `stylesheet_instruction`), root, responseDate and the request element;
    `arguments` None means a bare request element (badVerb, badArgument). Only values of
    their attribute's schema type are echoed, and the base URL is made an xs:anyURI if it is
    not one: no argument can make a response invalid."""
    attrs = "".join(f' {k}="{escape_attr(v)}"' for k, v in echoable(arguments or {}).items())
    return (f"{XML_DECLARATION}{preamble}{OPEN_ROOT}"
            f"<responseDate>{format_datestamp(response_epoch)}</responseDate>"
            f"<request{attrs}>{escape_text(as_any_uri(base_url))}</request>")


def as_any_uri(url: str) -> str:
    """`url`, percent-encoded where libxml2 would not take it as an xs:anyURI; "" (a valid,
    empty URI reference) if even that fails."""
    if is_identifier(url):
        return url
    quoted = quote(strip_illegal_xml_chars(url), safe="/:@!$&'()*+,;=?~")
    return quoted if is_identifier(quoted) else ""


def error_elements(errors: Iterable[tuple[str, str]]) -> str:
    """`<error code="...">message</error>` for each (code, message)."""
    return "".join(f'<error code="{escape_attr(code)}">{escape_text(message)}</error>'
                   for code, message in errors)


def error_document(response_epoch: int, base_url: str, errors: Iterable[tuple[str, str]],
                   arguments: Mapping[str, str] | None = None, preamble: str = "") -> bytes:
    """A whole error response, as UTF-8 bytes."""
    return (open_envelope(response_epoch, base_url, arguments, preamble)
            + error_elements(errors) + CLOSE).encode("utf-8")


def stylesheet_instruction(href: str) -> str:
    """The `<?xml-stylesheet?>` line that makes a browser render a response with the XSLT
    at `href`, for use as a preamble. `href` is percent-encoded where a pseudo-attribute
    or a URL could not carry it as it is."""
    safe = quote(strip_illegal_xml_chars(href), safe="/:@!$'()*+,;=~-._%")
    return f'<?xml-stylesheet type="text/xsl" href="{safe}"?>\n'


def header_bytes(identifier: bytes, datestamp: bytes, deleted: bool,
                 set_specs_xml: bytes = b"") -> bytes:
    """A `<header>` from UTF-8 pieces that are already escaped; `set_specs_xml` is the
    `<setSpec>` elements, written out. The hot path of list pages: one formatting step."""
    return _HEADER % (_DELETED if deleted else b"", identifier, datestamp, set_specs_xml)


def set_spec_elements(set_specs: Iterable[str]) -> bytes:
    """`<setSpec>` elements for setSpecs given as text (escaped, whatever they hold)."""
    return b"".join(b"<setSpec>%s</setSpec>" % escape_text(s).encode("utf-8")
                    for s in set_specs)


def header(identifier: str, datestamp: str, deleted: bool = False,
           set_specs: Iterable[str] = ()) -> bytes:
    """A `<header>` from plain text (identifier, datestamp as written in the document,
    deleted flag, setSpecs), every piece escaped."""
    return header_bytes(escape_text(identifier).encode("utf-8"),
                        escape_text(datestamp).encode("utf-8"), deleted,
                        set_spec_elements(set_specs))


__all__ = [
    "CLOSE",
    "OPEN_ROOT",
    "XML_DECLARATION",
    "as_any_uri",
    "error_document",
    "error_elements",
    "header",
    "header_bytes",
    "open_envelope",
    "set_spec_elements",
    "stylesheet_instruction",
]
