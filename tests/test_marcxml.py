"""The `marcxml` format: the example article field by field, the fixed fields position by
position, our MARC21slim XSD against the official one (crosswalk output, real records,
broken variants), and the round trip through the provider."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from oai.formats import registry
from oai.formats.check import check
from oai.formats.marcxml.crosswalk import MARC, MARC_SCHEMA_URL
from oai.protocol.rendering import render
from oai.protocol.schemas import SchemaViolation, validate_fragment
from oai.store.repository import Store
from tests.conftest import NS, OAIClient, error_codes, put, record
from tests.library_corpus import (
    corpus,
    example,
    official_response_verdict,
    real_payloads,
    verdicts,
)

M = {"m": MARC}


def marc_of(rec: dict[str, Any]) -> etree._Element:
    fragment, reason = render(registry()["marcxml"], rec)
    assert fragment is not None, reason
    return etree.fromstring(fragment.encode())


def fields(root: etree._Element, tag: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every datafield `tag` as (indicators, [(code, value), ...])."""
    return [(f.get("ind1") + f.get("ind2"), [(s.get("code"), s.text or "") for s in f])
            for f in root.iterfind(f"m:datafield[@tag='{tag}']", M)]


def controlfield(root: etree._Element, tag: str) -> str | None:
    return root.findtext(f"m:controlfield[@tag='{tag}']", namespaces=M)


# --------------------------------------------------------------------------- the example


def test_example_article_field_by_field() -> None:
    root = marc_of(example())
    assert root.get("type") == "Bibliographic"
    lead = root.findtext("m:leader", namespaces=M)
    assert lead is not None and len(lead) == 24
    assert (lead[5], lead[6], lead[7], lead[9], lead[10:12], lead[20:]) == (
        "n", "a", "b", "a", "22", "4500")
    assert controlfield(root, "001") == "123456"
    assert controlfield(root, "005") == "20231004000000.0"
    fixed = controlfield(root, "008")
    assert fixed is not None and len(fixed) == 40
    assert (fixed[0:6], fixed[6], fixed[7:11], fixed[15:18], fixed[23], fixed[35:38]) == (
        "190502", "s", "2019", "xx ", "o", "eng")
    assert fields(root, "024") == [("7 ", [("a", "10.1093/bjsw/bcz067"), ("2", "doi")])]
    assert fields(root, "041") == [("  ", [("a", "eng")])]
    assert fields(root, "100") == [("1 ", [
        ("a", "Maxwell, Nina,"), ("e", "author."), ("u", "Cardiff University"),
        ("1", "https://orcid.org/0000-0003-3931-7729"), ("4", "aut")])]
    assert fields(root, "700") == [("1 ", [
        ("a", "Rees, Alyson,"), ("e", "author."), ("u", "Cardiff University"),
        ("1", "https://orcid.org/0000-0003-2363-4965"), ("4", "aut")])]
    assert fields(root, "245") == [("10", [
        ("a", "Video Interaction Guidance: a return to traditional values and "
              "relationship-based practice? /"),
        ("c", "Nina Maxwell and Alyson Rees.")])]
    assert fields(root, "264") == [(" 1", [("a", "Oxford :"), ("b", "Oxford University Press,"),
                                           ("c", "2019.")])]
    assert fields(root, "300") == [("  ", [("a", "1 online resource (19 pages)")])]
    assert [f[1][0][1] for t in ("336", "337", "338") for f in fields(root, t)] == [
        "text", "computer", "online resource"]
    assert fields(root, "506")[0][0] == "0 "
    assert fields(root, "520")[0][0] == "3 "
    assert fields(root, "536") == [("  ", [
        ("a", "Economic and Social Research Council (Wales Doctoral Training Partnership)"),
        ("c", "ES/P000401/1")])]
    licence = dict(fields(root, "540")[0][1])
    assert licence["u"] == "https://creativecommons.org/licenses/by-nc/4.0/"
    assert (licence["f"], licence["2"], licence["g"]) == ("CC BY-NC 4.0", "cc", "2019-05-02")
    assert fields(root, "650") == [
        (" 4", [("a", "HV Social pathology. Social and public welfare. Criminology.")]),
        (" 0", [("a", "Social service.")])]
    assert ("  ", [("a", "parenting")]) in fields(root, "653")
    assert fields(root, "773") == [("0 ", [
        ("t", "British Journal of Social Work"), ("g", "Vol. 49, no. 6 (2019), p. 1415-1433"),
        ("x", "0045-3102"), ("q", "49:6<1415"), ("7", "nnas")])]
    links = fields(root, "856")
    assert links[0] == ("40", [("u", "https://orca.cardiff.ac.uk/id/eprint/123456/"),
                               ("y", "Repository record")])
    pdf = dict(links[1][1])
    assert links[1][0] == "40"
    assert pdf["u"] == "https://orca.cardiff.ac.uk/id/eprint/123456/1/Maxwell_Rees_VIG_BJSW_AM.pdf"
    assert (pdf["q"], pdf["s"], pdf["y"]) == ("application/pdf", "314368 bytes",
                                              "Maxwell_Rees_VIG_BJSW_AM.pdf")
    assert pdf["z"].startswith("Accepted manuscript")
    assert links[2] == ("42", [("u", "https://doi.org/10.1093/bjsw/bcz067"),
                               ("y", "DOI landing page")])
    tags = [f.get("tag") for f in root.iterfind("m:datafield", M)]
    assert tags == sorted(tags)


