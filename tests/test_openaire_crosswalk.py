"""oai_openaire crosswalk: the example article field by field, each kind of output, the
vocabularies, and the records the 4.0 profile does not let us carry (with their reasons)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from oai.formats import registry
from oai.formats.openaire import render_openaire, requires
from oai.formats.openaire import requirements as req
from oai.formats.openaire.languages import iso_639_3
from oai.formats.openaire.licences import licence_name
from oai.formats.openaire.namespaces import DATACITE, DC, OAIRE, SCHEMA_URL
from oai.formats.openaire.vocabulary import funder_identifier
from oai.protocol.records import validate_record
from oai.protocol.schemas import validate_fragment

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "records"
NS = {"oaire": OAIRE, "datacite": DATACITE, "dc": DC}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
COAR_RT = "http://purl.org/coar/resource_type/"
COAR_AR = "http://purl.org/coar/access_right/"


def fixture(rid: str) -> dict[str, Any]:
    path = FIXTURES / f"{rid}.json"
    if path.is_file():
        return json.loads(path.read_text())
    for line in (FIXTURES / "theses.jsonl").read_text().splitlines():
        if line.strip() and json.loads(line)["id"] == rid:
            return dict(json.loads(line))
    raise KeyError(rid)


def rendered(record: dict[str, Any]) -> etree._Element:
    """The record's oai_openaire fragment, checked valid against our schema."""
    record = validate_record(record)
    assert requires(record) is None, requires(record)
    xml = render_openaire(record)
    validate_fragment("oai_openaire", xml)
    return etree.fromstring(xml.encode())


def texts(root: etree._Element, path: str) -> list[str]:
    return [e.text or "" for e in root.iterfind(path, NS)]


def one(root: etree._Element, path: str) -> etree._Element:
    found = root.findall(path, NS)
    assert len(found) == 1, (path, found)
    return found[0]


# --------------------------------------------------------------------------- the example


@pytest.fixture(scope="module")
def article() -> etree._Element:
    return rendered(fixture("123456"))


def test_the_format_is_registered() -> None:
    fmt = registry()["oai_openaire"]
    assert (fmt.namespace, fmt.schema_location) == (OAIRE, SCHEMA_URL)
    assert fmt.catalog.is_file() and fmt.crosswalk is render_openaire


def test_example_root_declares_the_profile_namespaces(article: etree._Element) -> None:
    assert article.tag == f"{{{OAIRE}}}resource"
    assert article.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation") == (
        f"{OAIRE} https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd")
    assert {"oaire", "datacite", "dc", "dcterms", "rdf", "xsi"} <= set(article.nsmap)


def test_example_resource_type_is_coar_journal_article(article: etree._Element) -> None:
    rtype = one(article, "oaire:resourceType")
    assert rtype.get("uri") == COAR_RT + "c_6501"
    assert rtype.get("resourceTypeGeneral") == "literature"
    assert rtype.text == "journal article"


def test_example_access_right_is_coar_open_access(article: etree._Element) -> None:
    rights = one(article, "datacite:rights")
    assert rights.get("rightsURI") == COAR_AR + "c_abf2"
    assert rights.text == "open access"


def test_example_version_is_coar_accepted_manuscript(article: etree._Element) -> None:
    version = one(article, "oaire:version")
    assert version.get("uri") == "http://purl.org/coar/version/c_ab4af688f83e57aa"
    assert version.text == "AM"


def test_example_file(article: etree._Element) -> None:
    file = one(article, "oaire:file")
    assert file.text == ("https://orca.cardiff.ac.uk/id/eprint/123456/1/"
                         "Maxwell_Rees_VIG_BJSW_AM.pdf")
    assert file.get("accessRightsURI") == COAR_AR + "c_abf2"
    assert file.get("mimeType") == "application/pdf"
    assert file.get("objectType") == "fulltext"
    assert texts(article, "dc:format") == ["application/pdf"]
    assert texts(article, "datacite:sizes/datacite:size") == ["19 pages", "314368 bytes"]


