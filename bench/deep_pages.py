"""Deep pages: first- and last-page cost of record lists over millions of records on PostgreSQL.

Builds N records (default 10,000,000) straight into a PostgreSQL store: a schema of its own in
the test database, created by the project's migrations (so its tables are exactly what
`oai init` creates), then filled with COPY (records, oai_dc renditions, set memberships), the
store's indexes and constraints being dropped for the load and re-created from their own
definitions afterwards. It then serves the store with `oai serve` (real HTTP) and measures, for
ListIdentifiers and ListRecords, plainly and restricted to the largest set: the first page
(as served, completeListSize counted), an early page reached by token (no count), the last
page, records/s over a stretch of pages at the start and at the end, and the count alone.

The last page is reached with a resumption token crafted for a position 100 records before
the end: the project's own TokenCodec signed with the store's secret, i.e. exactly what a
harvester resuming near the end would send. See bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from sqlalchemy import create_engine, text

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import provider  # noqa: E402  (bench/provider.py, a script next to this one)

from oai.fixtures.generate import generate_records  # noqa: E402
from oai.protocol.rendering import prepare_record  # noqa: E402
from oai.protocol.tokens import ListPosition, TokenCodec  # noqa: E402
from oai.store.repository import Store  # noqa: E402

DEFAULT_URL = os.environ.get("OAI_TEST_POSTGRES_URL",
                             "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REPOSITORY_ID = provider.REPOSITORY_ID
ID_PREFIX = f"oai:{REPOSITORY_ID}:"
PREFIX = "oai_dc"
SETS = 20
TEMPLATES = 500
PLACEHOLDER_SET = "zzdeepplaceholder"
SECOND_SET_SHARE = 0.10  # records in a second set
DELETED_SHARE = 0.01  # tombstones
MODIFIED_SHARE = 0.20  # records whose datestamp moved later (edited after deposit)
START_EPOCH = 1_325_376_000  # 2012-01-01
CHUNK = 20_000
TARGET_LAST_FIRST_RATIO = 1.5
BUILD_TABLES = ("records", "renditions", "record_sets")
VERBS = ("ListIdentifiers", "ListRecords")


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


# -- crafted positions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A list's scope and the facts a crafted token needs."""

    set_spec: str | None
    size: int  # records in the window (oai_dc is rendered for every record)


def window(store: Store, spec: str | None, until: int) -> Window:
    return Window(spec, store.count_list(PREFIX, spec, None, until))


def position_from_end(store_url: str, spec: str | None, back: int) -> tuple[int, str]:
    """The keyset (datestamp, id) of the record `back` places before the last of the list:
    a backward index scan, cheap at any size."""
    with psycopg.connect(libpq_url(store_url)) as conn:
        if spec is None:
            row = conn.execute("SELECT datestamp, id FROM records ORDER BY datestamp DESC, "
                               "id DESC OFFSET %s LIMIT 1", (back,)).fetchone()
        else:
            row = conn.execute("SELECT datestamp, record_id FROM record_sets WHERE "
                               "set_spec = %s ORDER BY datestamp DESC, record_id DESC "
                               "OFFSET %s LIMIT 1", (spec, back)).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def last_ids(store_url: str, spec: str | None, count: int) -> list[str]:
    """The served identifiers of the list's last `count` records, in list order."""
    with psycopg.connect(libpq_url(store_url)) as conn:
        if spec is None:
            rows = conn.execute("SELECT id FROM records ORDER BY datestamp DESC, id DESC "
                                "LIMIT %s", (count,)).fetchall()
        else:
            rows = conn.execute("SELECT record_id FROM record_sets WHERE set_spec = %s "
                                "ORDER BY datestamp DESC, record_id DESC LIMIT %s",
                                (spec, count)).fetchall()
    return [ID_PREFIX + str(r[0]) for r in reversed(rows)]


def craft_token(codec: TokenCodec, verb: str, spec: str | None, until: int, size: int,
                after: tuple[int, str], cursor: int) -> str:
    """The token a harvester would hold after `cursor` records, the last being `after`."""
    return codec.encode_list(ListPosition(verb, PREFIX, spec, None, until, after[0], after[1],
                                          cursor, size))


# -- measuring -----------------------------------------------------------------------------


@dataclass
class Scope:
    verb: str
    set_spec: str | None
    size: int
    first_ms: float = 0.0  # first page as served (completeListSize counted)
    early_ms: float = 0.0  # page 2, by token (no count)
    last_ms: float = 0.0  # the last page, by crafted token
    count_ms: float = 0.0  # the count alone, in-process
    start_rate: float = 0.0  # records/s over the stretch of pages from the start
    end_rate: float = 0.0  # records/s over the stretch of pages ending at the list's end
    last_ok: bool = False

    @property
    def label(self) -> str:
        return f"{self.verb}{'' if self.set_spec is None else f' set={self.set_spec}'}"

    @property
    def ratio(self) -> float:
        return self.last_ms / self.early_ms

    @property
    def passed(self) -> bool:
        return self.last_ok and self.ratio <= TARGET_LAST_FIRST_RATIO