def test_fixed_fields_and_titles_of_other_kinds() -> None:
    thesis = {"id": "t1", "type": "thesis", "titles": [{"text": "The sea", "lang": "en"},
                                                       {"text": "a study", "kind": "subtitle"}],
              "thesis": {"degree": "PhD", "level": "doctoral", "institution": "Cardiff "
                         "University"}, "dates": {"awarded": "2020-07-01"},
              "languages": ["fr"], "series": {"title": "Theses", "number": "12"}}
    root = marc_of(thesis)
    lead = root.findtext("m:leader", namespaces=M)
    assert lead is not None and (lead[6], lead[7]) == ("a", "m")
    fixed = controlfield(root, "008")
    assert fixed is not None and (fixed[0:6], fixed[7:11], fixed[24], fixed[35:38]) == (
        "||||||", "2020", "m", "fre")
    assert controlfield(root, "005") is None and controlfield(root, "007") is None
    assert fields(root, "245") == [("04", [("a", "The sea :"), ("b", "a study.")])]
    assert fields(root, "502") == [("  ", [("b", "PhD"), ("c", "Cardiff University"),
                                           ("d", "2020")])]
    assert fields(root, "490") == [("1 ", [("a", "Theses ;"), ("v", "12")])]
    assert fields(root, "830") == [(" 0", [("a", "Theses ;"), ("v", "12.")])]
    book = marc_of({"id": "b", "type": "book", "titles": [{"text": "Tides"}],
                    "edition": "2nd edition", "isbn": ["978-0-00-000000-2"]})
    assert fields(book, "250") == [("  ", [("a", "2nd edition")])]
    assert fields(book, "020") == [("  ", [("a", "978-0-00-000000-2")])]
    software = marc_of({"id": "s", "type": "software", "titles": [{"text": "Tool"}]})
    lead = software.findtext("m:leader", namespaces=M)
    fixed = controlfield(software, "008")
    assert lead is not None and fixed is not None
    assert (lead[6], lead[7], fixed[6:11], fixed[26], fixed[35:38]) == ("m", "m", "nuuuu",
                                                                        "b", "und")


def test_a_record_without_a_real_title_is_refused() -> None:
    fmt = registry()["marcxml"]
    assert fmt.unavailable(record("x", title=" ")) == "MARC 21 needs a title proper (245 $a)"
    assert fmt.unavailable(record("x")) is None


# --------------------------------------------------------------------------- our XSD


def test_every_corpus_record_is_valid_for_both_schemas() -> None:
    fmt = registry()["marcxml"]
    for rec in corpus():
        assert fmt.unavailable(rec) is None, rec["id"]
        root = etree.fromstring(fmt.crosswalk(rec).encode())
        assert verdicts(MARC_SCHEMA_URL, root) == (True, True), rec["id"]
        lead = root.findtext("m:leader", namespaces=M)
        fixed = controlfield(root, "008")
        assert lead is not None and len(lead) == 24 and fixed is not None and len(fixed) == 40


