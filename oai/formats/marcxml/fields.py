"""Writing MARCXML fields as strings: control fields, data fields with indicators and coded
subfields, and the ISBD punctuation MARC cataloguing puts between subfields."""

from __future__ import annotations

from collections.abc import Iterable

from oai.protocol.xmltext import escape_text

Subfields = Iterable[tuple[str, str | None]]


def control(tag: str, value: str) -> str:
    return f'<controlfield tag="{tag}">{escape_text(value)}</controlfield>'


def field(tag: str, ind1: str, ind2: str, subfields: Subfields) -> str:
    """A data field; subfields whose value is empty or None are left out, and a field left
    with no subfield is not written at all (MARC wants at least one)."""
    body = "".join(f'<subfield code="{code}">{escape_text(value)}</subfield>'
                   for code, value in subfields if value)
    if not body:
        return ""
    return f'<datafield tag="{tag}" ind1="{ind1}" ind2="{ind2}">{body}</datafield>'


def end(text: str, mark: str) -> str:
    """`text` followed by an ISBD mark (" :", " /", ",", "."), unless it already ends with
    that mark or (for a full stop) with other final punctuation."""
    stripped = text.rstrip()
    if mark == ".":
        return stripped if stripped.endswith((".", "?", "!", "-")) else stripped + "."
    return stripped if stripped.endswith(mark.strip()) else stripped + mark


def names_in_order(names: list[str], limit: int = 10) -> str:
    """'A, B and C'; past `limit` names, the first ones and '[and N others]'."""
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" [and {len(names) - limit} others]"
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
