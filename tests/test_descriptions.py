"""Identify descriptions and record about containers: read from oai.toml, refused in one line
naming the key when bad (by `oai serve` too), and served schema-valid (every response goes
through `validate_response`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from oai.config import ConfigError, load_config
from oai.description_config import (
    AboutRights,
    Branding,
    Descriptions,
    MetadataRendering,
    SettingError,
)
from oai.protocol import namespaces as ns
from oai.protocol.descriptions import check_descriptions
from oai.provider.app import create_app
from oai.store.repository import Store
from tests.conftest import NS, OAIClient, make_config, put, record
from tests.serving import OAI

CC_BY = "https://creativecommons.org/licenses/by/4.0/"
FULL = """
repository_identifier = "test.example.org"

[identify.eprints]
content = { text = ["Research outputs", "in English"], url = "https://repo.example.org/about" }
metadata_policy = { text = "Metadata may be reused under CC0." }
data_policy = { url = "https://repo.example.org/policies/data" }
submission_policy = { url = "https://repo.example.org/deposit", text = "Staff only" }
comment = ["Contact the library", "Open access team"]

[identify.friends]
base_urls = ["https://other.example.org/oai", "http://third.example.org/cgi/oai2"]

[identify.branding.collection_icon]
url = "https://repo.example.org/logo.png"
link = "https://repo.example.org/"
title = "Example Repository"
width = 88
height = 31

[[identify.branding.metadata_rendering]]
url = "https://repo.example.org/dc.xsl"
metadata_namespace = "http://www.openarchives.org/OAI/2.0/oai_dc/"
mime_type = "text/xsl"

[identify.rights]
references = ["https://creativecommons.org/publicdomain/zero/1.0/"]
statements = ["Metadata may be reused in any medium without prior permission."]

[about.rights]
from_licence = true
statement = "All rights reserved unless a licence says otherwise."
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "oai.toml"
    path.write_text(text)
    return path


def test_full_settings_are_read(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    eprints = config.identify.eprints
    assert eprints is not None and eprints.content is not None
    assert eprints.content.texts == ("Research outputs", "in English")
    assert eprints.data_policy.urls == ("https://repo.example.org/policies/data",)
    assert eprints.comments == ("Contact the library", "Open access team")
    assert config.identify.friends == ("https://other.example.org/oai",
                                       "http://third.example.org/cgi/oai2")
    branding = config.identify.branding
    assert branding is not None and branding.collection_icon is not None
    assert (branding.collection_icon.width, branding.collection_icon.height) == (88, 31)
    assert branding.metadata_renderings[0].mime_type == "text/xsl"
    assert config.identify.rights is not None
    assert config.about_rights == AboutRights(True, None, "All rights reserved unless a "
                                              "licence says otherwise.")
    check_descriptions(config.identify, config.about_rights)


def test_defaults_are_off(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, 'repository_name = "x"\n'))
    assert config.identify == Descriptions()
    assert config.about_rights is None
    assert config.stylesheet is True


