"""Deep pages: first- and last-page cost of record lists over millions of records on PostgreSQL.

Builds N records (default 10,000,000) straight into a PostgreSQL store, a schema of its own in
the test database (bench/deep_store.py: the project's migrations, then COPY). It then serves
the store with `oai serve` (real HTTP) and measures, for ListIdentifiers and ListRecords,
plainly and restricted to the largest set: the first page (as served, completeListSize
counted), an early page reached by token (no count), the last page, records/s over a stretch
of pages at the start and at the end, and the count alone.

The last page is reached with a resumption token crafted for a position 100 records before
the end: the project's own TokenCodec signed with the store's secret, i.e. exactly what a
harvester resuming near the end would send. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
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

import psycopg

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import provider  # noqa: E402  (bench/provider.py, a script next to this one)
from deep_store import (  # noqa: E402  (bench/deep_store.py: the COPY-built store)
    PREFIX,
    SETS,
    START_EPOCH,
    _ddl,
    _quoted,
    build,
    drop,
    libpq_url,
    log,
    schema_url,
    set_spec,
    table_bytes,
)

from oai.protocol.tokens import ListPosition, TokenCodec  # noqa: E402
from oai.store.repository import Store  # noqa: E402

DEFAULT_URL = os.environ.get("OAI_TEST_POSTGRES_URL",
                             "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REPOSITORY_ID = provider.REPOSITORY_ID
ID_PREFIX = f"oai:{REPOSITORY_ID}:"
TARGET_LAST_FIRST_RATIO = 1.5
BYTES_PER_RECORD = 3_600  # measured: records + oai_dc renditions + set memberships, indexed
VERBS = ("ListIdentifiers", "ListRecords")
__all__ = ["PREFIX", "SETS", "START_EPOCH", "_ddl", "build", "drop", "libpq_url", "schema_url",
           "set_spec"]  # the store's helpers, re-exported for the test


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
    early_times: list[float] = []
    last_times: list[float] = []
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


def data_disk(url: str) -> tuple[str, int]:
    """Free bytes where PostgreSQL keeps its data (when it runs here), else on /."""
    where = "/"
    try:
        with psycopg.connect(libpq_url(url)) as conn:
            row = conn.execute("SHOW data_directory").fetchone()
        if row and Path(str(row[0])).exists():
            where = str(row[0])
    except psycopg.Error:  # not a superuser, or not reachable: the run says so later
        pass
    return where, shutil.disk_usage(where).free


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    where, free = data_disk(args.database)
    need = args.records * BYTES_PER_RECORD
    log(f"{free / 1e9:,.0f} GB free on {where}; the store needs ~{need / 1e9:,.1f} GB")
    if args.schema is None and need * 1.2 > free:
        print(f"error: not enough disk for {args.records:,} records (~{need / 1e9:,.1f} GB, "
              f"{free / 1e9:,.1f} GB free on {where}); choose fewer with --records",
              file=sys.stderr)
        return 2
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
