"""Where the project's bundled data lives (schemas, fixtures).

The layout keeps `schemas/` and `fixtures/` at the project root, beside the packages; an
installed copy can point elsewhere with `OAI_SCHEMA_DIR`.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def schema_dir() -> Path:
    """The directory of the bundled XSDs, record schema and XML catalog."""
    override = os.environ.get("OAI_SCHEMA_DIR")
    return Path(override) if override else PROJECT_ROOT / "schemas"


def fixtures_dir() -> Path:
    """The directory of the bundled example records."""
    return PROJECT_ROOT / "fixtures"
