"""The deep-pages store: N generated records COPYed into a PostgreSQL schema of their own.

The schema is created by the project's migrations (exactly what `oai init` creates); the
indexes and constraints of records, renditions and record_sets are dropped for the load and
re-created from their own catalog definitions afterwards (checked identical). Rows are made
from a few hundred real records prepared by the project (canonical JSON, validated oai_dc),
their id and sets substituted: preparing ten million one by one would take hours. oai_dc
renditions only. Used by bench/deep_pages.py and its test.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import psycopg
from sqlalchemy import create_engine, text

from oai.fixtures.generate import generate_records
from oai.protocol.rendering import prepare_record
from oai.store.repository import Store

PREFIX = "oai_dc"
SETS = 20
TEMPLATES = 500
PLACEHOLDER_SET = "zzdeepplaceholder"
SECOND_SET_SHARE = 0.10  # records in a second set
DELETED_SHARE = 0.01  # tombstones
MODIFIED_SHARE = 0.20  # records whose datestamp moved later (edited after deposit)
START_EPOCH = 1_325_376_000  # 2012-01-01
CHUNK = 20_000
BUILD_TABLES = ("records", "renditions", "record_sets")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def set_spec(k: int) -> str:
    return f"dept{k:02d}"


def record_id(i: int) -> str:
    return f"deep-{i:09d}"


# -- generation ----------------------------------------------------------------------------


def _copy_escape(value: str) -> str:
    """A value in COPY's text format."""
    return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


@dataclass(frozen=True)
class Template:
    id: str
    data: str  # COPY-escaped canonical JSON, sets = [PLACEHOLDER_SET]
    xml: str  # COPY-escaped oai_dc fragment


def templates(count: int = TEMPLATES, seed: int = 1) -> list[Template]:
    """Real generated records, prepared by the project (canonical JSON, validated oai_dc),
    whose id and sets are substituted per generated row."""
    out = []
    for rec in generate_records(count, seed):
        rec = {**rec, "sets": [PLACEHOLDER_SET]}
        prepared = prepare_record(rec)
        out.append(Template(prepared.id, _copy_escape(prepared.data),
                            _copy_escape(prepared.renditions[PREFIX])))
    return out


def set_weights(count: int = SETS) -> list[float]:
    """Zipf-like set sizes: a few big departments, many small ones."""
    return [1.0 / k for k in range(1, count + 1)]


@dataclass
class Row:
    id: str
    datestamp: int
    deleted: bool
    specs: list[str]


def generate_rows(count: int, seed: int, end_epoch: int) -> Iterator[Row]:
    """`count` rows, ids ascending, datestamps spread from 2012 to `end_epoch` in bursts (bulk
    deposits share a second), a share of them moved later (edits), tombstones and sets."""
    rng = random.Random(seed)
    span = end_epoch - START_EPOCH
    weights = set_weights()
    specs = list(range(1, SETS + 1))
    i = 0
    while i < count:
        burst = min(count - i, 1 if rng.random() < 0.7 else rng.randint(2, 300))
        base = START_EPOCH + (span * i) // count
        for _ in range(burst):
            i += 1
            stamp = base
            if rng.random() < MODIFIED_SHARE:
                stamp = rng.randint(base, end_epoch)
            first = rng.choices(specs, weights)[0]
            chosen = [first]
            if rng.random() < SECOND_SET_SHARE:
                other = rng.choices(specs, weights)[0]
                if other != first:
                    chosen.append(other)
            yield Row(record_id(i), stamp, rng.random() < DELETED_SHARE,
                      [set_spec(k) for k in chosen])


# -- loading -------------------------------------------------------------------------------


