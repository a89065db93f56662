"""Canonical forms the store compares and indexes by: a record's JSON text (its hash decides
whether a write changed anything) and the ancestors a setSpec implies. Standard library only:
the store imports this without loading schemas or crosswalks."""

from __future__ import annotations

import json
from typing import Any


def canonical_json(record: dict[str, Any]) -> str:
    """Sorted keys, no spaces, Unicode as is: the same record always gives the same text."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def set_ancestors(spec: str) -> list[str]:
    """`a:b:c` -> [`a`, `a:b`, `a:b:c`]: membership in a set implies its ancestors."""
    parts = spec.split(":")
    return [":".join(parts[: i + 1]) for i in range(len(parts))]