BAD: list[tuple[str, str, str]] = [
    ("[identify.eprints]\ndata_policy = { url = 'https://a.example.org/' }\n",
     "identify.eprints.metadata_policy", "missing"),
    ("[identify.eprints]\nmetadata_policy = {}\ndata_policy = { text = 'x' }\n",
     "identify.eprints.metadata_policy", "text, a url or both"),
    ("[identify.eprints]\nmetadata_policy = { text = 'x' }\ndata_policy = { url = 'x y' }\n",
     "identify.eprints.data_policy.url", "not a valid URL"),
    ("[identify.eprints]\nmetadata_policy = { text = 'x', lang = 'en' }\n"
     "data_policy = { text = 'x' }\n", "identify.eprints.metadata_policy.lang", "unknown key"),
    ("[identify.friends]\nbase_urls = ['https://a.example.org/oai', 'ftp://b.example.org/']\n",
     "identify.friends.base_urls[1]", "http(s)"),
    ("[identify.friends]\nbase_urls = []\n", "identify.friends.base_urls", "at least one"),
    ("[identify.friends]\nurls = ['https://a.example.org/oai']\n", "identify.friends.urls",
     "unknown key"),
    ("[identify.branding.collection_icon]\ntitle = 'Logo'\n",
     "identify.branding.collection_icon.url", "missing"),
    ("[identify.branding.collection_icon]\nurl = 'https://a.example.org/i.png'\nwidth = 0\n",
     "identify.branding.collection_icon.width", "positive"),
    ("[identify.branding.collection_icon]\nurl = 'https://a.example.org/[i].png'\n",
     "identify.branding.collection_icon.url", "brackets"),
    ("[[identify.branding.metadata_rendering]]\nurl = 'https://a.example.org/x.xsl'\n"
     "metadata_namespace = 'http://www.openarchives.org/OAI/2.0/oai_dc/'\n"
     "mime_type = 'application/xslt+xml'\n",
     "identify.branding.metadata_rendering[0].mime_type", "lower-case letters"),
    ("[[identify.branding.metadata_rendering]]\nurl = 'https://a.example.org/x.xsl'\n"
     "mime_type = 'text/xsl'\n",
     "identify.branding.metadata_rendering[0].metadata_namespace", "missing"),
    ("[identify.rights]\n", "identify.rights", "references, statements or both"),
    ("[identify.rights]\nreferences = 'https://a.example.org/%zz'\n",
     "identify.rights.references", "not a valid URL"),
    ("[identify.licence]\nurl = 'https://a.example.org/'\n", "identify.licence",
     "unknown key"),
    ("[about.rights]\n", "about.rights", "from_licence"),
    ("[about.rights]\nfrom_licence = 'yes'\n", "about.rights.from_licence", "true or false"),
    ("[about.rights]\nreference = 'https://a.example.org/'\nstatement = 'x'\n",
     "about.rights.statement", "not both"),
    ("[about.rights]\nstatement = ''\n", "about.rights.statement", "non-empty"),
    ("[about]\nlicence = true\n", "about.licence", "unknown key"),
]


