"""A third-party metadata format, as a real distribution on PYTHONPATH (a test helper): the
`demo` format registers under the `oai.formats` entry-point group exactly as an outside
package would, with its own XSD and catalog. Its version and its rendering of titles can be
changed through environment variables, so that `oai formats rebuild` has something to do."""

from __future__ import annotations

from pathlib import Path

NAMESPACE = "urn:example:demo"
SCHEMA_URL = "http://example.org/schemas/demo.xsd"

MODULE = '''
"""The demo format: a title and a DOI, for records that have a DOI."""
import os
from pathlib import Path

from oai.formats import Format
from oai.protocol.xmltext import escape_text

HERE = Path(__file__).resolve().parent


def crosswalk(record):
    title = record["titles"][0]["text"]
    if os.environ.get("DEMO_TITLE_STYLE") == "upper" and record["id"].endswith(("0", "5")):
        title = title.upper()
    return ('<demo:item xmlns:demo="urn:example:demo">'
            f'<demo:title>{escape_text(title)}</demo:title>'
            f'<demo:doi>{escape_text(record["doi"])}</demo:doi></demo:item>')


def requires(record):
    return None if record.get("doi") else "a DOI is required"


FORMAT = Format(prefix="demo", namespace="urn:example:demo",
                schema_location="http://example.org/schemas/demo.xsd",
                version=os.environ.get("DEMO_FORMAT_VERSION", "1"),
                catalog=HERE / "demo_xsd" / "catalog.xml", crosswalk=crosswalk,
                requires=requires, label="Demo")
'''

XSD = '''<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:example:demo"
           xmlns="urn:example:demo" elementFormDefault="qualified">
  <xs:element name="item">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="title" type="xs:string"/>
        <xs:element name="doi" type="xs:string"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
'''

CATALOG = '''<?xml version="1.0" encoding="UTF-8"?>
<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">
  <uri name="http://example.org/schemas/demo.xsd" uri="demo.xsd"/>
</catalog>
'''


def install(root: Path) -> Path:
    """Write the distribution into `root` (to be put on sys.path / PYTHONPATH)."""
    (root / "demo_format.py").write_text(MODULE)
    xsd = root / "demo_xsd"
    xsd.mkdir()
    (xsd / "demo.xsd").write_text(XSD)
    (xsd / "catalog.xml").write_text(CATALOG)
    info = root / "demo_format-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-format\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[oai.formats]\ndemo = demo_format:FORMAT\n")
    return root