def schema_url(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL in the form psycopg connects with."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _ddl(conn: psycopg.Connection[Any], schema: str) -> tuple[list[tuple[str, str, str]],
                                                              list[tuple[str, str]]]:
    """The build tables' constraints (table, name, definition) and other indexes
    (name, definition), as the catalog holds them."""
    constraints = conn.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE n.nspname = %s AND c.conrelid::regclass::text = ANY(%s) AND c.contype IN "
        "('p', 'f', 'u') ORDER BY c.contype DESC, c.conname",  # p and u before f
        (schema, list(BUILD_TABLES))).fetchall()
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s "
        "AND tablename = ANY(%s) AND indexname NOT IN (SELECT conname FROM pg_constraint "
        "c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = %s) "
        "ORDER BY indexname", (schema, list(BUILD_TABLES), schema)).fetchall()
    return ([(str(t), str(n), str(d)) for t, n, d in constraints],
            [(str(n), str(d)) for n, d in indexes])


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def build(url: str, schema: str, count: int, seed: int = 1, end_epoch: int | None = None,
          progress: bool = True) -> dict[str, Any]:
    """Create `schema`, migrate it like `oai init`, and COPY `count` generated records in.
    Returns build figures (seconds, bytes)."""
    started = time.monotonic()
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {_quoted(schema)}"))
    admin.dispose()
    store_url = schema_url(url, schema)
    store = Store.open(store_url, create=True)  # the project's migrations + settings
    if end_epoch is None:
        end_epoch = store.now() - 86_400
    store.close()
    pq = libpq_url(store_url)
    with psycopg.connect(pq, autocommit=True) as conn:
        constraints, indexes = _ddl(conn, schema)
        for table, name, _ in reversed(constraints):  # foreign keys first
            conn.execute(f"ALTER TABLE {_quoted(table)} DROP CONSTRAINT {_quoted(name)}")
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {_quoted(name)}")
        conn.execute("INSERT INTO sets (spec, name, description) VALUES "
                     + ", ".join(f"('{set_spec(k)}', 'Department {k}', NULL)"
                                 for k in range(1, SETS + 1)))
    log(f"preparing {TEMPLATES} template records")
    pool = templates(TEMPLATES, seed)
    log(f"generating and copying {count:,} records into schema {schema}")
    loaded = time.monotonic()
    conns = [psycopg.connect(pq) for _ in BUILD_TABLES]
    try:
        cursors = [c.cursor() for c in conns]
        copies = [
            cursors[0].copy("COPY records (id, datestamp, deleted, set_specs, content_hash, "
                            "data) FROM STDIN"),
            cursors[1].copy("COPY renditions (record_id, prefix, xml) FROM STDIN"),
            cursors[2].copy("COPY record_sets (set_spec, record_id, datestamp) FROM STDIN"),
        ]
        with copies[0] as c_rec, copies[1] as c_ren, copies[2] as c_set:
            buf_rec: list[str] = []
            buf_ren: list[str] = []
            buf_set: list[str] = []
            for done, row in enumerate(generate_rows(count, seed, end_epoch), start=1):
                tpl = pool[done % len(pool)]
                specs_json = json.dumps(row.specs)
                data = tpl.data.replace(tpl.id, row.id).replace(f'"{PLACEHOLDER_SET}"',
                                                                specs_json[1:-1])
                digest = hashlib.sha256(data.encode("utf-8")).hexdigest()
                buf_rec.append(f"{row.id}\t{row.datestamp}\t{'t' if row.deleted else 'f'}\t"
                               f"{specs_json}\t{digest}\t{data}\n")
                xml = "\\N" if row.deleted else tpl.xml.replace(tpl.id, row.id)
                buf_ren.append(f"{row.id}\t{PREFIX}\t{xml}\n")
                for spec in row.specs:
                    buf_set.append(f"{spec}\t{row.id}\t{row.datestamp}\n")
                if done % CHUNK == 0:
                    c_rec.write("".join(buf_rec))
                    c_ren.write("".join(buf_ren))
                    c_set.write("".join(buf_set))
                    buf_rec, buf_ren, buf_set = [], [], []
                    if progress and done % (CHUNK * 25) == 0:
                        rate = done / (time.monotonic() - loaded)
                        log(f"  {done:,} records ({rate:,.0f}/s, "
                            f"ETA {(count - done) / rate:,.0f} s)")
            c_rec.write("".join(buf_rec))
            c_ren.write("".join(buf_ren))
            c_set.write("".join(buf_set))
        for c in conns:
            c.commit()
    finally:
        for c in conns:
            c.close()
    copy_seconds = time.monotonic() - loaded
    log(f"copied in {copy_seconds:,.0f} s; re-creating indexes and constraints")
    indexed = time.monotonic()
    with psycopg.connect(pq, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        for table, name, definition in constraints:
            if definition.startswith("PRIMARY KEY") or definition.startswith("UNIQUE"):
                conn.execute(f"ALTER TABLE {_quoted(table)} ADD CONSTRAINT {_quoted(name)} "
                             f"{definition}")
        for _, definition in indexes:
            conn.execute(definition)
        for table, name, definition in constraints:
            if definition.startswith("FOREIGN KEY"):
                conn.execute(f"ALTER TABLE {_quoted(table)} ADD CONSTRAINT {_quoted(name)} "
                             f"{definition}")
        if _ddl(conn, schema) != (constraints, indexes):
            raise RuntimeError("the re-created indexes and constraints differ from the "
                               "migrations' ones")
        for table in BUILD_TABLES:
            conn.execute(f"VACUUM ANALYZE {_quoted(table)}")
        sizes = table_bytes(conn)
    index_seconds = time.monotonic() - indexed
    log(f"indexed in {index_seconds:,.0f} s")
    return {"records": count, "seconds": time.monotonic() - started,
            "copy_seconds": copy_seconds, "index_seconds": index_seconds,
            "table_bytes": sizes, "bytes_per_record": sum(sizes.values()) / max(count, 1)}


def table_bytes(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """On-disk bytes of the built tables, indexes and TOAST included."""
    return {table: int(conn.execute("SELECT pg_total_relation_size(%s::regclass)",
                                    (table,)).fetchone()[0])  # type: ignore[index]
            for table in BUILD_TABLES}


def drop(url: str, schema: str) -> None:
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {_quoted(schema)} CASCADE"))
    admin.dispose()