def test_example_creators_with_orcid_and_ror(article: etree._Element) -> None:
    creators = article.findall("datacite:creators/datacite:creator", NS)
    assert len(creators) == 2
    expected = [("Maxwell, Nina", "Nina", "Maxwell", "0000-0003-3931-7729"),
                ("Rees, Alyson", "Alyson", "Rees", "0000-0003-2363-4965")]
    for creator, (name, given, family, orcid) in zip(creators, expected, strict=True):
        children = [etree.QName(c).localname for c in creator]
        assert children == ["creatorName", "givenName", "familyName", "nameIdentifier",
                            "affiliation"]  # the order the schema's sequence requires
        assert one(creator, "datacite:creatorName").text == name
        assert one(creator, "datacite:creatorName").get("nameType") == "Personal"
        assert one(creator, "datacite:givenName").text == given
        assert one(creator, "datacite:familyName").text == family
        ident = one(creator, "datacite:nameIdentifier")
        assert ident.text == f"https://orcid.org/{orcid}"
        assert ident.get("nameIdentifierScheme") == "ORCID"
        assert ident.get("schemeURI") == "https://orcid.org"
        aff = one(creator, "datacite:affiliation")
        assert aff.text == "Cardiff University"
        assert aff.get("affiliationIdentifier") == "https://ror.org/03kk7td41"
        assert aff.get("affiliationIdentifierScheme") == "ROR"
    assert article.find("datacite:contributors", NS) is None


def test_example_identifiers(article: etree._Element) -> None:
    ident = one(article, "datacite:identifier")
    assert ident.get("identifierType") == "URL"
    assert ident.text == "https://orca.cardiff.ac.uk/id/eprint/123456/"
    alternates = {(a.get("alternateIdentifierType"), a.text) for a in article.iterfind(
        "datacite:alternateIdentifiers/datacite:alternateIdentifier", NS)}
    assert alternates == {("DOI", "10.1093/bjsw/bcz067"), ("Local", "123456")}
    related = {(r.get("relatedIdentifierType"), r.get("relationType"), r.text)
               for r in article.iterfind("datacite:relatedIdentifiers/*", NS)}
    assert related == {("ISSN", "IsPartOf", "0045-3102"), ("EISSN", "IsPartOf", "1468-263X")}


def test_example_funding_reference(article: etree._Element) -> None:
    ref = one(article, "oaire:fundingReferences/oaire:fundingReference")
    assert one(ref, "oaire:funderName").text == "Economic and Social Research Council"
    funder = one(ref, "oaire:funderIdentifier")
    assert funder.get("funderIdentifierType") == "Crossref Funder ID"
    assert funder.text == "https://doi.org/10.13039/501100000269"
    award = one(ref, "oaire:awardNumber")
    assert award.text == "ES/P000401/1" and award.get("awardURI") is None
    assert one(ref, "oaire:awardTitle").text == "Wales Doctoral Training Partnership"


def test_example_licence_condition(article: etree._Element) -> None:
    licence = one(article, "oaire:licenseCondition")
    assert licence.get("uri") == "https://creativecommons.org/licenses/by-nc/4.0/"
    assert licence.get("startDate") == "2019-05-02"
    assert licence.text == "Creative Commons Attribution-NonCommercial 4.0 International"


def test_example_citation(article: etree._Element) -> None:
    assert one(article, "oaire:citationTitle").text == "British Journal of Social Work"
    assert one(article, "oaire:citationVolume").text == "49"
    assert one(article, "oaire:citationIssue").text == "6"
    assert one(article, "oaire:citationStartPage").text == "1415"
    assert one(article, "oaire:citationEndPage").text == "1433"
    for absent in ("citationEdition", "citationConferencePlace", "citationConferenceDate"):
        assert article.find(f"oaire:{absent}", NS) is None


def test_example_dates_titles_and_text(article: etree._Element) -> None:
    dates = {d.get("dateType"): d.text for d in article.iterfind("datacite:dates/*", NS)}
    assert dates == {"Accepted": "2019-05-02", "Issued": "2019-09"}
    title = one(article, "datacite:titles/datacite:title")
    assert title.text.startswith("Video Interaction Guidance: a return")  # type: ignore[union-attr]
    assert title.get(XML_LANG) == "en" and title.get("titleType") is None
    assert texts(article, "dc:language") == ["eng"]
    assert texts(article, "dc:publisher") == ["Oxford University Press"]
    descriptions = article.findall("dc:description", NS)
    assert len(descriptions) == 2 and descriptions[0].get(XML_LANG) == "en"
    assert descriptions[1].text.startswith("This is a pre-copyedited")  # type: ignore[union-attr]
    subjects = article.findall("datacite:subjects/datacite:subject", NS)
    assert [(s.get("subjectScheme"), s.text) for s in subjects[:2]] == [
        (None, "HV Social pathology. Social and public welfare. Criminology"),
        ("LCSH", "Social service")]
    assert [s.text for s in subjects[2:]][:2] == ["Video Interaction Guidance",
                                                  "relationship-based practice"]


