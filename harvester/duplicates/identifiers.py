"""Persistent identifiers, detected and normalised by `idutils` (a well-kept library that knows
each scheme's syntax and check digits), so that `doi:10.1/X`, `https://doi.org/10.1/x` and
`10.1/X` compare equal.

What is ours is only policy: which schemes count (those naming a work: DOI, Handle, arXiv,
PMID, PMCID, ISBN, URN), how a value free text found is trusted (a bare number is a PMID to
idutils, a bare `1234.5678` an arXiv id: without a prefix, a resolver URL or a typed field
saying so, such values are not taken), which resolver URLs lead to an identifier (those of
idutils' own landing-page table, plus the older spellings repositories still write), and the
canonical spelling compared (DOIs and Handles are case-insensitive, an arXiv id's version
suffix names a version of the same work, ISBN-10 becomes ISBN-13 without hyphens).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import idutils
from idutils.normalizers import IDUTILS_LANDING_URLS

SCHEMES = ("doi", "handle", "arxiv", "pmid", "pmcid", "isbn", "urn")

# schemes idutils would find in text that is really something else: only taken when the
# value says which scheme it is (a prefix), came from a resolver URL, or from a typed field
_NEEDS_EVIDENCE = {"pmid": ("pmid:",), "arxiv": ("arxiv:",), "handle": ("hdl:", "handle:")}

# resolver URL prefixes (host and path, without http(s)://) -> the scheme of what follows
_RESOLVERS: dict[str, str] = {
    template.split("://", 1)[1].split("{pid}", 1)[0]: scheme
    for scheme, template in IDUTILS_LANDING_URLS.items() if scheme in SCHEMES}
_RESOLVERS.update({  # spellings older than idutils' table, still common in harvested records
    "dx.doi.org/": "doi", "www.doi.org/": "doi", "arxiv.org/pdf/": "arxiv",
    "export.arxiv.org/abs/": "arxiv", "www.arxiv.org/abs/": "arxiv",
    "www.ncbi.nlm.nih.gov/pubmed/": "pmid", "ncbi.nlm.nih.gov/pubmed/": "pmid",
    "www.ncbi.nlm.nih.gov/pmc/articles/": "pmcid", "europepmc.org/abstract/MED/": "pmid",
    "europepmc.org/article/MED/": "pmid", "hdl.handle.net/": "handle",
    "nbn-resolving.de/": "urn", "urn.nb.no/": "urn", "urn.fi/": "urn",
})

_RESOLVER_HOSTS = frozenset(prefix.split("/", 1)[0].lower() for prefix in _RESOLVERS)

# how typed fields name schemes (DataCite identifierType, MODS @type, MARC 024 $2)
TYPE_NAMES = {"doi": "doi", "hdl": "handle", "handle": "handle", "arxiv": "arxiv",
              "pmid": "pmid", "pubmed": "pmid", "pmcid": "pmcid", "pmc": "pmcid",
              "isbn": "isbn", "urn": "urn"}


_WEB = ("http://", "https://", "ftp://")
_PREFIXED = ("urn:", "arxiv:", "pmid:")
# ten or thirteen digits (hyphens between, a final X): an ISBN inside text, which idutils finds
_ISBN_IN_TEXT = re.compile(r"(?<![\d-])(?:\d-?){9}[\dXx](?:-?\d){0,3}(?![\d-])")


def _may_name_a_work(text: str, lowered: str) -> bool:
    """A cheap necessary condition for idutils to find one of SCHEMES in an untyped value
    (its scheme detection tries every pattern it knows and costs ~200 us a value): DOIs,
    Handles and old-style arXiv ids hold a '/', a URN, a new-style arXiv id or a PMID must be
    prefixed here, a PMCID says PMC, and an ISBN (which idutils also finds inside text such
    as `0751362344 (pbk.)`) holds at least nine digits; none is more than two words."""
    if sum(1 for word in text.split(" ", 3) if not word.isascii() or
           any(c.isalpha() for c in word)) > 2 and not _ISBN_IN_TEXT.search(text):
        return False  # words: a citation or a sentence, holding no ISBN
    return ("/" in text or lowered.startswith(_PREFIXED) or "pmc" in lowered
            or sum(c.isdigit() for c in text) >= 9)


def _from_url(value: str) -> tuple[str, str] | None:
    """(scheme, identifier) when `value` is a resolver URL; None otherwise."""
    if not value[:8].lower().startswith(("http://", "https://")):
        return None  # most values: no need to parse them as a URL
    host = value.split("://", 1)[1]
    for end in "/?#":
        host = host.split(end, 1)[0]
    if host.lower() not in _RESOLVER_HOSTS:
        return None  # a landing page, not a resolver: no need to parse it further
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    rest = parts.netloc.lower() + parts.path
    for prefix, scheme in _RESOLVERS.items():
        if rest.lower().startswith(prefix.lower()):
            pid = unquote(rest[len(prefix):]).strip("/")
            if scheme == "arxiv" and pid.lower().endswith(".pdf"):
                pid = pid[:-4]
            return (scheme, pid) if pid else None
    return None


def _canonical(scheme: str, value: str) -> str | None:
    """idutils' normal form, made comparable; None if idutils rejects it."""
    try:
        pid = idutils.normalize_pid(value, scheme)
    except Exception:  # a value idutils detects but cannot normalise: not an identifier
        return None
    if not pid:
        return None
    if scheme in ("doi", "handle", "urn"):
        return str(pid).lower()
    if scheme == "arxiv":
        pid = str(pid)[len("arXiv:"):] if str(pid).startswith("arXiv:") else str(pid)
        head, _, version = pid.rpartition("v")
        return (head if head and version.isdigit() else pid).lower()
    if scheme == "isbn":
        return str(pid).replace("-", "")
    if scheme == "pmcid":
        return str(pid).upper()
    if scheme == "pmid":
        return str(int(pid)) if str(pid).isdigit() else None
    return str(pid)


