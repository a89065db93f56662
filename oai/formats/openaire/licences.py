"""Licence names for oaire:licenseCondition, whose value is "the name of the license" and
whose uri attribute is where it can be read: Creative Commons names are read from the URL
(licence, version, and 'International' for 4.0), a few other common licences are listed;
any other licence is named by its URL."""

from __future__ import annotations

import re

_CC = re.compile(
    r"^https?://(?:www\.)?creativecommons\.org/(licenses|publicdomain)/([a-z-]+)/"
    r"(\d\.\d)(?:/([a-z]{2}))?/?(?:legalcode(?:\.[a-z-]+)?)?$", re.I)

_CC_PARTS = {"by": "Attribution", "nc": "NonCommercial", "nd": "NoDerivatives",
             "sa": "ShareAlike"}

_OTHERS: dict[str, str] = {
    "opensource.org/licenses/mit": "MIT License",
    "www.apache.org/licenses/license-2.0": "Apache License 2.0",
    "www.gnu.org/licenses/gpl-3.0": "GNU General Public License v3.0",
    "www.nationalarchives.gov.uk/doc/open-government-licence/version/3":
        "Open Government Licence v3.0",
    "rightsstatements.org/vocab/inc/1.0": "In Copyright",
    "rightsstatements.org/page/inc/1.0": "In Copyright",
}


def licence_name(url: str) -> str:
    """A human name for the licence at `url` (the URL itself when it is not a known one)."""
    cc = _CC.match(url.strip())
    if cc:
        kind, code, version, port = cc.groups()
        code = code.lower()
        if kind.lower() == "publicdomain":
            if code == "zero":
                return f"CC0 {version} Universal"
            if code == "mark":
                return f"Public Domain Mark {version}"
        elif all(part in _CC_PARTS for part in code.split("-")):
            parts = "-".join(_CC_PARTS[p] for p in code.split("-"))
            suffix = " International" if version == "4.0" and not port else ""
            ported = f" ({port.upper()})" if port else ""
            return f"Creative Commons {parts} {version}{suffix}{ported}"
    key = re.sub(r"^https?://", "", url.strip(), flags=re.I).rstrip("/").lower()
    key = re.sub(r"\.(html?|txt|php)$", "", key)
    return _OTHERS.get(key) or _OTHERS.get(f"www.{key}") or url
