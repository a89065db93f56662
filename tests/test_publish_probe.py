"""The independent conformance probe (`/work/shared/tools/oaiprobe`, or OAI_PROBE) against a
provider serving local and published records together: no check may fail."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from oai.provider.app import create_app
from oai.store.harvest import HarvestStore
from oai.store.repository import Store
from tests.conftest import make_config, put, record
from tests.serving import serve_in_thread
from tests.test_publish_e2e import datacite_record, origin, run

PROBE = Path(os.environ.get("OAI_PROBE", "/work/shared/tools/oaiprobe/oaiprobe.py"))


@pytest.mark.skipif(not PROBE.exists(), reason=f"the conformance probe is not at {PROBE}")
def test_probe_on_local_and_published_records(database_url: str, tmp_path: Path) -> None:
    with ExitStack() as stack:
        store_a, url_a = stack.enter_context(origin(tmp_path / "a.sqlite", "a.example.org",
                                                    ("oai_dc",)))
        store_b, url_b = stack.enter_context(origin(tmp_path / "b.sqlite", "b.example.org",
                                                    ("oai_dc", "oai_datacite")))
        put(store_a, *[record(f"a{i:03d}") for i in range(25)])
        store_a.delete(["a004"])
        put(store_b, *[datacite_record(f"b{i:03d}") for i in range(15)])
        aggregator = Store.open(database_url, create=True)
        stack.callback(aggregator.close)
        put(aggregator, *[record(f"l{i}", sets=["school:x"]) for i in range(12)])
        aggregator.delete(["l3"])
        hagg = HarvestStore(aggregator)
        hagg.add_source("a", url_a)
        hagg.add_source("b", url_b, extra_prefixes=["oai_datacite"])
        for name in ("a", "b"):
            run(hagg, name)
            hagg.set_publish(hagg.require_source(name).id, True, "oai:agg.example.org:")
        app = create_app(make_config(repository_identifier="agg.example.org", page_size=8,
                                     base_url=None), aggregator)
        with serve_in_thread(app) as base:
            probe = subprocess.run([sys.executable, str(PROBE), f"{base}/oai"],
                                   capture_output=True, text=True, timeout=600)
        failed = [line for line in probe.stdout.splitlines() if line.startswith("FAIL")]
        assert probe.returncode == 0 and not failed, "\n".join(failed) or probe.stderr
        assert " 0 failed" in probe.stdout.splitlines()[-1]
