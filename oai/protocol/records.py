"""The canonical record: validation against `schemas/record.schema.json`.

A record is validated once, when it enters the store; everything downstream (crosswalks,
rendering) may then rely on its shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import fastjsonschema

from oai.paths import schema_dir

Record = dict[str, Any]


class InvalidRecord(ValueError):
    """A record that does not match the record schema; the message says where and why."""


@lru_cache(maxsize=1)
def _validator() -> Callable[[Any], Any]:
    with open(schema_dir() / "record.schema.json", encoding="utf-8") as fh:
        schema = json.load(fh)
    return fastjsonschema.compile(schema)


def validate_record(candidate: Any) -> Record:
    """Return the record (with schema defaults filled in) or raise InvalidRecord."""
    if not isinstance(candidate, dict):
        raise InvalidRecord(f"a record must be a JSON object, not {type(candidate).__name__}")
    try:
        validated = _validator()(candidate)
    except fastjsonschema.JsonSchemaValueException as exc:
        path = exc.name.replace("data", "record", 1) if exc.name else "record"
        raise InvalidRecord(f"{path}: {exc.message.replace(exc.name or '', '').strip()}") from None
    return validated
