"""The feed as a person sees it: a real headless Chromium, driven by Selenium through Debian's
chromedriver, opens `oai serve` (real HTTP, the bundled fixtures) and browses it by clicking.

Every page is checked against the XML the provider serves for the same URL (titles,
identifiers, datestamps, error messages). Screenshots of Identify and of a ListRecords page
are saved under test-artifacts/browser/ (or $OAI_TEST_ARTIFACTS) and listed at the end of
the run. Without chromium, chromedriver or selenium these tests skip, saying why, unless
OAI_REQUIRE_BROWSER=1 (CI), which makes that a failure.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from lxml import etree

from oai.protocol.namespaces import DC, OAI
from oai.protocol.schemas import validate_response
from tests.browser import chromium, screenshot
from tests.conftest import PROJECT
from tests.serving import OAI as OAI_COMMAND
from tests.serving import Served, oai_serve

NS = {"o": OAI, "dc": DC}
PAGE_SIZE = 10
REPOSITORY = "Browser Test Repository"
SETTINGS = f"""
repository_name = "{REPOSITORY}"
admin_emails = ["library@test.example.org"]

[identify.eprints]
content = {{ text = "Research outputs of the test university" }}
metadata_policy = {{ text = "Metadata may be reused under CC0." }}
data_policy = {{ url = "https://test.example.org/policies/data" }}

[identify.friends]
base_urls = ["https://other.example.org/oai"]

[identify.rights]
references = ["https://creativecommons.org/publicdomain/zero/1.0/"]