def normalise(value: str, typed: str | None = None) -> list[tuple[str, str]]:
    """The (scheme, canonical value) pairs `value` names: usually none or one.

    `typed` is a scheme a typed field declares (a key of TYPE_NAMES, any case); a value from
    such a field needs no prefix to be believed."""
    text = " ".join(value.split())
    if not text or len(text) > 500:
        return []
    hint = TYPE_NAMES.get(typed.lower()) if typed else None
    resolved = _from_url(text)
    if resolved is not None:
        hint, text = resolved
    lowered = text.lower()
    if hint is None and lowered.startswith(_WEB):
        return []  # a web address that is no resolver's: a landing page, not an identifier
    if lowered.startswith("info:doi/"):  # the info URI spelling of a DOI
        hint, text = "doi", text[len("info:doi/"):]
    elif lowered.startswith("isbn"):
        text = text[4:].lstrip(": ")
        hint = hint or "isbn"
    if hint is None and not _may_name_a_work(text, lowered):
        return []
    try:
        if hint == "doi":  # detection never filters a DOI out: its own test says the same
            found = ["doi"] if idutils.is_doi(text) else []
        else:
            found = [s for s in idutils.detect_identifier_schemes(text) if s in SCHEMES]
    except Exception:  # idutils raising on odd input: nothing recognised
        return []
    if hint is not None:
        if hint not in found and hint in ("arxiv", "pmid", "handle", "pmcid"):
            # a typed or resolved value may lack the prefix idutils needs to be sure
            prefixed = {"arxiv": "arXiv:", "pmid": "pmid:", "handle": "hdl:"}.get(hint, "")
            if prefixed and hint in idutils.detect_identifier_schemes(prefixed + text):
                text, found = prefixed + text, [hint]
        found = [hint] if hint in found else []
    elif "doi" in found:
        found = ["doi"]  # a DOI is also a syntactically valid Handle: it is a DOI
    else:
        found = [s for s in found
                 if s not in _NEEDS_EVIDENCE or lowered.startswith(_NEEDS_EVIDENCE[s])]
    pairs = []
    for scheme in found:
        canonical = _canonical(scheme, text)
        if canonical:
            pairs.append((scheme, canonical))
    return pairs