def _median_ms(fetcher: provider.Fetcher, args: dict[str, str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fetcher.get(args)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _walk(fetcher: provider.Fetcher, args: dict[str, str], pages: int) -> tuple[int, float]:
    """Records and seconds over up to `pages` pages from `args`, following tokens."""
    got = 0
    started = time.perf_counter()
    for _ in range(pages):
        body = fetcher.get(args)
        got += body.count(b"<header")
        token = provider._token(body)
        if token is None:
            break
        args = {"verb": args["verb"], "resumptionToken": token}
    return got, time.perf_counter() - started


def measure_scope(fetcher: provider.Fetcher, store: Store, store_url: str, codec: TokenCodec,
                  scope: Scope, until: int, repeats: int, stretch: int, page_size: int,
                  ) -> None:
    first = {"verb": scope.verb, "metadataPrefix": PREFIX}
    if scope.set_spec is not None:
        first["set"] = scope.set_spec
    scope.first_ms = _median_ms(fetcher, first, repeats)
    token = provider._token(fetcher.get(first))
    assert token is not None
    early = {"verb": scope.verb, "resumptionToken": token}
    after = position_from_end(store_url, scope.set_spec, page_size)
    last = {"verb": scope.verb, "resumptionToken": craft_token(
        codec, scope.verb, scope.set_spec, until, scope.size, after, scope.size - page_size)}
    early_times, last_times = [], []
    for _ in range(repeats):  # alternate, so that both see the same conditions
        for args, times in ((early, early_times), (last, last_times)):
            t = time.perf_counter()
            body = fetcher.get(args)
            times.append((time.perf_counter() - t) * 1000)
    scope.early_ms = statistics.median(early_times)
    scope.last_ms = statistics.median(last_times)
    served = [s.decode() for s in provider_identifiers(body)]
    scope.last_ok = (served == last_ids(store_url, scope.set_spec, page_size)
                     and provider._token(body) is None)
    t = time.perf_counter()
    for _ in range(max(1, repeats // 4)):
        store.count_list(PREFIX, scope.set_spec, None, until)
    scope.count_ms = (time.perf_counter() - t) * 1000 / max(1, repeats // 4)
    got, seconds = _walk(fetcher, first, stretch)
    scope.start_rate = got / seconds
    back = page_size * stretch
    after = position_from_end(store_url, scope.set_spec, back)
    tail = {"verb": scope.verb, "resumptionToken": craft_token(
        codec, scope.verb, scope.set_spec, until, scope.size, after, scope.size - back)}
    got, seconds = _walk(fetcher, tail, stretch + 1)
    scope.end_rate = got / seconds


def provider_identifiers(body: bytes) -> list[bytes]:
    import re

    return re.findall(rb"<identifier>([^<]*)</identifier>", body)


@dataclass
class Results:
    records: int
    set_spec: str
    set_size: int
    build: dict[str, Any]
    workers: int
    page_size: int
    scopes: list[Scope] = field(default_factory=list)


def largest_set(store_url: str) -> tuple[str, int]:
    with psycopg.connect(libpq_url(store_url)) as conn:
        row = conn.execute("SELECT set_spec, count(*) FROM record_sets GROUP BY set_spec "
                           "ORDER BY 2 DESC LIMIT 1").fetchone()
    assert row is not None
    return str(row[0]), int(row[1])


def schema_records(url: str, schema: str) -> int | None:
    """Records already in `schema` (None if it does not exist)."""
    with psycopg.connect(libpq_url(url)) as conn:
        exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s",
                              (schema,)).fetchone()
        if not exists:
            return None
        row = conn.execute(f"SELECT count(*) FROM {_quoted(schema)}.records").fetchone()
    return int(row[0]) if row else 0


@contextmanager
def serving(store_url: str, workers: int, page_size: int) -> Iterator[provider.Server]:
    def start() -> provider.Server:
        port = provider.free_port()
        env = {**os.environ, "OAI_DATABASE_URL": store_url, "OAI_SAFETY_LAG": "0",
               "OAI_REPOSITORY_IDENTIFIER": REPOSITORY_ID, "OAI_PAGE_SIZE": str(page_size),
               "OAI_FORMATS": PREFIX}
        env.pop("OAI_CONFIG", None)
        command = [str(provider.BIN / "oai"), "serve", "--host", "127.0.0.1", "--port",
                   str(port), "--workers", str(workers)]
        return provider.Server("deep", provider._spawn(command, env, "server-deep.log"),
                               f"http://127.0.0.1:{port}/oai", workers)

    with provider.running(start) as server:
        yield server


def run(args: argparse.Namespace) -> Results:
    schema = args.schema or f"deep_{uuid.uuid4().hex[:10]}"
    have = schema_records(args.database, schema)
    if have is not None and have != args.records:
        raise SystemExit(f"schema {schema} holds {have:,} records, not {args.records:,}")
    build_figures: dict[str, Any] = {}
    store_url = schema_url(args.database, schema)
    try:
        if have:
            with psycopg.connect(libpq_url(store_url)) as conn:
                sizes = table_bytes(conn)
            build_figures = {"reused": True, "table_bytes": sizes,
                             "bytes_per_record": sum(sizes.values()) / args.records}
        else:
            build_figures = build(args.database, schema, args.records, args.seed)
        spec, set_size = largest_set(store_url)
        store = Store.open(store_url)
        secret = store.setting("token_secret")
        assert secret
        codec = TokenCodec(secret.encode("utf-8"))
        results = Results(args.records, spec, set_size, build_figures, args.workers,
                          args.page_size)
        with serving(store_url, args.workers, args.page_size) as server:
            until = store.now()
            fetcher = provider.Fetcher(server.url)
            for spec_or_none in (None, spec):
                size = window(store, spec_or_none, until).size
                for verb in VERBS:
                    scope = Scope(verb, spec_or_none, size)
                    log(f"measuring {scope.label} ({size:,} records)")
                    measure_scope(fetcher, store, store_url, codec, scope, until,
                                  args.repeats, args.stretch, args.page_size)
                    results.scopes.append(scope)
            fetcher.close()
        store.close()
        return results
    finally:
        if args.keep:
            log(f"kept schema {schema} (reuse with --schema {schema}; drop with "
                f"DROP SCHEMA {schema} CASCADE)")
        else:
            drop(args.database, schema)


def _sizes(build_figures: dict[str, Any]) -> str:
    return ", ".join(f"{t} {v / 1e9:.2f} GB" for t, v in build_figures["table_bytes"].items())


def render(results: Results) -> str:
    b = results.build
    lines = [f"DEEP PAGES  {results.records:,} records on PostgreSQL, oai_dc, "
             f"{results.page_size} a page, oai serve --workers {results.workers}"]
    if b.get("reused"):
        lines.append(f"build: reused a kept schema, {b['bytes_per_record']:,.0f} bytes a record "
                     f"on disk ({_sizes(b)})")
    else:
        lines.append(f"build: {b['seconds']:,.0f} s (COPY {b['copy_seconds']:,.0f} s, "
                     f"indexes {b['index_seconds']:,.0f} s), "
                     f"{b['bytes_per_record']:,.0f} bytes a record on disk ({_sizes(b)})")
    lines.append(f"set: {results.set_spec} ({results.set_size:,} records, the largest)")
    lines.append("")
    header = ("list", "records", "first ms", "page 2 ms", "last ms", "count ms",
              "start rec/s", "end rec/s", "last/page2", "")
    rows = [header]
    for s in results.scopes:
        rows.append((s.label, f"{s.size:,}", f"{s.first_ms:.1f}", f"{s.early_ms:.1f}",
                     f"{s.last_ms:.1f}", f"{s.count_ms:.1f}", f"{s.start_rate:,.0f}",
                     f"{s.end_rate:,.0f}", f"{s.ratio:.2f}",
                     "PASS" if s.passed else "FAIL"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w)
                               for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    lines += ["", "first ms: the first page as served (completeListSize counted over the whole "
              "window); page 2 ms: the next page by token (no count); count ms: the count "
              "alone (in-process, store.count_list); last ms: the final page by a crafted "
              f"token. PASS: last page within {TARGET_LAST_FIRST_RATIO}x of page 2 and its "
              "records are the list's last ones."]
    return "\n".join(lines)


def to_json(results: Results) -> dict[str, Any]:
    out = asdict(results)
    for scope, data in zip(results.scopes, out["scopes"], strict=True):
        data.update(label=scope.label, ratio=scope.ratio, passed=scope.passed)
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--quick", action="store_true", help="200,000 records")
    parser.add_argument("--database", default=DEFAULT_URL,
                        help="PostgreSQL URL (a schema of its own is created in it)")
    parser.add_argument("--schema", help="schema name; one kept earlier (--keep) holding "
                        "--records records is reused without rebuilding")
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=20, help="requests per median")
    parser.add_argument("--stretch", type=int, default=50,
                        help="pages walked at the start and at the end for records/s")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.records = 200_000
    if args.records < 10 * args.page_size * (args.stretch + 2):
        parser.error("--records is too small for --stretch pages at both ends")
    return args


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    free = shutil.disk_usage("/").free
    log(f"{free / 1e9:,.0f} GB free on /; expect ~{args.records * 2600 / 1e9:,.1f} GB")
    try:
        results = run(args)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    print(render(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_json(results), indent=2) + "\n")
    return 0 if all(s.passed for s in results.scopes) else 1


if __name__ == "__main__":
    sys.exit(main())