# --------------------------------------------------------------------------- other outputs


def test_thesis() -> None:
    record = fixture("160001")
    root = rendered(record)
    rtype = one(root, "oaire:resourceType")
    assert (rtype.get("uri"), rtype.text) == (COAR_RT + "c_db06", "doctoral thesis")
    thesis = record["thesis"]  # a university publication: the university, then the school
    assert texts(root, "dc:publisher") == [f"{thesis['institution']}. {thesis['department']}"]
    contributors = root.findall("datacite:contributors/datacite:contributor", NS)
    assert [c.get("contributorType") for c in contributors] == ["Supervisor", "Supervisor"]
    assert {d.get("dateType") for d in root.iterfind("datacite:dates/*", NS)} == {"Issued"}
    master = rendered(fixture("160003"))
    assert one(master, "oaire:resourceType").get("uri") == COAR_RT + "c_bdcc"
    assert one(master, "datacite:rights").get("rightsURI") == COAR_AR + "c_16ec"


def test_embargoed_thesis_gets_both_embargo_dates() -> None:
    record = fixture("160002")
    root = rendered(record)
    dates = {d.get("dateType"): d.text for d in root.iterfind("datacite:dates/*", NS)}
    # no acceptance date: the embargo starts when the repository accepted the deposit
    assert dates == {"Accepted": record["dates"]["deposited"], "Available": "2026-03-01",
                     "Issued": record["dates"]["awarded"]}
    assert one(root, "datacite:rights").get("rightsURI") == COAR_AR + "c_f1cf"
    assert {c.get("contributorType") for c in root.iterfind(".//datacite:contributor", NS)} == {
        "Supervisor", "Other"}  # an examiner has no DataCite type of its own


def test_embargoed_article() -> None:
    root = rendered(fixture("136666"))
    dates = {d.get("dateType"): d.text for d in root.iterfind("datacite:dates/*", NS)}
    assert dates["Available"] == "2024-09-20" and "Accepted" in dates
    assert one(root, "datacite:rights").text == "embargoed access"
    assert one(root, "oaire:file").get("accessRightsURI") == COAR_AR + "c_f1cf"


def test_book_chapter() -> None:
    record = fixture("114001")
    root = rendered(record)
    assert one(root, "oaire:resourceType").get("uri") == COAR_RT + "c_3248"
    editors = root.findall("datacite:contributors/datacite:contributor", NS)
    assert editors and {e.get("contributorType") for e in editors} == {"Editor"}
    assert one(root, "oaire:citationTitle").text == record["book"]["title"]
    assert one(root, "oaire:citationStartPage").text == record["pages"]["start"]
    related = {(r.get("relatedIdentifierType"), r.get("relationType"), r.text)
               for r in root.iterfind("datacite:relatedIdentifiers/*", NS)}
    assert {("ISBN", "IsPartOf", isbn) for isbn in record["book"]["isbn"]} <= related


def test_conference_paper() -> None:
    record = fixture("116003")
    root = rendered(record)
    event = record["event"]
    assert one(root, "oaire:resourceType").get("uri") == COAR_RT + "c_5794"
    assert one(root, "oaire:citationConferencePlace").text == event["place"]
    assert one(root, "oaire:citationConferenceDate").text == (
        f"{event['start']} - {event['end']}" if event.get("end") not in (None, event["start"])
        else event["start"])
    title = one(root, "oaire:citationTitle").text
    assert title in (record.get("book", {}).get("title"), event["name"])


def test_dataset_and_software() -> None:
    data = rendered(fixture("170001"))
    rtype = one(data, "oaire:resourceType")
    assert (rtype.get("resourceTypeGeneral"), rtype.get("uri")) == ("dataset", COAR_RT + "c_ddb1")
    assert {f.get("objectType") for f in data.iterfind("oaire:file", NS)} == {"dataset"}
    assert {c.get("contributorType") for c in data.iterfind(".//datacite:contributor", NS)} == {
        "DataCollector", "DataCurator"}
    assert [(r.get("relatedIdentifierType"), r.get("relationType"), r.text)
            for r in data.iterfind("datacite:relatedIdentifiers/*", NS)] == [
        ("DOI", "IsSupplementTo", "10.5555/G50123.1")]
    software = rendered(fixture("190001"))
    assert one(software, "oaire:resourceType").get("resourceTypeGeneral") == "software"
    assert {f.get("objectType") for f in software.iterfind("oaire:file", NS)} == {"software"}


