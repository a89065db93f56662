"""What is wrong with a RIOXX record written in the profile's example spelling.

The RIOXX v3.0 profile pages print their example records with the root <rioxx> in no namespace
and rioxxterms bound to http://docs.rioxx.net/schema/v3.0/rioxxterms/; DSpace emits the same.
The official XSD declares neither: its root is in http://www.rioxx.net/schema/v3.0/rioxx/ and
its terms in http://www.rioxx.net/schema/v3.0/rioxxterms/. A validator only sees "no schema for
this namespace" or "element not expected"; `diagnose` names the spelling problem instead
(consulted through `Format.diagnose` by oai.validation)."""

from __future__ import annotations

from typing import Any

from lxml import etree

from oai.formats.rioxx.namespaces import DOCS_RIOXXTERMS, RIOXX, RIOXXTERMS

PREFIX = "RIOXX record in the profile's example spelling"


def diagnose(element: Any) -> str | None:
    """The spelling problems of `element` if it is a RIOXX record spelt as the profile's
    examples are, else None."""
    if not isinstance(element.tag, str):
        return None
    name = etree.QName(element)
    if name.localname != "rioxx" or name.namespace not in (None, RIOXX):
        return None
    problems = []
    if name.namespace is None:
        problems.append(f"root <rioxx> has no namespace; the RIOXX v3.0 XSD requires {RIOXX}")
    docs = sum(1 for e in element.iter() if isinstance(e.tag, str)
               and etree.QName(e).namespace == DOCS_RIOXXTERMS)
    if docs:
        problems.append(f"{docs} rioxxterms element(s) in {DOCS_RIOXXTERMS}; the RIOXX v3.0 "
                        f"XSD declares them in {RIOXXTERMS}")
    return f"{PREFIX}: {'; '.join(problems)}" if problems else None
