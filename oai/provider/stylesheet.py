"""The browsable feed: the `<?xml-stylesheet?>` instruction at the top of every response and
the XSLT it points to, served from the provider's own origin below the endpoint.

A browser that opens an OAI-PMH URL applies `static/oai2.xsl` (XSLT 1.0, no script, no
network) and shows a page; harvesters ignore the instruction. The instruction is one
constant per process, so list pages cost what they did. `stylesheet = false` turns it off,
and responses are then byte for byte what they were without it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from oai.config import Config
from oai.protocol.writer import stylesheet_instruction

ENDPOINT = "/oai"
#: Where the stylesheet is, below the endpoint (so a proxy that forwards the endpoint's
#: path prefix forwards it too).
STYLESHEET_PATH = "/static/oai2.xsl"
STYLESHEET_FILE = Path(__file__).resolve().parent / "static" / "oai2.xsl"
_URL_PATH = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*:)?(?://[^/?#]*)?([^?#]*)")
#: XSLT's registered media type; browsers take it (and text/xsl) for xml-stylesheet.
STYLESHEET_CONTENT_TYPE = "application/xslt+xml; charset=utf-8"
#: A day: a changed stylesheet gets a new ETag, which revalidation then picks up.
CACHE_CONTROL = "public, max-age=86400"


def stylesheet_href(config: Config) -> str:
    """The stylesheet's URL as the browser should ask for it: a path on the origin that
    served the response, below the endpoint's public path (the base URL's, if one is
    configured, e.g. behind a proxy)."""
    if not config.base_url:
        return ENDPOINT + STYLESHEET_PATH
    # the path of the URL, whatever else it holds (a base URL that is no URI still serves)
    found = _URL_PATH.match(config.base_url)
    path = found.group(1).strip("/") if found else ""
    return f"/{path}{STYLESHEET_PATH}" if path else STYLESHEET_PATH


def stylesheet_preamble(config: Config) -> str:
    """What goes right after the XML declaration of every response: the instruction, or
    nothing when `stylesheet` is off."""
    return stylesheet_instruction(stylesheet_href(config)) if config.stylesheet else ""


@dataclass(frozen=True)
class Stylesheet:
    body: bytes
    etag: str


@cache
def stylesheet() -> Stylesheet:
    """The XSLT's bytes and ETag, read once per process."""
    body = STYLESHEET_FILE.read_bytes()
    return Stylesheet(body, hashlib.sha256(body).hexdigest()[:20])


__all__ = ["CACHE_CONTROL", "ENDPOINT", "STYLESHEET_CONTENT_TYPE", "STYLESHEET_PATH",
           "stylesheet", "stylesheet_href", "stylesheet_preamble"]
