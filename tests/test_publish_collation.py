"""Publishing needs identifiers ordered by code point (local and published records are merged
in that order): a PostgreSQL database ordering text by a locale (here ICU's English) is
refused in one line before anything is published; a C-collated one and SQLite are accepted."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from oai.store.harvest import HarvestStore
from oai.store.harvest.publishing import UnorderedCollation
from oai.store.repository import Store
from tests.conftest import POSTGRES_URL, require_postgres

OAI = str(Path(sys.executable).with_name("oai"))


@pytest.fixture
def locale_ordered_url() -> Iterator[str]:
    """A fresh PostgreSQL database whose default collation is ICU's English, dropped after."""
    require_postgres()
    name = f"t_icu_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0 '
                          "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_locale_ordered_database_is_refused(locale_ordered_url: str) -> None:
    store = Store.open(locale_ordered_url, create=True)
    try:
        hstore = HarvestStore(store)
        source = hstore.add_source("src", "https://origin.example.org/oai")
        with pytest.raises(UnorderedCollation, match="orders text by a locale"):
            hstore.set_publish(source.id, True, "oai:test.example.org:")
        assert not hstore.require_source("src").publish  # nothing was changed
    finally:
        store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = locale_ordered_url
    done = subprocess.run([OAI, "harvest", "edit", "src", "--publish"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "C collation" in done.stderr


def test_code_point_ordered_stores_publish(database_url: str) -> None:
    store = Store.open(database_url, create=True)
    try:
        hstore = HarvestStore(store)
        source = hstore.add_source("src", "https://origin.example.org/oai")
        hstore.set_publish(source.id, True, "oai:test.example.org:")
        assert hstore.require_source("src").publish
    finally:
        store.close()
