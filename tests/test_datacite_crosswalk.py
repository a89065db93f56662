"""The DataCite crosswalk: the example article (123456) field by field, what each record type
becomes, what a record needs to be carried, and that every value written into an enumerated
attribute is in the kernel's controlled list."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lxml import etree

from oai.config import load_config
from oai.formats import configure
from oai.formats.datacite import DATACITE, OAI_DATACITE
from oai.formats.datacite.crosswalk import (
    render_datacite,
    render_oai_datacite,
    requires,
)
from oai.formats.datacite.vocabularies import (
    CONTRIBUTOR_TYPES,
    KERNEL,
    OAI_DATACITE_NS,
    RELATED_IDENTIFIER_TYPES,
    RELATION_TYPES,
    RESOURCE_TYPES,
    funder_identifier,
    spdx_licence,
)
from oai.paths import fixtures_dir, schema_dir
from oai.protocol.records import validate_record
from oai.protocol.rendering import render
from oai.protocol.schemas import validate_fragment

NS = {"k": KERNEL, "w": OAI_DATACITE_NS}
XS = "http://www.w3.org/2001/XMLSchema"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def fixture(rid: str) -> dict[str, Any]:
    return validate_record(json.loads((fixtures_dir() / "records" / f"{rid}.json").read_text()))


def resource(record: dict[str, Any]) -> etree._Element:
    xml = render_datacite(record)
    validate_fragment("datacite", xml)
    return etree.fromstring(xml.encode())


def texts(root: etree._Element, path: str) -> list[str]:
    return [e.text or "" for e in root.iterfind(path, NS)]


def attrs(root: etree._Element, path: str) -> list[dict[str, str]]:
    return [dict(e.attrib) for e in root.iterfind(path, NS)]


def minimal(**extra: Any) -> dict[str, Any]:
    """A small record DataCite can carry; a key given as None is left out."""
    record: dict[str, Any] = {"id": "m1", "titles": [{"text": "A title"}], "type": "article",
              "doi": "10.1234/m1", "creators": [{"name": "Doe, Jane"}],
              "publisher": "Example Press", "dates": {"published": "2020-02-03"}}
    record.update(extra)
    return validate_record({k: v for k, v in record.items() if v is not None})


# --------------------------------------------------------------------------- 123456


@pytest.fixture(scope="module")
def article() -> etree._Element:
    return resource(fixture("123456"))


def test_example_identifier_titles_publisher_year_type(article: etree._Element) -> None:
    assert attrs(article, "k:identifier") == [{"identifierType": "DOI"}]
    assert texts(article, "k:identifier") == ["10.1093/bjsw/bcz067"]
    [title] = article.iterfind("k:titles/k:title", NS)
    assert title.text == ("Video Interaction Guidance: a return to traditional values and "
                          "relationship-based practice?")
    assert title.get(XML_LANG) == "en" and title.get("titleType") is None
    assert texts(article, "k:publisher") == ["Oxford University Press"]
    assert texts(article, "k:publicationYear") == ["2019"]
    assert attrs(article, "k:resourceType") == [{"resourceTypeGeneral": "JournalArticle"}]
    assert texts(article, "k:language") == ["en"]


def test_example_creators_with_orcid_and_ror(article: etree._Element) -> None:
    creators = article.findall("k:creators/k:creator", NS)
    assert len(creators) == 2
    expected = [("Maxwell, Nina", "Nina", "Maxwell", "0000-0003-3931-7729"),
                ("Rees, Alyson", "Alyson", "Rees", "0000-0003-2363-4965")]
    for creator, (name, given, family, orcid) in zip(creators, expected, strict=True):
        assert [(c.tag.split("}")[1], c.text) for c in creator] == [
            ("creatorName", name), ("givenName", given), ("familyName", family),
            ("nameIdentifier", f"https://orcid.org/{orcid}"),
            ("affiliation", "Cardiff University")]
        assert attrs(creator, "k:creatorName") == [{"nameType": "Personal"}]
        assert attrs(creator, "k:nameIdentifier") == [
            {"nameIdentifierScheme": "ORCID", "schemeURI": "https://orcid.org"}]
        assert attrs(creator, "k:affiliation") == [
            {"affiliationIdentifier": "https://ror.org/03kk7td41",
             "affiliationIdentifierScheme": "ROR", "schemeURI": "https://ror.org"}]


def test_example_structured_journal_citation(article: etree._Element) -> None:
    [item] = article.iterfind("k:relatedItems/k:relatedItem", NS)
    assert dict(item.attrib) == {"relatedItemType": "Journal", "relationType": "IsPublishedIn"}
    assert [(c.tag.split("}")[1], c.text) for c in item if c.text] == [
        ("relatedItemIdentifier", "0045-3102"), ("publicationYear", "2019"),
        ("volume", "49"), ("issue", "6"), ("firstPage", "1415"), ("lastPage", "1433"),
        ("publisher", "Oxford University Press")]
    assert attrs(item, "k:relatedItemIdentifier") == [{"relatedItemIdentifierType": "ISSN"}]
    assert texts(item, "k:titles/k:title") == ["British Journal of Social Work"]
    published_in = [(e.text, dict(e.attrib)) for e in article.iterfind(
        "k:relatedIdentifiers/k:relatedIdentifier[@relationType='IsPublishedIn']", NS)]
    assert published_in == [
        ("0045-3102", {"relatedIdentifierType": "ISSN", "relationType": "IsPublishedIn",
                       "resourceTypeGeneral": "Journal"}),
        ("1468-263X", {"relatedIdentifierType": "EISSN", "relationType": "IsPublishedIn",
                       "resourceTypeGeneral": "Journal"})]


def test_example_dates(article: etree._Element) -> None:
    dates = [(e.get("dateType"), e.text, e.get("dateInformation"))
             for e in article.iterfind("k:dates/k:date", NS)]
    assert ("Issued", "2019-09", None) in dates
    assert ("Accepted", "2019-05-02", None) in dates
    assert ("Available", "2019-06-25", "Published online") in dates
    assert ("Updated", "2023-10-04", None) in dates
    assert ("Other", "2019-05-02", "Deposited in the repository") in dates
    assert ("Other", "2019-05-02", "First compliant deposit") in dates
    assert len(dates) == 7


def test_example_funding(article: etree._Element) -> None:
    [funding] = article.iterfind("k:fundingReferences/k:fundingReference", NS)
    assert texts(funding, "k:funderName") == ["Economic and Social Research Council"]
    assert texts(funding, "k:funderIdentifier") == ["https://doi.org/10.13039/501100000269"]
    assert attrs(funding, "k:funderIdentifier") == [
        {"funderIdentifierType": "Crossref Funder ID"}]
    assert texts(funding, "k:awardNumber") == ["ES/P000401/1"]
    assert texts(funding, "k:awardTitle") == ["Wales Doctoral Training Partnership"]


def test_example_rights_subjects_identifiers_sizes(article: etree._Element) -> None:
    rights = attrs(article, "k:rightsList/k:rights")
    assert rights[0] == {XML_LANG: "en",
                         "rightsURI": "https://creativecommons.org/licenses/by-nc/4.0/",
                         "rightsIdentifier": "CC-BY-NC-4.0", "rightsIdentifierScheme": "SPDX",
                         "schemeURI": "https://spdx.org/licenses/"}
    assert texts(article, "k:rightsList/k:rights")[0] == (
        "Creative Commons Attribution Non Commercial 4.0 International")
    assert texts(article, "k:rightsList/k:rights")[1].startswith("© The Author(s) 2019.")
    assert rights[2] == {XML_LANG: "en", "rightsURI": "http://purl.org/coar/access_right/c_abf2"}
    assert attrs(article, "k:subjects/k:subject")[:2] == [
        {"classificationCode": "HV"},
        {"subjectScheme": "LCSH", "schemeURI": "https://id.loc.gov/authorities/subjects"}]
    assert texts(article, "k:subjects/k:subject")[2:] == [
        "Video Interaction Guidance", "relationship-based practice", "social work",
        "attunement", "strengths-based practice", "parenting"]
    assert [(e.get("alternateIdentifierType"), e.text) for e in article.iterfind(
        "k:alternateIdentifiers/k:alternateIdentifier", NS)] == [
        ("URL", "https://orca.cardiff.ac.uk/id/eprint/123456/"),
        ("Local accession number", "123456")]
    assert article.find("k:relatedIdentifiers/k:relatedIdentifier[@relationType='HasVersion']",
                        NS).text == ("https://orca.cardiff.ac.uk/id/eprint/123456/1/"  # type: ignore[union-attr]
                                     "Maxwell_Rees_VIG_BJSW_AM.pdf")
    assert texts(article, "k:sizes/k:size") == ["19 pages", "314368 bytes"]
    assert texts(article, "k:formats/k:format") == ["application/pdf"]
    assert attrs(article, "k:contributors/k:contributor") == [{"contributorType": "RightsHolder"}]
    descriptions = attrs(article, "k:descriptions/k:description")
    assert descriptions == [{"descriptionType": "Abstract", XML_LANG: "en"},
                            {"descriptionType": "Other"}]


def test_oai_datacite_wraps_the_same_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    record = fixture("123456")
    wrapped = etree.fromstring(render_oai_datacite(record).encode())
    assert [c.tag.split("}")[1] for c in wrapped] == ["schemaVersion", "datacentreSymbol",
                                                      "payload"]
    assert wrapped.findtext("w:schemaVersion", namespaces=NS) == "4.7"
    assert wrapped.findtext("w:datacentreSymbol", namespaces=NS) == ""
    [payload] = wrapped.find("w:payload", NS)  # type: ignore[misc]
    assert etree.tostring(payload, method="c14n", exclusive=True) == etree.tostring(
        etree.fromstring(render_datacite(record).encode()), method="c14n", exclusive=True)
    monkeypatch.setenv("OAI_DATACITE_SYMBOL", " BL.CARDIFF ")  # the setting, as a user sets it
    config = load_config(path=None)
    configure(config.formats, config.format_settings())
    try:
        xml = render_oai_datacite(record)
    finally:
        configure(None)
    validate_fragment("oai_datacite", xml)
    assert etree.fromstring(xml.encode()).findtext("w:datacentreSymbol",
                                                   namespaces=NS) == "BL.CARDIFF"


# --------------------------------------------------------------------------- other records


def test_thesis_takes_its_institution_and_award_date() -> None:
    thesis = minimal(type="thesis", publisher=None, dates={"awarded": "2022-11-24"},
                     thesis={"degree": "PhD", "level": "doctoral",
                             "institution": "Cardiff University",
                             "department": "School of Social Sciences"},
                     contributors=[{"name": "Mansell, Dawn", "role": "supervisor"}])
    root = resource(thesis)
    assert texts(root, "k:publisher") == ["Cardiff University"]
    assert texts(root, "k:publicationYear") == ["2022"]
    assert attrs(root, "k:resourceType") == [{"resourceTypeGeneral": "Dissertation"}]
    assert texts(root, "k:resourceType") == ["doctoral thesis"]
    assert attrs(root, "k:dates/k:date") == [{"dateType": "Issued"}]
    assert attrs(root, "k:contributors/k:contributor") == [{"contributorType": "Supervisor"}]
    assert "Thesis (PhD), Cardiff University, School of Social Sciences" in texts(
        root, "k:descriptions/k:description")


def test_book_chapter_cites_its_book_with_editors() -> None:
    chapter = minimal(type="book_section", pages={"start": "10", "end": "31"},
                      book={"title": "A Book", "isbn": ["9781234567897"],
                            "editors": [{"name": "Smith, Ann", "given": "Ann",
                                         "family": "Smith"}]})
    root = resource(chapter)
    assert attrs(root, "k:resourceType") == [{"resourceTypeGeneral": "BookChapter"}]
    [item] = root.iterfind("k:relatedItems/k:relatedItem", NS)
    assert dict(item.attrib) == {"relatedItemType": "Book", "relationType": "IsPublishedIn"}
    assert texts(item, "k:relatedItemIdentifier") == ["9781234567897"]
    assert texts(item, "k:firstPage") + texts(item, "k:lastPage") == ["10", "31"]
    assert attrs(item, "k:contributors/k:contributor") == [{"contributorType": "Editor"}]
    assert texts(item, "k:contributors/k:contributor/k:givenName") == ["Ann"]
    assert attrs(root, "k:relatedIdentifiers/k:relatedIdentifier") == [
        {"relatedIdentifierType": "ISBN", "relationType": "IsPublishedIn",
         "resourceTypeGeneral": "Book"}]


def test_conference_paper_cites_its_proceedings() -> None:
    paper = minimal(type="conference_item",
                    book={"title": "Proceedings", "isbn": ["9781234567897"]},
                    event={"name": "ECSW 2019", "place": "Lisbon", "start": "2019-06-01",
                           "end": "2019-06-04"})
    root = resource(paper)
    assert attrs(root, "k:relatedItems/k:relatedItem") == [
        {"relatedItemType": "ConferenceProceeding", "relationType": "IsPublishedIn"}]
    assert attrs(root, "k:relatedIdentifiers/k:relatedIdentifier")[0][
        "resourceTypeGeneral"] == "ConferenceProceeding"
    assert texts(root, "k:descriptions/k:description") == [
        "Presented at: ECSW 2019, Lisbon, 2019-06-01/2019-06-04"]


@pytest.mark.parametrize(("kind", "status", "general"), [
    ("article", "published", "JournalArticle"), ("article", "submitted", "Preprint"),
    ("article", "unpublished", "Preprint"), ("book", "published", "Book"),
    ("conference_item", "published", "ConferencePaper"), ("dataset", None, "Dataset"),
    ("report", None, "Report"), ("working_paper", None, "Preprint"),
    ("software", None, "Software"), ("patent", None, "Text"), ("other", None, "Other")])
def test_resource_types(kind: str, status: str | None, general: str) -> None:
    extra: dict[str, Any] = {"type": kind}
    if status:
        extra["status"] = status
    root = resource(minimal(**extra))
    assert attrs(root, "k:resourceType") == [{"resourceTypeGeneral": general}]
    assert texts(root, "k:resourceType")[0]  # a free-text type beside the general one


def test_organisations_relations_and_embargo() -> None:
    root = resource(minimal(
        creators=[{"name": "Cardiff University", "kind": "organisation"}],
        relations=[{"kind": "is_supplemented_by", "identifier": "10.5555/x.1"},
                   {"kind": "cites", "identifier": "https://example.org/a", "scheme": "url"},
                   {"kind": "references", "identifier": "not resolvable"}],
        access={"status": "embargoed", "embargo_end": "2021-01-01"},
        series={"title": "Working Papers", "number": "12", "issn": "1234-5679"}))
    assert attrs(root, "k:creators/k:creator/k:creatorName") == [{"nameType": "Organizational"}]
    assert root.find("k:creators/k:creator/k:givenName", NS) is None
    related = [(e.text, e.get("relatedIdentifierType"), e.get("relationType"))
               for e in root.iterfind("k:relatedIdentifiers/k:relatedIdentifier", NS)]
    assert related == [("1234-5679", "ISSN", "IsPartOf"),
                       ("10.5555/x.1", "DOI", "IsSupplementedBy"),
                       ("https://example.org/a", "URL", "Cites")]  # an unknown form: left out
    assert [(e.get("dateType"), e.text, e.get("dateInformation")) for e in root.iterfind(
        "k:dates/k:date[@dateType='Available']", NS)] == [
        ("Available", "2021-01-01", "End of embargo")]
    assert "Working Papers, 12" in texts(root, "k:descriptions/k:description")
    assert root.find("k:rightsList/k:rights", NS).get("rightsURI") == (  # type: ignore[union-attr]
        "http://purl.org/coar/access_right/c_f1cf")


def test_text_is_escaped_and_illegal_characters_dropped() -> None:
    root = resource(minimal(titles=[{"text": "Fish & <chips>\x0b \"quoted\""}],
                            creators=[{"name": "O'Brien, \u00c9amon"}]))
    assert texts(root, "k:titles/k:title") == ['Fish & <chips> "quoted"']
    assert texts(root, "k:creators/k:creator/k:creatorName") == ["O'Brien, \u00c9amon"]


# --------------------------------------------------------------------------- requirements


@pytest.mark.parametrize(("change", "reason"), [
    ({"doi": None}, 'DataCite requires a DOI (identifier identifierType="DOI"): the record '
                    "has none"),
    ({"creators": []}, "DataCite requires at least one creator: the record has none"),
    ({"publisher": None}, "DataCite requires a publisher: the record has no publisher or "
                          "thesis institution"),
    ({"dates": {"modified": "2020-01-01"}}, "DataCite requires a publicationYear: the record "
                                            "has no publication, award, creation or deposit "
                                            "date"),
])
def test_records_the_kernel_cannot_carry_are_refused(change: dict[str, Any],
                                                     reason: str) -> None:
    record = minimal(**change)
    assert requires(record) == reason
    for fmt in (DATACITE, OAI_DATACITE):
        assert render(fmt, record) == (None, reason)


def test_a_complete_record_is_carried() -> None:
    assert requires(minimal()) is None
    for fmt in (DATACITE, OAI_DATACITE):
        xml, reason = render(fmt, minimal())
        assert reason is None and xml is not None


# --------------------------------------------------------------------------- vocabularies


def _enumeration(name: str) -> set[str]:
    path = schema_dir() / "datacite" / "kernel-4" / "include" / f"datacite-{name}-v4.xsd"
    return {e.get("value") for e in etree.parse(str(path)).iter(f"{{{XS}}}enumeration")}


def test_mapped_values_are_in_the_controlled_lists() -> None:
    assert set(RESOURCE_TYPES.values()) | {"Preprint", "Journal", "Book",
                                           "ConferenceProceeding"} <= _enumeration(
        "resourceType")
    assert set(CONTRIBUTOR_TYPES.values()) | {"RightsHolder", "Editor"} <= _enumeration(
        "contributorType")
    assert set(RELATION_TYPES.values()) | {"IsPublishedIn", "HasVersion", "HasPart"} <= (
        _enumeration("relationType"))
    assert set(RELATED_IDENTIFIER_TYPES.values()) | {"EISSN"} <= _enumeration(
        "relatedIdentifierType")
    assert {"Issued", "Available", "Accepted", "Submitted", "Created", "Updated",
            "Other"} <= _enumeration("dateType")
    assert {"Abstract", "SeriesInformation", "Other"} <= _enumeration("descriptionType")
    assert {"Crossref Funder ID", "ROR", "Other"} <= _enumeration("funderIdentifierType")


@pytest.mark.parametrize(("url", "expected"), [
    ("https://creativecommons.org/licenses/by/4.0/",
     ("CC-BY-4.0", "Creative Commons Attribution 4.0 International")),
    ("http://creativecommons.org/licenses/by-nc-nd/3.0/legalcode",
     ("CC-BY-NC-ND-3.0", "Creative Commons Attribution Non Commercial No Derivatives 3.0 "
                         "Unported")),
    ("https://creativecommons.org/licenses/by-sa/2.5/deed.en",
     ("CC-BY-SA-2.5", "Creative Commons Attribution Share Alike 2.5 Generic")),
    ("https://creativecommons.org/publicdomain/zero/1.0/",
     ("CC0-1.0", "Creative Commons Zero v1.0 Universal")),
    ("https://opensource.org/licenses/MIT", ("MIT", "MIT License")),
    ("https://creativecommons.org/licenses/by/3.0/de/", None),  # a port: not all are in SPDX
    ("https://example.org/licence", None),
])
def test_spdx_licences(url: str, expected: tuple[str, str] | None) -> None:
    assert spdx_licence(url) == expected


def test_unknown_licence_keeps_its_uri() -> None:
    root = resource(minimal(rights={"licence": "https://example.org/licence"}))
    assert attrs(root, "k:rightsList/k:rights") == [{"rightsURI": "https://example.org/licence"}]


@pytest.mark.parametrize(("value", "expected"), [
    ("10.13039/501100000269", ("https://doi.org/10.13039/501100000269", "Crossref Funder ID",
                               None)),
    ("https://doi.org/10.13039/100004440", ("https://doi.org/10.13039/100004440",
                                            "Crossref Funder ID", None)),
    ("https://ror.org/02wxr8x18", ("https://ror.org/02wxr8x18", "ROR", "https://ror.org")),
    ("ISNI 0000 0001 2189 9999", ("ISNI 0000 0001 2189 9999", "Other", None)),
])
def test_funder_identifiers(value: str, expected: tuple[str, str, str | None]) -> None:
    assert funder_identifier(value) == expected