@pytest.mark.parametrize(("toml", "key", "why"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_settings_are_one_line_naming_the_key(tmp_path: Path, toml: str, key: str,
                                                  why: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, toml))
    message = str(info.value)
    assert "\n" not in message
    assert f": {key}: " in message or f": {key}." in message or message.endswith(key), message
    assert why in message


@pytest.mark.parametrize(("toml", "key", "why"), [BAD[0], BAD[4], BAD[10], BAD[16]],
                         ids=["eprints", "friends", "branding", "about"])
def test_oai_serve_refuses_bad_settings(tmp_path: Path, toml: str, key: str,
                                        why: str) -> None:
    config = write(tmp_path, toml)
    done = subprocess.run([OAI, "--config", str(config), "serve", "--port", "1"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin"})
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    assert key in lines[0] and why in lines[0]
    assert "Traceback" not in done.stderr


def test_schema_check_names_the_table() -> None:
    """A value that got past the settings' checks (here: built by hand) is still refused
    before serving, by the schemas themselves."""
    bad = Descriptions(branding=Branding(metadata_renderings=(
        MetadataRendering("https://a.example.org/x.xsl", ns.OAI_DC, "Text/XSL"),)))
    with pytest.raises(SettingError, match=r"^identify\.branding: .*mimeType"):
        check_descriptions(bad, None)
    with pytest.raises(SettingError, match=r"^about\.rights: "):
        check_descriptions(Descriptions(), AboutRights(reference="http://[::1"))


# --------------------------------------------------------------------------- served


@pytest.fixture
def full(store: Store, tmp_path: Path) -> OAIClient:
    loaded = load_config(write(tmp_path, FULL))
    config = make_config(identify=loaded.identify, about_rights=loaded.about_rights)
    return OAIClient(create_app(config, store).test_client())


def test_identify_serves_every_description(full: OAIClient) -> None:
    root = full(verb="Identify")
    payloads = [d[0] for d in root.iterfind("o:Identify/o:description", NS)]
    assert [p.tag for p in payloads] == [
        f"{{{ns.OAI_IDENTIFIER}}}oai-identifier", f"{{{ns.EPRINTS}}}eprints",
        f"{{{ns.FRIENDS}}}friends", f"{{{ns.BRANDING}}}branding",
        f"{{{ns.RIGHTS}}}rightsManifest"]
    e = {"e": ns.EPRINTS, "f": ns.FRIENDS, "b": ns.BRANDING, "r": ns.RIGHTS, "dc": ns.DC}
    eprints, friends, branding, manifest = payloads[1:]
    assert [t.text for t in eprints.iterfind("e:content/e:text", e)] == \
        ["Research outputs", "in English"]
    assert eprints.findtext("e:dataPolicy/e:URL", namespaces=e) == \
        "https://repo.example.org/policies/data"
    assert [c.text for c in eprints.iterfind("e:comment", e)] == \
        ["Contact the library", "Open access team"]
    assert [u.text for u in friends.iterfind("f:baseURL", e)] == \
        ["https://other.example.org/oai", "http://third.example.org/cgi/oai2"]
    assert branding.findtext("b:collectionIcon/b:width", namespaces=e) == "88"
    rendering = branding.find("b:metadataRendering", e)
    assert rendering is not None and rendering.get("mimeType") == "text/xsl"
    assert manifest.get("appliesTo") == ns.RIGHTS_APPLIES_TO_METADATA
    assert manifest.find("r:rights/r:rightsReference", e).get("ref") == \
        "https://creativecommons.org/publicdomain/zero/1.0/"
    assert manifest.findtext(".//dc:rights", namespaces=e).startswith("Metadata may be reused")
    for payload in payloads:  # each names its schema, as validators expect
        location = payload.get(f"{{{ns.XSI}}}schemaLocation")
        assert location is not None
        assert location.split()[0] == etree_namespace(payload.tag)


def etree_namespace(tag: str) -> str:
    return tag[1:].split("}")[0]


def test_about_rights_from_the_licence_else_the_statement(full: OAIClient,
                                                          store: Store) -> None:
    put(store, record("lic", rights={"licence": CC_BY}), record("none"),
        record("gone", rights={"licence": CC_BY}))
    store.delete(["gone"])
    r = {"r": ns.RIGHTS, "dc": ns.DC}
    records = full.harvest("ListRecords", metadataPrefix="oai_dc")
    by_id = {rec.findtext("o:header/o:identifier", namespaces=NS).rsplit(":", 1)[1]: rec
             for rec in records}
    assert set(by_id) == {"lic", "none", "gone"}
    about = by_id["lic"].findall("o:about", NS)
    assert len(about) == 1
    assert about[0].find("r:rights/r:rightsReference", r).get("ref") == CC_BY
    assert by_id["none"].findtext("o:about/r:rights/r:rightsDefinition//dc:rights",
                                  namespaces={**NS, **r}) == \
        "All rights reserved unless a licence says otherwise."
    assert by_id["gone"].find("o:about", NS) is None  # a tombstone carries nothing
    one = full(verb="GetRecord", metadataPrefix="oai_dc", identifier="oai:test.example.org:lic")
    assert one.find(".//r:rightsReference", r).get("ref") == CC_BY
    headers = full(verb="ListIdentifiers", metadataPrefix="oai_dc")
    assert headers.find(".//o:about", NS) is None


def test_about_fixed_reference(store: Store) -> None:
    config = make_config(about_rights=AboutRights(reference=CC_BY))
    client = OAIClient(create_app(config, store).test_client())
    put(store, record("a", rights={"licence": "https://example.org/other"}))
    root = client(verb="ListRecords", metadataPrefix="oai_dc")
    refs = [e.get("ref") for e in root.iterfind(f".//{{{ns.RIGHTS}}}rightsReference")]
    assert refs == [CC_BY]  # from_licence is off: the record's own licence is not used


def test_by_default_only_the_oai_identifier_and_no_about(oai: OAIClient, store: Store) -> None:
    put(store, record("a", rights={"licence": CC_BY}))
    root = oai(verb="Identify")
    assert len(root.findall("o:Identify/o:description", NS)) == 1
    assert oai(verb="ListRecords", metadataPrefix="oai_dc").find(".//o:about", NS) is None
