"""Writing harvested records out: JSONL (one object per record) or one OAI-PMH XML document.

Both stream: records come from the store in bounded batches and are written one at a time.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable
from typing import IO

from oai.protocol.datestamps import format_datestamp
from oai.protocol.namespaces import OAI, OAI_SCHEMA_URL, XSI
from oai.protocol.xmltext import escape_text
from oai.store.harvest import HarvestedRow


def write_jsonl(rows: Iterable[HarvestedRow], out: IO[bytes], base_url: str) -> int:
    """`identifier`, `datestamp`, `deleted`, `sets`, `metadata` (raw XML string or null)."""
    count = 0
    for row in rows:
        obj = {"identifier": row.identifier, "datestamp": row.datestamp,
               "deleted": row.deleted, "sets": list(row.set_specs), "metadata": row.metadata}
        out.write(json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n")
        count += 1
    return count


def write_xml(rows: Iterable[HarvestedRow], out: IO[bytes], base_url: str) -> int:
    """A ListRecords response document holding every record, metadata as received; with no
    record, the noRecordsMatch answer (a ListRecords element must hold a record)."""
    remaining = iter(rows)
    first = next(remaining, None)
    out.write(
        ('<?xml version="1.0" encoding="UTF-8"?>\n'
         f'<OAI-PMH xmlns="{OAI}" xmlns:xsi="{XSI}" '
         f'xsi:schemaLocation="{OAI} {OAI_SCHEMA_URL}">'
         f"<responseDate>{format_datestamp(int(time.time()))}</responseDate>"
         f'<request verb="ListRecords">{escape_text(base_url)}</request>').encode())
    if first is None:
        out.write(b'<error code="noRecordsMatch">no record has been harvested from this '
                  b"source</error></OAI-PMH>\n")
        return 0
    out.write(b"<ListRecords>")
    count = 0
    for row in itertools.chain([first], remaining):
        status = ' status="deleted"' if row.deleted else ""
        specs = "".join(f"<setSpec>{escape_text(s)}</setSpec>" for s in row.set_specs)
        header = (f"<header{status}><identifier>{escape_text(row.identifier)}</identifier>"
                  f"<datestamp>{escape_text(row.datestamp)}</datestamp>{specs}</header>")
        metadata = "" if row.deleted or not row.metadata else f"<metadata>{row.metadata}</metadata>"
        out.write(f"<record>{header}{metadata}</record>\n".encode())
        count += 1
    out.write(b"</ListRecords></OAI-PMH>\n")
    return count
