"""The store: SQLAlchemy Core tables, migrations and queries; the only code that runs SQL.

Names are imported on first use, so that `oai.store.errors` (caught by the CLI) can be
imported without SQLAlchemy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {"LoadSummary": "oai.store.repository", "Store": "oai.store.repository",
         "open_engine": "oai.store.engine", "StoreError": "oai.store.errors",
         "ReadOnlyStore": "oai.store.errors"}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'oai.store' has no attribute {name!r}")
    return getattr(import_module(_LAZY[name]), name)
