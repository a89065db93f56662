"""Identifier normalisation (over idutils), fingerprints, and the per-format pickers: one
work rendered by the toolkit's own crosswalks in every format (and a RIOXX record) gives
the same keys; relations and host-item identifiers are never taken for the work's own."""

from __future__ import annotations

import pytest

from harvester.duplicates.fingerprint import blocks, make, similarity, surname_of, year_of
from harvester.duplicates.identifiers import normalise
from harvester.duplicates.keys import keys_for
from oai.protocol.rendering import prepare_record
from oai.store.harvest.clusters import components


@pytest.mark.parametrize("spelling", [
    "doi:10.1000/Alpha", "https://doi.org/10.1000/alpha", "http://dx.doi.org/10.1000/ALPHA",
    "10.1000/ALPHA", "info:doi/10.1000/alpha", "https://doi.org/10.1000%2Falpha"])
def test_doi_spellings_are_one(spelling: str) -> None:
    assert normalise(spelling) == [("doi", "10.1000/alpha")]


@pytest.mark.parametrize(("value", "declared", "expected"), [
    ("arXiv:2101.00001", None, [("arxiv", "2101.00001")]),
    ("https://arxiv.org/abs/2101.00001v2", None, [("arxiv", "2101.00001")]),
    ("https://arxiv.org/pdf/2101.00001v3.pdf", None, [("arxiv", "2101.00001")]),
    ("2101.00001", "arXiv", [("arxiv", "2101.00001")]),
    ("2101.00001", None, []),  # a bare number-like value is not believed
    ("hdl:2027/mdp.39015", None, [("handle", "2027/mdp.39015")]),
    ("http://hdl.handle.net/2027/MDP.39015", None, [("handle", "2027/mdp.39015")]),
    ("PMID:12345678", None, [("pmid", "12345678")]),
    ("https://www.ncbi.nlm.nih.gov/pubmed/12345678", None, [("pmid", "12345678")]),
    ("12345678", None, []),
    ("12345678", "PMID", [("pmid", "12345678")]),
    ("PMC1234567", None, [("pmcid", "PMC1234567")]),
    ("ISBN 3-16-148410-X", None, [("isbn", "9783161484100")]),
    ("978-3-16-148410-0", "isbn", [("isbn", "9783161484100")]),
    ("urn:nbn:de:0000-12345", None, [("urn", "urn:nbn:de:0000-12345")]),
    ("https://nbn-resolving.org/urn:nbn:de:0000-12345", None, [("urn", "urn:nbn:de:0000-12345")]),
    ("https://example.org/record/1", None, []),
    ("oai:example.org:1", None, []),
    ("2020", None, []),
    # an ISBN inside text, as catalogues write it, is found; dates and citations are not ISBNs
    ("0786254815 (lg. print : alk. paper)", None, [("isbn", "9780786254811")]),
    ("Naoura, Salah: Mücke und Agathe (978-3-7707-3336-1)", None,
     [("isbn", "9783770733361")]),
    ("Accepted manuscript; embargoed until 2021-10-03; licence "
     "https://creativecommons.org/licenses/by/4.0/", None, []),
    ("Print #M175. CCML Council Quotes Vol. 18 (4). July/August 1995", None, []),
    ("Zhang, N. (2023) Face recognition at scale. J. Imaging 12(3): 1-10. doi:10.5555/x",
     None, []),
])
def test_identifiers(value: str, declared: str | None, expected: list[tuple[str, str]]) -> None:
    assert normalise(value, declared) == expected


def test_fingerprints() -> None:
    a = make("Über die Quantenmechanik der Katzen!", year_of("2019-03-01"),
             surname_of("Müller, Hans"))
    b = make("UBER DIE QUANTENMECHANIK  DER KATZEN", year_of("c. 2019"), surname_of("Hans Muller"))
    assert a is not None and b is not None and a == b and blocks(a) == blocks(b)
    assert similarity(a, b) == 1.0
    later = make("Über die Quantenmechanik der Katzen", 2020, "muller")
    other = make("Über die Quantenmechanik der Katzen", 2019, "schmidt")
    assert later is not None and other is not None
    assert similarity(a, later) is None and similarity(a, other) is None
    near = make("A study of graph colouring in planar graphs", 2018, "lee")
    far = make("A study of graph colouring in sparse graphs", 2018, "lee")
    assert near is not None and far is not None and similarity(near, far) is None
    assert make("Editorial", 2020, "smith") is None  # too short to tell works apart
    assert make("A long enough title here", None, "smith") is None


def test_components() -> None:
    assert components([1, 2, 3, 4, 5], [(1, 2), (2, 3), (4, 9)]) == [{1, 2, 3}, {4}, {5}]


WORK = {"id": "w1", "titles": [{"text": "The Deep Learning of Cats and Dogs"}],
        "type": "article", "creators": [{"name": "Müller, Hans"}, {"name": "Doe, Jane"}],
        "doi": "10.1234/ABC", "dates": {"published": "2020-05-01"}, "publisher": "P",
        "access": {"status": "open"}, "isbn": ["978-3-16-148410-0"],
        "url": "https://repository.example.org/w1",
        "identifiers": [{"scheme": "arxiv", "value": "2101.00001"},
                        {"scheme": "pmid", "value": "123456"}],
        "relations": [{"kind": "references", "identifier": "10.9999/other", "scheme": "doi"}],
        "journal": {"title": "Journal", "issn": "1234-5679"}}


@pytest.mark.parametrize("prefix", ["oai_dc", "datacite", "oai_datacite", "oai_openaire",
                                    "mods", "marcxml"])
def test_every_format_gives_the_work_keys(prefix: str) -> None:
    keys = keys_for(prepare_record(WORK).renditions[prefix])
    assert keys is not None
    assert ("doi", "10.1234/abc") in keys.identifiers
    assert ("doi", "10.9999/other") not in keys.identifiers  # a reference, not the work
    if prefix != "oai_dc":  # oai_dc carries the others untyped: not believed
        assert {("arxiv", "2101.00001"), ("pmid", "123456"),
                ("isbn", "9783161484100")} <= set(keys.identifiers)
    assert (keys.fp_title, keys.year, keys.surname) == (
        "deep learning of cats and dogs", 2020, "muller")


def test_rioxx_by_namespace() -> None:
    rioxx = (
        '<rioxx xmlns="http://www.rioxx.net/schema/v3.0/rioxx/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:rioxxterms="http://www.rioxx.net/schema/v3.0/rioxxterms/">'
        "<dc:identifier>https://repository.example.org/7/</dc:identifier>"
        "<dc:title>The deep learning of cats and dogs</dc:title>"
        "<rioxxterms:creator><rioxxterms:name>Müller, Hans</rioxxterms:name>"
        "<rioxxterms:id>https://orcid.org/0000-0002-1825-0097</rioxxterms:id>"
        "</rioxxterms:creator>"
        '<dc:relation rel="cite-as">https://doi.org/10.1234/abc</dc:relation>'
        '<dc:relation rel="item">https://doi.org/10.5555/dataset</dc:relation>'
        "<rioxxterms:publication_date>2020-05</rioxxterms:publication_date></rioxx>")
    keys = keys_for(rioxx)
    assert keys is not None and keys.identifiers == (("doi", "10.1234/abc"),)
    assert (keys.fp_title, keys.year, keys.surname) == (
        "deep learning of cats and dogs", 2020, "muller")


def test_unusable_payloads() -> None:
    assert keys_for(None) is None
    assert keys_for("<not xml") is None
    assert keys_for('<x xmlns="urn:x"><y>nothing here</y></x>') is None
