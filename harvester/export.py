"""Writing harvested records out: JSONL (one object per record) or one OAI-PMH XML document.

Both stream: records come from the store in bounded batches and are written one at a time.
The XML document is written with the same writer as the provider's responses, so it is a
valid ListRecords response (or, for a source with nothing harvested, a noRecordsMatch one).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable
from typing import IO

from oai.protocol.datestamps import InvalidDate, format_datestamp, parse_protocol_date
from oai.protocol.writer import CLOSE, error_elements, header, open_envelope
from oai.store.harvest import HarvestedRow


def write_jsonl(rows: Iterable[HarvestedRow], out: IO[bytes]) -> int:
    """`identifier`, `datestamp`, `deleted`, `sets`, `metadata` (raw XML string or null)."""
    count = 0
    for row in rows:
        obj = {"identifier": row.identifier, "datestamp": row.datestamp,
               "deleted": row.deleted, "sets": list(row.set_specs), "metadata": row.metadata}
        out.write(json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n")
        count += 1
    return count


def write_xml(rows: Iterable[HarvestedRow], out: IO[bytes], base_url: str,
              prefix: str) -> int:
    """A ListRecords response document holding every record, metadata as received."""
    remaining = iter(rows)
    first = next(remaining, None)
    request = {"verb": "ListRecords", "metadataPrefix": prefix}
    out.write(open_envelope(int(time.time()), base_url, request).encode("utf-8"))
    if first is None:
        out.write((error_elements([("noRecordsMatch", "no record has been harvested from "
                                                      "this source")]) + CLOSE).encode())
        return 0
    out.write(b"<ListRecords>")
    count = 0
    for row in itertools.chain([first], remaining):
        head = header(row.identifier, _datestamp(row), row.deleted, row.set_specs)
        if row.deleted or not row.metadata:
            out.write(b"<record>%s</record>\n" % head)
        else:
            out.write(b"<record>%s<metadata>%s</metadata></record>\n"
                      % (head, row.metadata.encode("utf-8")))
        count += 1
    out.write(b"</ListRecords>" + CLOSE.encode())
    return count


def _datestamp(row: HarvestedRow) -> str:
    """The datestamp as received when it is a protocol date, else normalised (a server's
    "2024-01-01 10:00:00" would make the document invalid)."""
    try:
        parse_protocol_date(row.datestamp)
    except InvalidDate:
        if row.datestamp_epoch is not None:
            return format_datestamp(row.datestamp_epoch)
    return row.datestamp