# Real payloads and what is wrong with them (None = valid), as found in the wild.
REAL_PROBLEMS: dict[str, str | None] = {
    "pymarc_doc_marc21_loc-batch.xml#0": None,
    "pymarc_doc_marc21_utf8.xml#0": None,
    "marc4j_doc_marc21_loc-summerland.xml#0": None,
    "dnb_doc_marc21_collection.xml#0": None,
    "hathitrust_record_marc21.xml#0": None,
    "pymarc_doc_marc21_bad-tag.xml#0": "leader of blanks with Z; datafield tag '42'",
    "alma_doc_marc21_messed-up-leader.xml#0": "'<' in the leader",
    "ruby-marc_doc_marc21_no-leading-zero.xml#0": "datafield tag '42'",
    "koha_doc_marc21_oai-header-leak.xml#0": "OAI <identifier>/<datestamp> in the record",
    "british-library_doc_marc21_collection.xml#0": "a leader ending '450 '",
}


def test_real_records_get_the_official_verdict() -> None:
    payloads = real_payloads(MARC, "marc21")
    assert {name for name, _ in payloads} == set(REAL_PROBLEMS)
    records, invalid = 0, 0
    for name, element in payloads:
        theirs, ours = verdicts(MARC_SCHEMA_URL, element)
        assert theirs is ours is (REAL_PROBLEMS[name] is None), (name, REAL_PROBLEMS[name])
        # each record of a collection on its own too (e.g. which British Library leaders fail)
        for rec in element.iterfind("m:record", M):
            records += 1
            theirs, ours = verdicts(MARC_SCHEMA_URL, rec)
            assert theirs is ours, (name, rec.findtext("m:leader", namespaces=M))
            invalid += not ours
    assert (records, invalid) == (203, 2)


def _variant(change: str) -> bytes:
    """The example article's MARCXML with one change 'old=>new' (first occurrence), or a
    whole document when there is no '=>'."""
    if "=>" not in change:
        return change.encode()
    data = etree.tostring(marc_of(example())).decode()
    old, new = change.split("=>")
    assert old in data, old
    return data.replace(old, new, 1).encode()


R = f'<record xmlns="{MARC}"'
DF = '<datafield tag="024" ind1="7" ind2=" ">'


def indicators(ind1: str, ind2: str) -> str:
    """A change of the 024's indicators."""
    return f'{DF}=><datafield tag="024" ind1="{ind1}" ind2="{ind2}">'


