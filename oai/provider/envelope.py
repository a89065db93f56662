"""The OAI-PMH response envelope (spec 3.2): XML declaration, root, responseDate, request."""

from __future__ import annotations

from collections.abc import Mapping

from oai.protocol.datestamps import format_datestamp
from oai.protocol.namespaces import OAI, OAI_SCHEMA_URL, XSI
from oai.protocol.xmltext import escape_attr, escape_text

_ROOT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<OAI-PMH xmlns="{OAI}" xmlns:xsi="{XSI}" xsi:schemaLocation="{OAI} {OAI_SCHEMA_URL}">'
)
CLOSE = "</OAI-PMH>\n"


def open_envelope(response_epoch: int, base_url: str,
                  arguments: Mapping[str, str] | None) -> str:
    """Everything up to the verb element; `arguments` None means a bare request element."""
    attrs = "".join(f' {k}="{escape_attr(v)}"' for k, v in (arguments or {}).items())
    return (f"{_ROOT}<responseDate>{format_datestamp(response_epoch)}</responseDate>"
            f"<request{attrs}>{escape_text(base_url)}</request>")


def error_elements(errors: list[tuple[str, str]]) -> str:
    return "".join(f'<error code="{code}">{escape_text(message)}</error>'
                   for code, message in errors)
