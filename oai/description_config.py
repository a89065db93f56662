"""Settings of what the repository says about itself and its records: the `[identify.*]`
tables (Identify's eprints, friends, branding and rightsManifest descriptions) and the
`[about.rights]` table (a rights statement in each record's `<about>`).

Read with the rest of the configuration, so a bad table stops any command at start-up with
one line naming the key. Standard library only (every command reads the configuration);
`oai.protocol.descriptions` writes the XML, and `oai serve` also checks that XML against
the schemas before it starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")


class SettingError(ValueError):
    """A bad value; the message starts with the dotted key it belongs to."""


@dataclass(frozen=True)
class TextAndLinks:
    """An eprints policy: texts and URLs, at least one of them."""

    texts: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Eprints:
    metadata_policy: TextAndLinks
    data_policy: TextAndLinks
    content: TextAndLinks | None = None
    submission_policy: TextAndLinks | None = None
    comments: tuple[str, ...] = ()


@dataclass(frozen=True)
class CollectionIcon:
    url: str
    link: str | None = None
    title: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class MetadataRendering:
    """A stylesheet (`url`, of `mime_type`) for records in `metadata_namespace`."""

    url: str
    metadata_namespace: str
    mime_type: str


@dataclass(frozen=True)
class Branding:
    collection_icon: CollectionIcon | None = None
    metadata_renderings: tuple[MetadataRendering, ...] = ()


@dataclass(frozen=True)
class RightsManifest:
    """Rights statements applying to the metadata of every record: references (URLs) to
    statements published elsewhere, and statements written out here."""

    references: tuple[str, ...] = ()
    statements: tuple[str, ...] = ()


@dataclass(frozen=True)
class Descriptions:
    """Identify's optional descriptions (the oai-identifier one is always served)."""

    eprints: Eprints | None = None
    friends: tuple[str, ...] = ()  # base URLs of other OAI-PMH repositories
    branding: Branding | None = None
    rights: RightsManifest | None = None


@dataclass(frozen=True)
class AboutRights:
    """The rights statement in each record's `<about>`: a reference to the record's own
    licence URL when `from_licence` and it has one, else the fixed reference or statement."""

    from_licence: bool = False
    reference: str | None = None
    statement: str | None = None


# --------------------------------------------------------------------------- values

# Patterns, compiled (and kept in re's cache) on first use: every command imports this module,
# and the first one's character class over all of Unicode takes milliseconds to compile.
_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%\u00a0-\U0010ffff]*\Z"
_BAD_ESCAPE = r"%(?![0-9A-Fa-f]{2})"
_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]*\Z"
_MIME = r"[a-z]+/[a-z]+\Z"  # branding.xsd's pattern


def _uri(key: str, value: Any, web: bool = True) -> str:
    """`value` if it is an absolute URI (http or https when `web`) that XML Schema's anyURI
    takes: no spaces, quotes or angle brackets, well-formed %-escapes, one fragment."""
    if not isinstance(value, str):
        raise SettingError(f"{key}: expected a URL string, got {_kind(value)}")
    problem = None
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        parts, problem = None, str(exc)
    if parts is not None:
        if (not re.match(_URL_CHARS, value) or value.count("#") > 1
                or re.search(_BAD_ESCAPE, value)):
            problem = "it has characters a URL cannot have unescaped"
        elif any(c in value.replace(parts.netloc, "", 1) for c in "[]"):
            problem = "brackets are only allowed around an IPv6 address"
        elif web and (parts.scheme not in ("http", "https") or not parts.hostname):
            problem = "an http(s) URL with a host is expected"
        elif not web and not re.match(_SCHEME, parts.scheme or ""):
            problem = "an absolute URI (with a scheme) is expected"
    if problem:
        raise SettingError(f"{key}: {value!r} is not a valid URL ({problem})")
    return value


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SettingError(f"{key}: expected non-empty text, got {_kind(value)}")
    return value


def _many(key: str, value: Any, one: Callable[[str, Any], T]) -> tuple[T, ...]:
    """A string or a list of strings, each checked by `one`."""
    if isinstance(value, list):
        return tuple(one(f"{key}[{i}]", v) for i, v in enumerate(value))
    return (one(key, value),)