def test_report_in_a_series() -> None:
    record = fixture("180001")
    root = rendered(record)
    assert one(root, "oaire:resourceType").get("uri") == COAR_RT + "c_93fc"
    assert one(root, "oaire:citationTitle").text == record["series"]["title"]
    if record["series"].get("number"):
        assert one(root, "oaire:citationVolume").text == record["series"]["number"]


def test_languages_titles_and_illegal_characters() -> None:
    welsh = rendered(fixture("160001"))
    assert texts(welsh, "dc:language") == [iso_639_3(t) for t in fixture("160001")["languages"]]
    for rid in ("155001", "155002"):  # a vertical tab, a U+FFFE: stripped, still valid
        rendered(fixture(rid))
    record = fixture("123456")
    record["titles"] = [{"text": "Prif deitl", "lang": "cy"},
                        {"text": "Main title", "lang": "en", "kind": "translated"},
                        {"text": "a subtitle", "kind": "subtitle"},
                        {"text": "\u000b"}]  # nothing left once cleaned: left out
    titles = rendered(record).findall("datacite:titles/datacite:title", NS)
    assert [(t.text, t.get("titleType"), t.get(XML_LANG)) for t in titles] == [
        ("Prif deitl", None, "cy"), ("Main title", "TranslatedTitle", "en"),
        ("a subtitle", "Subtitle", None)]


def test_subjects_keep_classification_notation_and_mesh_uri() -> None:
    record = fixture("123456")
    record["subjects"] = [{"text": "Geology, hydrology, meteorology", "scheme": "ddc",
                           "code": "551"},
                          {"text": "Schizophrenia", "scheme": "mesh", "code": "D012559"}]
    record["keywords"] = []
    subjects = rendered(record).findall("datacite:subjects/datacite:subject", NS)
    assert [(s.text, s.get("subjectScheme"), s.get("schemeURI"), s.get("valueURI"))
            for s in subjects] == [
        ("551 Geology, hydrology, meteorology", "DDC", "http://dewey.info/", None),
        ("Schizophrenia", "MeSH", "http://id.nlm.nih.gov/mesh",
         "http://id.nlm.nih.gov/mesh/D012559")]


def test_identifier_falls_back_to_doi_then_handle() -> None:
    record = fixture("123456")
    del record["url"]
    root = rendered(record)
    ident = one(root, "datacite:identifier")
    assert (ident.get("identifierType"), ident.text) == ("DOI",
                                                         "https://doi.org/10.1093/bjsw/bcz067")
    assert [a.get("alternateIdentifierType") for a in root.iterfind(
        "datacite:alternateIdentifiers/*", NS)] == ["Local"]  # the DOI is not repeated
    del record["doi"]
    record["identifiers"].append({"scheme": "handle", "value": "http://hdl.handle.net/1/2"})
    ident = one(rendered(record), "datacite:identifier")
    assert (ident.get("identifierType"), ident.text) == ("Handle", "http://hdl.handle.net/1/2")


def test_funding_variants() -> None:
    record = fixture("123456")
    record["funding"] = [
        {"funder": "UK Research and Innovation", "funder_id": "https://ror.org/001aqnf71",
         "award_number": "MR/X1", "project_uri": "https://gtr.ukri.org/projects?ref=MR/X1"},
        {"funder": "Welsh Government"}]
    refs = rendered(record).findall("oaire:fundingReferences/oaire:fundingReference", NS)
    assert one(refs[0], "oaire:funderIdentifier").get("funderIdentifierType") == "ROR"
    award = one(refs[0], "oaire:awardNumber")
    assert award.get("awardURI") == "https://gtr.ukri.org/projects?ref=MR/X1"
    assert [etree.QName(c).localname for c in refs[1]] == ["funderName"]


def test_licence_from_a_file_when_the_record_has_none() -> None:
    record = fixture("123456")
    del record["rights"]
    licence = one(rendered(record), "oaire:licenseCondition")
    assert licence.get("uri") == record["files"][0]["licence"]
    assert licence.get("startDate") == record["files"][0]["licence_start"]


