"""A real headless Chromium for the tests that look at pages as a person does: Debian's
chromium driven by Selenium through Debian's chromedriver. Without them a test skips, saying
why, unless OAI_REQUIRE_BROWSER=1 (CI), which makes that a failure."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ARTIFACTS, PROJECT

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: Debian's build, without anything that would reach the network on its own.
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,900")


def browser_problem() -> str | None:
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not shutil.which(path):
            return f"{path} not found (apt-get install {package})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """A Selenium driver of headless Chromium, or a skip (a failure in CI) saying why not."""
    problem = browser_problem()
    if problem is not None:
        if os.environ.get("OAI_REQUIRE_BROWSER") == "1":
            pytest.fail(f"a browser is required (OAI_REQUIRE_BROWSER=1) but {problem}")
        pytest.skip(f"no headless browser: {problem}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


def screenshot(driver: Any, name: str) -> Path:
    """The whole page (beyond the window), as a PNG test artefact."""
    folder = Path(os.environ.get("OAI_TEST_ARTIFACTS") or PROJECT / "test-artifacts") / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    shot = driver.execute_cdp_cmd("Page.captureScreenshot",
                                  {"format": "png", "captureBeyondViewport": True})
    path = folder / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.stat().st_size > 10_000  # a page, not an empty canvas
    ARTIFACTS.append(path)
    print(f"screenshot: {path}")
    return path
