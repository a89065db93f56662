"""The peers of bench/harvest.py, each run as a whole process: Sickle writing a file, and a
bare requests + lxml loop writing a file. Nothing of the project is imported here, so their
start-up is theirs alone.

    python bench/harvest_clients.py sickle|bare URL WORKDIR

prints `{"records": N}` as its last line.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

OAI_NS = "{http://www.openarchives.org/OAI/2.0/}"
HTTP_TIMEOUT = 60.0


def _durable(path: Path) -> None:
    """fsync a written file and its directory: the same durability for every client."""
    with path.open("rb") as fh:
        os.fsync(fh.fileno())
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def run_sickle(url: str, workdir: Path) -> int:
    """What users do today: iterate Sickle's records and write each one's XML to a file."""
    from sickle import Sickle

    count = 0
    target = workdir / "records.xml"
    with target.open("w", encoding="utf-8") as out:
        records = Sickle(url, timeout=HTTP_TIMEOUT).ListRecords(
            metadataPrefix="oai_dc", ignore_deleted=False)
        for record in records:
            out.write(record.raw)
            out.write("\n")
            count += 1
    _durable(target)
    return count


def _write_records(list_records: Any, out: Any) -> int:
    from lxml import etree

    count = 0
    for record in list_records.iterfind(f"{OAI_NS}record"):
        header = record.find(f"{OAI_NS}header")
        identifier = header.findtext(f"{OAI_NS}identifier")
        metadata = record.find(f"{OAI_NS}metadata")
        payload = b"" if metadata is None or not len(metadata) else etree.tostring(metadata[0])
        out.write(identifier.encode() + b"\t" + payload + b"\n")
        count += 1
    return count


def run_bare(url: str, workdir: Path) -> int:
    """The ceiling: fetch, parse with lxml, write each record, follow the token."""
    import requests
    from lxml import etree

    session = requests.Session()
    params = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    count = 0
    target = workdir / "records.xml"
    with target.open("wb") as out:
        while True:
            response = session.get(url, params=params, timeout=HTTP_TIMEOUT)
            response.raise_for_status()
            root = etree.fromstring(response.content)
            list_records = root.find(f"{OAI_NS}ListRecords")
            if list_records is None:
                raise RuntimeError(f"no ListRecords in {response.content[:300]!r}")
            count += _write_records(list_records, out)
            token = (list_records.findtext(f"{OAI_NS}resumptionToken") or "").strip()
            if not token:
                break
            params = {"verb": "ListRecords", "resumptionToken": token}
    _durable(target)
    return count


RUNNERS: dict[str, Callable[[str, Path], int]] = {"sickle": run_sickle, "bare": run_bare}


def main(argv: list[str]) -> int:
    name, url, workdir = argv
    print(json.dumps({"records": RUNNERS[name](url, Path(workdir))}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