@pytest.mark.parametrize(("tag", "expected"), [
    ("en", "eng"), ("en-GB", "eng"), ("cy", "cym"), ("zh-Hant", "zho"), ("wel", "cym"),
    ("ger", "deu"), ("nld", "nld"), ("xx", "xx")])
def test_iso_639_3(tag: str, expected: str) -> None:
    assert iso_639_3(tag) == expected


@pytest.mark.parametrize(("url", "name"), [
    ("https://creativecommons.org/licenses/by/4.0/",
     "Creative Commons Attribution 4.0 International"),
    ("http://creativecommons.org/licenses/by-nc-nd/4.0/legalcode",
     "Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 International"),
    ("https://creativecommons.org/licenses/by-sa/3.0/",
     "Creative Commons Attribution-ShareAlike 3.0"),
    ("https://creativecommons.org/licenses/by/2.0/uk/",
     "Creative Commons Attribution 2.0 (UK)"),
    ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0 1.0 Universal"),
    ("https://opensource.org/licenses/MIT", "MIT License"),
    ("https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
     "Open Government Licence v3.0"),
    ("https://example.org/terms", "https://example.org/terms")])
def test_licence_names(url: str, name: str) -> None:
    assert licence_name(url) == name


@pytest.mark.parametrize(("value", "expected"), [
    ("10.13039/501100000269", ("https://doi.org/10.13039/501100000269", "Crossref Funder ID")),
    ("https://doi.org/10.13039/100004440", ("https://doi.org/10.13039/100004440",
                                           "Crossref Funder ID")),
    ("https://ror.org/001aqnf71", ("https://ror.org/001aqnf71", "ROR")),
    ("0000000106723101", ("0000000106723101", "ISNI")),
    ("grid.421091.f", ("grid.421091.f", "GRID")),
    ("EC-H2020", ("EC-H2020", "Other"))])
def test_funder_identifiers(value: str, expected: tuple[str, str]) -> None:
    assert funder_identifier(value) == expected


# --------------------------------------------------------------------------- refusals


def _without(path: str) -> Any:
    def change(record: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = record
        for key in parents:
            target = target[key]
        del target[last]
    return change


def _set(path: str, value: Any) -> Any:
    def change(record: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = record
        for key in parents:
            target = target[key]
        target[last] = value
    return change


def _embargoed_without_dates(record: dict[str, Any]) -> None:
    record["access"] = {"status": "embargoed", "embargo_end": "2030-01-01"}
    for key in ("accepted", "deposited", "first_compliant_deposit"):
        record["dates"].pop(key, None)


REFUSALS = [
    ("no-creator", _set("creators", []), req.NO_CREATOR),
    ("creator-name-only-illegal", _set("creators", [{"name": "\u0001"}]), req.NO_CREATOR),
    ("title-only-illegal", _set("titles", [{"text": "\ufffe"}]), req.NO_TITLE),
    ("no-date", _set("dates", {}), req.NO_DATE),
    ("no-identifier", lambda r: [r.pop("url"), r.pop("doi"), r.__setitem__(
        "identifiers", [{"scheme": "local", "value": "1"}])], req.NO_IDENTIFIER),
    ("no-access", _without("access"), req.NO_ACCESS),
    ("embargo-without-end", _set("access", {"status": "embargoed"}), req.NO_EMBARGO_END),
    ("embargo-without-start", _embargoed_without_dates, req.NO_EMBARGO_START),
]


@pytest.mark.parametrize(("change", "reason"), [r[1:] for r in REFUSALS],
                         ids=[r[0] for r in REFUSALS])
def test_refusals(change: Any, reason: str) -> None:
    record = copy.deepcopy(fixture("123456"))
    change(record)
    assert requires(validate_record(record)) == reason


def test_the_edited_book_without_authors_is_refused() -> None:
    # creator is Mandatory in the 4.0 profile (4.1-rc1 relaxes it to "if applicable")
    assert requires(validate_record(fixture("113579"))) == req.NO_CREATOR


def test_embargo_end_may_come_from_the_files() -> None:
    record = fixture("136666")
    del record["access"]["embargo_end"]
    record["files"][0]["embargo_end"] = "2031-02-03"
    dates = {d.get("dateType"): d.text for d in rendered(record).iterfind(
        "datacite:dates/*", NS)}
    assert dates["Available"] == "2031-02-03"