def _size(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingError(f"{key}: expected a positive whole number of pixels, got {value!r}")
    return value


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SettingError(f"{key}: expected true or false, got {value!r}")
    return value


def _mime(key: str, value: Any) -> str:
    if not isinstance(value, str) or not re.match(_MIME, value):
        raise SettingError(f"{key}: {value!r} is not a MIME type of lower-case letters such "
                           "as text/xsl (the branding schema allows no other)")
    return value


def _kind(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if not isinstance(value, str) else repr(value)


def _table(key: str, value: Any, allowed: tuple[str, ...],
           required: tuple[str, ...] = ()) -> dict[str, Any]:
    """`value` as a table of the `allowed` keys, with every `required` one."""
    if not isinstance(value, dict):
        raise SettingError(f"{key}: expected a table, got {_kind(value)}")
    for name in value:
        if name not in allowed:
            raise SettingError(f"{key}.{name}: unknown key (expected {', '.join(allowed)})")
    for name in required:
        if name not in value:
            raise SettingError(f"{key}.{name}: missing (required)")
    return value


# --------------------------------------------------------------------------- tables


def _text_and_links(key: str, value: Any) -> TextAndLinks:
    table = _table(key, value, ("text", "url"))
    if not table:
        raise SettingError(f"{key}: give a text, a url or both")
    return TextAndLinks(_many(f"{key}.text", table["text"], _text) if "text" in table else (),
                        _many(f"{key}.url", table["url"], _uri) if "url" in table else ())


def _eprints(key: str, value: Any) -> Eprints:
    table = _table(key, value, ("content", "metadata_policy", "data_policy",
                                "submission_policy", "comment"),
                   ("metadata_policy", "data_policy"))

    def optional(name: str) -> TextAndLinks | None:
        return _text_and_links(f"{key}.{name}", table[name]) if name in table else None

    return Eprints(
        metadata_policy=_text_and_links(f"{key}.metadata_policy", table["metadata_policy"]),
        data_policy=_text_and_links(f"{key}.data_policy", table["data_policy"]),
        content=optional("content"), submission_policy=optional("submission_policy"),
        comments=_many(f"{key}.comment", table["comment"], _text) if "comment" in table else ())


def _friends(key: str, value: Any) -> tuple[str, ...]:
    table = _table(key, value, ("base_urls",), ("base_urls",))
    urls = table["base_urls"]
    if not isinstance(urls, list) or not urls:
        raise SettingError(f"{key}.base_urls: expected a list of at least one base URL")
    return _many(f"{key}.base_urls", urls, _uri)


def _branding(key: str, value: Any) -> Branding:
    table = _table(key, value, ("collection_icon", "metadata_rendering"))
    if not table:
        raise SettingError(f"{key}: give a collection_icon, a metadata_rendering or both")
    icon = None
    if "collection_icon" in table:
        k = f"{key}.collection_icon"
        t = _table(k, table["collection_icon"], ("url", "link", "title", "width", "height"),
                   ("url",))
        icon = CollectionIcon(
            _uri(f"{k}.url", t["url"]),
            _uri(f"{k}.link", t["link"]) if "link" in t else None,
            _text(f"{k}.title", t["title"]) if "title" in t else None,
            _size(f"{k}.width", t["width"]) if "width" in t else None,
            _size(f"{k}.height", t["height"]) if "height" in t else None)
    renderings = table.get("metadata_rendering", [])
    if isinstance(renderings, dict):  # a single [identify.branding.metadata_rendering]
        renderings = [renderings]
    if not isinstance(renderings, list):
        raise SettingError(f"{key}.metadata_rendering: expected a table or an array of tables")
    out = []
    for i, item in enumerate(renderings):
        k = f"{key}.metadata_rendering[{i}]"
        t = _table(k, item, ("url", "metadata_namespace", "mime_type"),
                   ("url", "metadata_namespace", "mime_type"))
        out.append(MetadataRendering(_uri(f"{k}.url", t["url"]),
                                     _uri(f"{k}.metadata_namespace", t["metadata_namespace"],
                                          web=False),
                                     _mime(f"{k}.mime_type", t["mime_type"])))
    return Branding(icon, tuple(out))


def _rights_manifest(key: str, value: Any) -> RightsManifest:
    table = _table(key, value, ("references", "statements"))
    manifest = RightsManifest(
        _many(f"{key}.references", table["references"], _uri) if "references" in table else (),
        _many(f"{key}.statements", table["statements"], _text) if "statements" in table else ())
    if not manifest.references and not manifest.statements:
        raise SettingError(f"{key}: give references, statements or both")
    return manifest


def parse_identify(value: Any) -> Descriptions:
    """The `[identify]` table: its `eprints`, `friends`, `branding` and `rights` tables."""
    table = _table("identify", value, ("eprints", "friends", "branding", "rights"))
    return Descriptions(
        eprints=_eprints("identify.eprints", table["eprints"]) if "eprints" in table else None,
        friends=_friends("identify.friends", table["friends"]) if "friends" in table else (),
        branding=(_branding("identify.branding", table["branding"]) if "branding" in table
                  else None),
        rights=(_rights_manifest("identify.rights", table["rights"]) if "rights" in table
                else None))


def parse_about(value: Any) -> AboutRights | None:
    """The `[about]` table: its `rights` table, or None (no about containers)."""
    table = _table("about", value, ("rights",))
    if "rights" not in table:
        return None
    key = "about.rights"
    t = _table(key, table["rights"], ("from_licence", "reference", "statement"))
    if "reference" in t and "statement" in t:
        raise SettingError(f"{key}.statement: give a reference or a statement, not both")
    rights = AboutRights(
        _bool(f"{key}.from_licence", t["from_licence"]) if "from_licence" in t else False,
        _uri(f"{key}.reference", t["reference"]) if "reference" in t else None,
        _text(f"{key}.statement", t["statement"]) if "statement" in t else None)
    if not (rights.from_licence or rights.reference or rights.statement):
        raise SettingError(f"{key}: set from_licence = true, a reference or a statement")
    return rights


__all__ = [
    "AboutRights",
    "Branding",
    "CollectionIcon",
    "Descriptions",
    "Eprints",
    "MetadataRendering",
    "RightsManifest",
    "SettingError",
    "TextAndLinks",
    "parse_about",
    "parse_identify",
]