VARIANTS: list[tuple[str, str, bool]] = [
    ("unchanged", "<leader>=><leader>", True),
    ("empty-record", f"{R}/>", True),
    ("nil-record", f'{R} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>',
     True),
    ("empty-collection", f'<collection xmlns="{MARC}"/>', True),
    ("leader-only", f"{R}><leader>00000nam a2200000 a 4500</leader></record>", True),
    ("blank-entry-map", "a22000007i 4500=>a22000007i     ", True),
    ("lower-case-indicator", indicators("7", "z"), True),
    ("alphabetic-local-tag", '<datafield tag="041"=><datafield tag="ABC"', True),
    ("symbol-subfield-code", '<subfield code="2">doi=><subfield code="$">doi', True),
    ("no-leader", "<leader>00000nab a22000007i 4500</leader>=>", False),
    ("no-subfield", "<subfield code=\"a\">eng</subfield>=>", False),
    ("no-ind2", f'{DF}=><datafield tag="024" ind1="7">', False),
    ("no-tag", '<controlfield tag="001">=><controlfield>', False),
    ("no-code", '<subfield code="2">doi=><subfield>doi', False),
    ("leader-23", "a22000007i 4500=>a22000007i 450", False),
    ("leader-25", "a22000007i 4500=>a22000007i 45000", False),
    ("leader-type-blank", "00000nab=>00000n b", False),
    ("leader-lt", "a22000007i=>a2200000&lt;i", False),
    ("leader-entry-map", "i 4500<=>i 4501<", False),
    ("tag-42", '<datafield tag="041"=><datafield tag="42"', False),
    ("tag-mixed-case", '<datafield tag="041"=><datafield tag="AbC"', False),
    ("tag-00x-datafield", '<datafield tag="041"=><datafield tag="009"', False),
    ("controlfield-tag-010", '<controlfield tag="001">=><controlfield tag="010">', False),
    ("indicator-upper-z", indicators("7", "Z"), False),
    ("indicator-two-chars", indicators("10", " "), False),
    ("indicator-empty", indicators("", " "), False),
    ("subfield-code-at", '<subfield code="2">doi=><subfield code="@">doi', False),
    ("subfield-code-pipe", '<subfield code="2">doi=><subfield code="|">doi', False),
    ("subfield-code-two", '<subfield code="2">doi=><subfield code="ab">doi', False),
    ("record-type-lower", 'type="Bibliographic"=>type="bibliographic"', False),
    ("datafield-before-controlfield", '<controlfield tag="001">123456</controlfield>=>'
     '<datafield tag="500" ind1=" " ind2=" "><subfield code="a">x</subfield></datafield>'
     '<controlfield tag="001">123456</controlfield>', False),
    ("two-leaders", "<leader>=><leader>00000nam a2200000 a 4500</leader><leader>", False),
    ("stray-element", "<leader>=><identifier>oai:x:1</identifier><leader>", False),
    ("text-in-record", "<leader>=>text<leader>", False),
    ("markup-in-subfield", '<subfield code="2">doi=><subfield code="2"><b>doi</b>', False),
    ("stray-attribute", '<datafield tag="041"=><datafield foo="x" tag="041"', False),
    ("duplicate-id", '<controlfield tag="001">=><controlfield id="a" tag="002">x</controlfield>'
     '<controlfield id="a" tag="001">', False),
]


@pytest.mark.parametrize(("change", "valid"), [v[1:] for v in VARIANTS],
                         ids=[v[0] for v in VARIANTS])
def test_variant_verdicts(change: str, valid: bool) -> None:
    root = etree.fromstring(_variant(change))
    assert verdicts(MARC_SCHEMA_URL, root) == (valid, valid)
    if etree.QName(root).localname != "record" or root.get("type") is None:
        return
    if valid:
        validate_fragment("marcxml", root)
    else:
        with pytest.raises(SchemaViolation):
            validate_fragment("marcxml", root)


# --------------------------------------------------------------------------- provider


def test_served_through_the_provider(store: Store, oai: OAIClient) -> None:
    put(store, example(), record("plain"), record("untitled", title=" "))
    formats = oai(verb="ListMetadataFormats")
    listed = {f.findtext("o:metadataPrefix", namespaces=NS): f
              for f in formats.iterfind(".//o:metadataFormat", NS)}
    assert listed["marcxml"].findtext("o:schema", namespaces=NS) == MARC_SCHEMA_URL
    assert listed["marcxml"].findtext("o:metadataNamespace", namespaces=NS) == MARC
    prefix = "oai:test.example.org:"
    raw = oai.raw(verb="GetRecord", metadataPrefix="marcxml", identifier=prefix + "123456")
    assert official_response_verdict(raw)  # ours validated it already (OAIClient)
    got = etree.fromstring(raw)
    assert got.xpath(".//m:datafield[@tag='773']/m:subfield[@code='q']/text()",
                     namespaces=M) == ["49:6<1415"]
    harvested = oai.harvest(metadataPrefix="marcxml")  # every page schema-validated
    assert sorted(r.findtext(".//o:identifier", namespaces=NS) for r in harvested) == [
        prefix + "123456", prefix + "plain"]
    refused = oai(verb="GetRecord", metadataPrefix="marcxml", identifier=prefix + "untitled")
    assert error_codes(refused) == ["cannotDisseminateFormat"]
    counted = {c.prefix: c for c in check(store, sample=10)}["marcxml"]
    assert (counted.disseminated, counted.not_disseminated) == (2, 1)
    assert counted.reasons == {"MARC 21 needs a title proper (245 $a)": 1}
