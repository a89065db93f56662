"""The `mods` format: the example article field by field, our MODS 3.7 XSD against the
official one (crosswalk output, real records, broken variants), and the round trip through
the provider."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lxml import etree

from oai.formats import registry
from oai.formats.check import check
from oai.formats.mods.crosswalk import MODS, MODS_SCHEMA_URL
from oai.protocol.rendering import render
from oai.protocol.schemas import SchemaViolation, validate_fragment, validate_response
from oai.store.repository import Store
from tests.conftest import NS, OAIClient, error_codes, put, record
from tests.library_corpus import (
    REAL_RESPONSES,
    corpus,
    example,
    official_response_verdict,
    real_payloads,
    verdicts,
)

M = {"m": MODS, "xlink": "http://www.w3.org/1999/xlink"}


def mods_of(rec: dict[str, Any]) -> etree._Element:
    fragment, reason = render(registry()["mods"], rec)
    assert fragment is not None, reason
    return etree.fromstring(fragment.encode())


def text(root: etree._Element, path: str) -> list[str]:
    return [el if isinstance(el, str) else (el.text or "") for el in root.xpath(path,
                                                                                namespaces=M)]


# --------------------------------------------------------------------------- the example


def test_example_article_field_by_field() -> None:
    root = mods_of(example())
    assert root.get("version") == "3.7"
    assert text(root, "m:titleInfo[not(@type)]/m:title") == [
        "Video Interaction Guidance: a return to traditional values and relationship-based "
        "practice?"]
    maxwell = root.xpath("m:name[m:namePart[@type='family']='Maxwell']", namespaces=M)[0]
    assert maxwell.get("type") == "personal"
    assert text(maxwell, "m:namePart[@type='given']") == ["Nina"]
    assert text(maxwell, "m:role/m:roleTerm[@type='code'][@authority='marcrelator']") == ["aut"]
    assert text(maxwell, "m:role/m:roleTerm[@type='text']") == ["author"]
    assert text(maxwell, "m:affiliation") == ["Cardiff University"]
    assert text(root, "m:name/m:nameIdentifier[@type='orcid']") == [
        "https://orcid.org/0000-0003-3931-7729", "https://orcid.org/0000-0003-2363-4965"]
    funder = root.xpath("m:name[m:role/m:roleTerm='fnd']", namespaces=M)[0]
    assert funder.get("type") == "corporate"
    assert text(funder, "m:namePart") == ["Economic and Social Research Council"]
    assert text(funder, "m:nameIdentifier[@type='fundref']") == [
        "https://doi.org/10.13039/501100000269"]
    assert "ES/P000401/1" in text(root, "m:note[@type='funding']")[0]
    assert text(root, "m:typeOfResource") == ["text"]
    assert text(root, "m:genre[@authority='coar']/@valueURI") == [
        "http://purl.org/coar/resource_type/c_6501"]
    origin = "m:originInfo/"
    assert text(root, origin + "m:publisher") == ["Oxford University Press"]
    assert text(root, origin + "m:place/m:placeTerm") == ["Oxford"]
    assert text(root, origin + "m:dateIssued[@encoding='w3cdtf'][@keyDate='yes']") == ["2019-09"]
    assert text(root, origin + "m:dateOther[@type='accepted']") == ["2019-05-02"]
    assert text(root, origin + "m:dateOther[@type='published online']") == ["2019-06-25"]
    assert text(root, "m:language/m:languageTerm[@authority='iso639-2b'][@type='code']") == [
        "eng"]
    assert text(root, "m:physicalDescription/m:internetMediaType") == ["application/pdf"]
    assert text(root, "m:physicalDescription/m:extent[@unit='pages']") == ["19"]
    assert text(root, "m:abstract[@xml:lang='en']")[0].startswith("Video Interaction Guidance")
    assert text(root, "m:subject[@authority='lcsh']/m:topic") == ["Social service"]
    assert "parenting" in text(root, "m:subject[not(@authority)]/m:topic")
    assert text(root, "m:classification[@authority='local']") == ["HV"]
    host = root.xpath("m:relatedItem[@type='host']", namespaces=M)[0]
    assert text(host, "m:titleInfo/m:title") == ["British Journal of Social Work"]
    assert text(host, "m:identifier[@type='issn']") == ["0045-3102", "1468-263X"]
    assert text(host, "m:part/m:detail[@type='volume']/m:number") == ["49"]
    assert text(host, "m:part/m:detail[@type='issue']/m:number") == ["6"]
    assert text(host, "m:part/m:extent[@unit='pages']/m:start") == ["1415"]
    assert text(host, "m:part/m:extent[@unit='pages']/m:end") == ["1433"]
    assert text(host, "m:part/m:date") == ["2019-09"]
    assert text(root, "m:identifier[@type='doi']") == ["10.1093/bjsw/bcz067"]
    assert text(root, "m:identifier[@type='uri']") == [
        "https://orca.cardiff.ac.uk/id/eprint/123456/"]
    assert text(root, "m:location/m:url[@access='object in context'][@usage='primary display']"
                ) == ["https://orca.cardiff.ac.uk/id/eprint/123456/"]
    pdf = root.xpath("m:location/m:url[@access='raw object']", namespaces=M)
    assert [u.text for u in pdf] == [
        "https://orca.cardiff.ac.uk/id/eprint/123456/1/Maxwell_Rees_VIG_BJSW_AM.pdf"]
    assert pdf[0].get("note").startswith("Accepted manuscript; application/pdf; 314368 bytes")
    licence = root.xpath("m:accessCondition[@type='use and reproduction'][@xlink:href]",
                         namespaces=M)
    assert [a.get(f"{{{M['xlink']}}}href") for a in licence] == [
        "https://creativecommons.org/licenses/by-nc/4.0/"]
    assert "CC BY-NC 4.0" in licence[0].text
    assert text(root, "m:accessCondition[@type='restriction on access']") == ["open access"]
    assert text(root, "m:recordInfo/m:recordIdentifier") == ["123456"]
    assert text(root, "m:recordInfo/m:recordChangeDate") == ["2023-10-04"]


def test_leading_article_goes_to_non_sort_and_thesis_parts() -> None:
    thesis = {"id": "t1", "type": "thesis", "titles": [{"text": "The sea", "lang": "en"},
                                                       {"text": "a study", "kind": "subtitle"}],
              "thesis": {"degree": "PhD", "level": "doctoral", "institution": "Cardiff "
                         "University", "department": "School of Earth Sciences"},
              "dates": {"awarded": "2020-07-01"}, "languages": ["de-CH"],
              "contributors": [{"name": "Roe, R.", "role": "supervisor"}]}
    root = mods_of(thesis)
    assert text(root, "m:titleInfo/m:nonSort") == ["The "]
    assert text(root, "m:titleInfo/m:title") == ["sea"]
    assert text(root, "m:titleInfo/m:subTitle") == ["a study"]
    assert text(root, "m:name[m:role/m:roleTerm='ths']/m:namePart") == ["Roe, R."]
    assert text(root, "m:name[m:role/m:roleTerm='dgg']/m:namePart") == [
        "Cardiff University", "School of Earth Sciences"]
    assert text(root, "m:note[@type='thesis']") == ["Thesis (PhD)--Cardiff University--2020"]
    assert text(root, "m:originInfo/m:dateIssued") == ["2020-07-01"]
    assert text(root, "m:language/m:languageTerm") == ["ger", "de-CH"]
    assert text(root, "m:genre[@authority='coar']") == ["doctoral thesis"]


def test_book_edition_and_isbn() -> None:
    root = mods_of({"id": "b", "type": "book", "titles": [{"text": "Tides"}],
                    "edition": "2nd edition", "isbn": ["978-0-00-000000-2"]})
    assert text(root, "m:originInfo/m:edition") == ["2nd edition"]
    assert text(root, "m:originInfo/m:issuance") == ["monographic"]
    assert text(root, "m:identifier[@type='isbn']") == ["978-0-00-000000-2"]


def test_a_record_without_a_real_title_is_refused() -> None:
    fmt = registry()["mods"]
    assert fmt.unavailable(record("x", title="   ")) == "MODS needs a title (titleInfo/title)"
    assert fmt.unavailable(record("x")) is None


# --------------------------------------------------------------------------- our XSD


def test_every_corpus_record_is_valid_for_both_schemas() -> None:
    fmt = registry()["mods"]
    count = 0
    for rec in corpus():
        assert fmt.unavailable(rec) is None, rec["id"]
        root = etree.fromstring(fmt.crosswalk(rec).encode())
        assert verdicts(MODS_SCHEMA_URL, root) == (True, True), rec["id"]
        count += 1
    assert count > 300


# Real records and what is wrong with them (None = valid), as found in the wild.
REAL_PROBLEMS: dict[str, str | None] = {
    "stanford-purl_doc_mods_hp566jq8781.xml#0": None,
    "marc4j_doc_mods_summerland-converted.xml#0": None,
    "digital-commonwealth_record_mods_creator.xml#0": None,
    "bhl_record_mods_namepart-affiliation.xml#0": "namePart type outside the enumeration",
    "wayne-state_record_mods_michigan-hub.xml#0": "markup inside <geographic>",
}


def test_real_records_get_the_official_verdict() -> None:
    payloads = real_payloads(MODS, "mods")
    assert len(payloads) >= 60  # 60 records of a whole ListRecords response, and 5 documents
    seen = {}
    for name, element in payloads:
        theirs, ours = verdicts(MODS_SCHEMA_URL, element)
        assert theirs is ours, name
        seen[name] = ours
    for name, problem in REAL_PROBLEMS.items():
        assert seen[name] is (problem is None), (name, problem)
    assert all(v for n, v in seen.items() if n.startswith("duepublico"))


def test_a_whole_real_mods_response_gets_the_official_verdict() -> None:
    path = REAL_RESPONSES / "duepublico_ListRecords_mods_oer.xml"
    if not path.is_file():
        pytest.skip(f"real responses not available at {REAL_RESPONSES}")
    data = path.read_bytes()
    assert official_response_verdict(data) is True
    validate_response(data)  # ours: OAI-PMH plus every registered format's schema


def _variant(change: str) -> bytes:
    """The example article's MODS with one change: 'old=>new' (first occurrence); or a
    whole document, when `change` has no '=>'."""
    if "=>" not in change:
        return change.encode()
    root = mods_of(example())
    data = etree.tostring(root).decode()
    old, new = change.split("=>")
    assert old in data, old
    return data.replace(old, new, 1).encode()


# (name, change to the example's MODS, valid?, deviation: our verdict when it differs)
VARIANTS: list[tuple[str, str, bool]] = [
    ("unchanged", "<mods =><mods ", True),
    ("no-version", ' version="3.7"=>', True),
    ("empty-mods", f'<mods xmlns="{MODS}" version="3.7"/>', False),
    ("title-only", f'<mods xmlns="{MODS}"><titleInfo><title>x</title></titleInfo></mods>', True),
    ("empty-language", '<languageTerm type="code" authority="iso639-2b">eng</languageTerm>=>',
     False),
    ("empty-role", "<role><roleTerm type=\"code\" authority=\"marcrelator\">aut</roleTerm>"
     "<roleTerm type=\"text\" authority=\"marcrelator\">author</roleTerm></role>=><role/>",
     False),
    ("empty-place", '<placeTerm type="text">Oxford</placeTerm>=>', False),
    ("empty-detail", "<number>49</number>=>", False),
    ("bad-version", 'version="3.7"=>version="3.8"', False),
    ("bad-name-type", 'name type="personal"=>name type="person"', False),
    ("bad-namepart-type", 'namePart type="given"=>namePart type="affiliation"', False),
    ("bad-url-access", 'access="raw object"=>access="raw"', False),
    ("bad-related-type", 'relatedItem type="host"=>relatedItem type="parent"', False),
    ("bad-language-authority", 'authority="iso639-2b"=>authority="iso639-1"', False),
    ("bad-encoding", 'encoding="w3cdtf"=>encoding="iso"', False),
    ("bad-fixed-keydate", 'keyDate="yes"=>keyDate="no"', False),
    ("bad-total", "<total>19</total>=><total>0</total>", False),
    ("bad-xlink-type", 'xlink:href="https://creativecommons=>xlink:type="extended" '
     'xlink:href="https://creativecommons', False),
    ("bad-xlink-show", 'xlink:href="https://creativecommons=>xlink:show="popup" '
     'xlink:href="https://creativecommons', False),
    ("wrong-order-extent", "<start>1415</start><end>1433</end>=><end>1433</end><start>1415</start>",
     False),
    ("wrong-order-language", '<languageTerm type="code" authority="iso639-2b">eng</languageTerm>'
     '=><scriptTerm>Latn</scriptTerm><languageTerm type="code">eng</languageTerm>', False),
    ("right-order-language", '<languageTerm type="code" authority="iso639-2b">eng</languageTerm>'
     '=><languageTerm type="code">eng</languageTerm><scriptTerm>Latn</scriptTerm>', True),
    ("etal-after-namepart", '<displayForm>Maxwell, Nina</displayForm>=><etal/>', False),
    ("etal-alone", '<namePart type="family">Maxwell</namePart><namePart type="given">Nina'
     '</namePart><displayForm>Maxwell, Nina</displayForm>=><etal/>', False),
    ("stray-element", "<typeOfResource>=><foo/><typeOfResource>", False),
    ("stray-title", "<typeOfResource>=><title>x</title><typeOfResource>", False),
    ("markup-in-title", "<title>British=><title><b>x</b>British", False),
    ("stray-attribute", "<titleInfo=><titleInfo foo=\"x\"", False),
    ("duplicate-id", '<titleInfo=><note ID="n1">a</note><note ID="n1">b</note><titleInfo',
     False),
    ("bad-part-order", "<part>=><part order=\"first\">", False),
    ("extension-anything", "<recordInfo>=><extension><x:y xmlns:x=\"urn:x\" a=\"1\"><z/></x:y>"
     "</extension><recordInfo>", True),
    ("access-condition-markup", '<accessCondition type="restriction on access"=>'
     '<accessCondition><x:license xmlns:x="urn:x">CC</x:license></accessCondition>'
     '<accessCondition type="restriction on access"', True),
    ("typeofresource-free-text", "<typeOfResource>text=><typeOfResource>journal article", True),
    ("alternative-name", "<displayForm>Maxwell, Nina</displayForm>=><displayForm>Maxwell, Nina"
     "</displayForm><alternativeName altType=\"former\"><namePart>Jones</namePart>"
     "</alternativeName>", True),
    ("empty-related-item", '<relatedItem type="host">=><relatedItem type="series"/>'
     '<relatedItem type="host">', True),
    ("bad-lang-tag", '<abstract xml:lang="en"=><abstract xml:lang="english language"', False),
]

# Where our XSD differs from the official one on purpose (schemas/README.md, "MODS"):
# name -> (official verdict, ours).
DEVIATIONS: dict[str, tuple[bool, bool]] = {
    "xml-lang-empty": (True, False),
}
VARIANTS_WITH_DEVIATIONS = [*VARIANTS,
                            ("xml-lang-empty", '<abstract xml:lang="en"=><abstract xml:lang=""',
                             False)]


@pytest.mark.parametrize(("change", "valid"), [v[1:] for v in VARIANTS_WITH_DEVIATIONS],
                         ids=[v[0] for v in VARIANTS_WITH_DEVIATIONS])
def test_variant_verdicts(request: pytest.FixtureRequest, change: str, valid: bool) -> None:
    name = request.node.callspec.id
    data = _variant(change)
    root = etree.fromstring(data)
    theirs, ours = verdicts(MODS_SCHEMA_URL, root)
    assert (theirs, ours) == DEVIATIONS.get(name, (valid, valid))
    if ours:
        validate_fragment("mods", root)
    else:
        with pytest.raises(SchemaViolation):
            validate_fragment("mods", root)


def test_collection_of_records() -> None:
    one = etree.tostring(mods_of(example())).decode()
    collection = f'<modsCollection xmlns="{MODS}">{one}{one}</modsCollection>'.encode()
    assert verdicts(MODS_SCHEMA_URL, etree.fromstring(collection)) == (True, True)
    empty = f'<modsCollection xmlns="{MODS}"/>'.encode()
    assert verdicts(MODS_SCHEMA_URL, etree.fromstring(empty)) == (False, False)


# --------------------------------------------------------------------------- provider


def test_served_through_the_provider(store: Store, oai: OAIClient) -> None:
    untitled = record("untitled", title=" ")
    put(store, example(), record("plain"), untitled)
    formats = oai(verb="ListMetadataFormats")
    listed = {f.findtext("o:metadataPrefix", namespaces=NS): f
              for f in formats.iterfind(".//o:metadataFormat", NS)}
    assert listed["mods"].findtext("o:schema", namespaces=NS) == MODS_SCHEMA_URL
    assert listed["mods"].findtext("o:metadataNamespace", namespaces=NS) == MODS
    prefix = "oai:test.example.org:"
    raw = oai.raw(verb="GetRecord", metadataPrefix="mods", identifier=prefix + "123456")
    assert official_response_verdict(raw)  # ours validated it already (OAIClient)
    got = etree.fromstring(raw)
    detail = got.xpath(".//m:relatedItem/m:part/m:detail[@type='volume']/m:number/text()",
                       namespaces=M)
    assert detail == ["49"]
    harvested = oai.harvest(metadataPrefix="mods")  # every page schema-validated
    assert sorted(r.findtext(".//o:identifier", namespaces=NS) for r in harvested) == [
        prefix + "123456", prefix + "plain"]
    refused = oai(verb="GetRecord", metadataPrefix="mods", identifier=prefix + "untitled")
    assert error_codes(refused) == ["cannotDisseminateFormat"]
    without = oai(verb="ListMetadataFormats", identifier=prefix + "untitled")
    assert "mods" not in [p.text for p in without.iterfind(".//o:metadataPrefix", NS)]
    counted = {c.prefix: c for c in check(store, sample=10)}["mods"]
    assert (counted.disseminated, counted.not_disseminated) == (2, 1)
    assert counted.reasons == {"MODS needs a title (titleInfo/title)": 1}


def test_example_is_not_mutated_by_rendering() -> None:
    rec = example()
    before = copy.deepcopy(rec)
    mods_of(rec)
    assert rec == before