[about.rights]
from_licence = true
"""


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`oai serve` over the fixtures, loaded with `oai load`, ten records a page."""
    tmp = tmp_path_factory.mktemp("browser")
    config = tmp / "oai.toml"
    config.write_text(SETTINGS)
    url = f"sqlite:///{tmp / 'store.sqlite'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env.update(OAI_DATABASE_URL=url, OAI_CONFIG=str(config),
               OAI_REPOSITORY_IDENTIFIER="test.example.org")
    for args in (["init"], ["load", str(PROJECT / "fixtures")]):
        done = subprocess.run([OAI_COMMAND, *args], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
    with oai_serve(url, tmp / "serve.log", config=str(config), page_size=str(PAGE_SIZE),
                   sets_page_size=str(PAGE_SIZE)) as served:
        yield served


def xml(server: Served, url: str) -> etree._Element:
    """What a harvester gets for the page's URL (checked against the schemas)."""
    body = requests.get(url, timeout=60).content
    validate_response(body)
    return etree.fromstring(body)


def visit(driver: Any, url: str) -> str:
    """Open `url`; the page's visible text. Chromium announces, in a popover of its own over
    pages that use XSLT, that it will stop supporting it: dismissed, as a reader would."""
    driver.get(url)
    return settle(driver)


def settle(driver: Any) -> str:
    driver.execute_script(
        "for (const b of document.querySelectorAll('xslt-warning-banner'))"
        " { try { b.hidePopover(); } catch (e) {} b.remove(); }")
    assert driver.find_elements("css selector", "main"), \
        f"{driver.current_url} was not rendered by the stylesheet: {driver.page_source[:300]}"
    return str(driver.find_element("tag name", "body").text)


def click(driver: Any, link: Any) -> str:
    link.click()
    return settle(driver)


def links(driver: Any, css: str) -> list[Any]:
    return list(driver.find_elements("css selector", css))


# --------------------------------------------------------------------------- tests


def test_identify(driver: Any, server: Served) -> None:
    url = f"{server.url}?verb=Identify"
    shown = visit(driver, url)
    root = xml(server, url)
    identify = root.find("o:Identify", NS)
    assert identify is not None
    assert driver.title.startswith(REPOSITORY)
    for field in ("repositoryName", "baseURL", "earliestDatestamp", "adminEmail",
                  "granularity", "deletedRecord"):
        value = identify.findtext(f"o:{field}", namespaces=NS)
        assert value and value in shown, field
    for text in ("Research outputs of the test university", "Metadata may be reused under CC0.",
                 "https://test.example.org/policies/data", "https://other.example.org/oai",
                 "https://creativecommons.org/publicdomain/zero/1.0/",
                 "oai:test.example.org:123456"):
        assert text in shown, text
    screenshot(driver, "identify")


def test_list_records_to_the_last_page(driver: Any, server: Served) -> None:
    visit(driver, f"{server.url}?verb=Identify")
    shown = click(driver, driver.find_element("link text", "Browse the records"))
    assert "Records in oai_dc" in shown
    screenshot(driver, "list-records")
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        root = xml(server, driver.current_url)
        records = root.findall("o:ListRecords/o:record", NS)
        token = root.find("o:ListRecords/o:resumptionToken", NS)
        assert token is not None
        size = int(token.get("completeListSize", "0"))
        first = int(token.get("cursor", "0")) + 1
        assert f"Showing records {first}\u2013{first + len(records) - 1} of {size}" in shown
        for record in records:
            identifier = record.findtext("o:header/o:identifier", namespaces=NS)
            datestamp = record.findtext("o:header/o:datestamp", namespaces=NS)
            assert identifier in shown and datestamp in shown
            title = record.findtext(".//dc:title", namespaces=NS)
            assert title is None or " ".join(title.split()) in shown
            seen.append(identifier)
        nexts = links(driver, "a[rel=next]")
        if not token.text:
            assert not nexts and "Last page of the list" in shown
            break
        assert len(nexts) == 1
        shown = click(driver, nexts[0])
    assert pages == -(-size // PAGE_SIZE) > 1
    assert len(seen) == len(set(seen)) == size


def test_every_record_opens_in_every_format(driver: Any, server: Served) -> None:
    """From a list, each record's formats (ListMetadataFormats for its identifier), and the
    record in each of them: new formats are covered as soon as the provider offers them."""
    offered = [e.text for e in
               xml(server, f"{server.url}?verb=ListMetadataFormats").iterfind(
                   ".//o:metadataPrefix", NS)]
    assert "oai_dc" in offered
    visit(driver, f"{server.url}?verb=ListRecords&metadataPrefix=oai_dc")
    live = [a for a in links(driver, "article.record") if "deleted" not in
            (a.get_attribute("class") or "")]
    identifier = live[0].find_element("css selector", "code.identifier").text
    shown = click(driver, live[0].find_element("link text", "Formats"))
    assert identifier in shown
    formats_url = driver.current_url
    opened = []
    for prefix in [e.text for e in xml(server, formats_url).iterfind(".//o:metadataPrefix",
                                                                      NS)]:
        visit(driver, formats_url)
        shown = click(driver, driver.find_element("link text", f"Show the record as {prefix}"))
        query = parse_qs(urlsplit(driver.current_url).query)
        assert query["metadataPrefix"] == [prefix] and query["identifier"] == [identifier]
        record = xml(server, driver.current_url).find("o:GetRecord/o:record", NS)
        assert record is not None
        assert identifier in shown
        assert record.findtext("o:header/o:datestamp", namespaces=NS) in shown
        for value in record.find("o:metadata", NS).iter():  # every value is on the page
            if isinstance(value.tag, str) and value.text and value.text.strip():
                assert " ".join(value.text.split()) in shown, (prefix, value.tag)
        opened.append(prefix)
    assert sorted(opened) == sorted(offered)


def test_sets_lead_to_their_records(driver: Any, server: Served) -> None:
    url = f"{server.url}?verb=ListSets"
    shown = visit(driver, url)
    for item in xml(server, url).iterfind("o:ListSets/o:set", NS):
        assert item.findtext("o:setName", namespaces=NS) in shown
    first_spec = xml(server, url).findtext("o:ListSets/o:set/o:setSpec", namespaces=NS)
    shown = click(driver, links(driver, "td.links a")[0])
    assert f"Records in oai_dc of set {first_spec}" in shown
    root = xml(server, driver.current_url)
    headers = root.findall(".//o:header", NS)
    assert headers and all(
        any(s.text == first_spec or (s.text or "").startswith(first_spec + ":")
            for s in h.iterfind("o:setSpec", NS)) for h in headers)
    # a record's set badge lists that set's records
    spec = headers[0].findtext("o:setSpec", namespaces=NS)
    shown = click(driver, driver.find_element("css selector", "a.set"))
    assert f"of set {spec}" in shown


def test_identifiers_and_formats(driver: Any, server: Served) -> None:
    url = f"{server.url}?verb=ListIdentifiers&metadataPrefix=oai_dc"
    shown = visit(driver, url)
    for header in xml(server, url).iterfind(".//o:header", NS):
        assert header.findtext("o:identifier", namespaces=NS) in shown
        assert header.findtext("o:datestamp", namespaces=NS) in shown
    shown = click(driver, driver.find_element("link text", "Formats"))  # the nav bar's
    assert "Metadata formats" in shown and "oai_dc" in shown
    shown = click(driver, driver.find_element("css selector", "td.links a"))
    assert "Records in oai_dc" in shown


@pytest.mark.parametrize("query", ["verb=Frobnicate",
                                   "verb=GetRecord&metadataPrefix=oai_dc&identifier=nope",
                                   "verb=ListRecords&metadataPrefix=oai_dc&resumptionToken=x"])
def test_errors_are_explained(driver: Any, server: Served, query: str) -> None:
    url = f"{server.url}?{query}"
    shown = visit(driver, url)
    errors = xml(server, url).findall("o:error", NS)
    assert errors
    assert "The repository could not answer this request" in shown
    for error in errors:
        assert error.get("code") in shown
        assert " ".join((error.text or "").split()) in shown
    assert re.search(r"RESPONSE DATE\s+\d{4}-\d\d-\d\dT", shown, re.IGNORECASE)
