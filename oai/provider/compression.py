"""Content-coding negotiation (spec 3.1.3): gzip and deflate, streamed, only when asked for."""

from __future__ import annotations

from oai.protocol.deflate import CODINGS as SUPPORTED
from oai.protocol.deflate import compress

__all__ = ["SUPPORTED", "compress", "negotiate"]


def negotiate(accept_encoding: str | None) -> str | None:
    """The coding to use for an Accept-Encoding header, honouring q-values; None = identity."""
    if not accept_encoding:
        return None
    best: tuple[float, str] | None = None
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name == "*":
            name = SUPPORTED[0]
        if name in SUPPORTED and quality > 0 and (best is None or quality > best[0]):
            best = (quality, name)
    return best[1] if best else None
