"""Duplicate matching benchmark: the cost per record of extraction and matching as the store
grows to N harvested records (default 1,000,000).

Generates oai_dc payloads for three sources, streaming: each work is one record in one
source, and a planted share has a copy in another source, either sharing the DOI (written
`doi:`, as a resolver URL, or upper case) or only its title (case, punctuation and diacritics
changed, same year and first creator). Every record goes through the same path as a
harvested page: `keys_for` on the payload, then the store's matcher in one transaction per
batch (`HarvestStore.refile`, the matcher `write_page` runs). Prints records/s overall and
per slice (so a cost growing with N shows), indexed look-ups per record, links, clusters
found against clusters planted, and peak RSS.

    .venv/bin/python bench/duplicates.py --quick            # 20,000 records
    .venv/bin/python bench/duplicates.py                    # 1,000,000 records
    .venv/bin/python bench/duplicates.py --database postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harvester.duplicates.fingerprint import judge
from harvester.duplicates.keys import keys_for
from oai.store.harvest import HarvestStore
from oai.store.harvest.duplicates import MatchStats
from oai.store.repository import Store

DC = ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
      'xmlns:dc="http://purl.org/dc/elements/1.1/">')
SOURCES = ("alpha", "beta", "gamma")
BATCH = 500


def payload(title: str, creator: str, year: int, doi: str | None) -> str:
    ident = f"<dc:identifier>{escape(doi)}</dc:identifier>" if doi else ""
    return (f"{DC}<dc:title>{escape(title)}</dc:title><dc:creator>{escape(creator)}"
            f"</dc:creator><dc:date>{year}-05-01</dc:date>{ident}"
            "<dc:type>Article</dc:type></oai_dc:dc>")


def generate(n: int, share: float, seed: int) -> Iterator[tuple[int, str, str, bool]]:
    """(source index, OAI identifier, payload, is a planted copy) until n records."""
    rnd = random.Random(seed)
    words = [f"{a}{b}" for a in ("qua", "nto", "mel", "vir", "sol", "par", "tek", "lum",
                                 "dor", "fin", "gal", "hex", "ion", "jur", "kap", "lor")
             for b in ("a", "ex", "ium", "or", "ine", "us", "ata", "ics", "ome", "is",
                       "al", "on", "ent", "ity", "ure", "ism")]
    surnames = [f"{a}{b}" for a in ("Mül", "Sm", "Gar", "Nak", "Ols", "Kow", "Ber", "Ros",
                                    "Fer", "Lin", "Pet", "Dub", "Kim", "Sil", "Wan", "Ng")
                for b in ("ler", "ith", "cia", "amura", "sen", "alski", "ger", "si", "reira",
                          "dqvist", "rov", "ois", "ura", "va", "gton", "uyen")]
    made = work = 0
    while made < n:
        work += 1
        title = " ".join(rnd.choice(words) for _ in range(rnd.randint(5, 9))).capitalize()
        creator = f"{rnd.choice(surnames)}, {rnd.choice('ABCDEFGHJK')}."
        year = rnd.randint(1990, 2024)
        doi = f"10.{1000 + work % 9000}/w{work}" if rnd.random() < 0.6 else None
        home = rnd.randrange(3)
        yield home, f"oai:{SOURCES[home]}:{work}", payload(title, creator, year,
                                                            doi and f"https://doi.org/{doi}"), \
            False
        made += 1
        if made < n and rnd.random() < share:
            other = (home + 1 + rnd.randrange(2)) % 3
            if doi and rnd.random() < 0.7:
                copy = payload(title + " (preprint)", creator, year,
                               rnd.choice([f"doi:{doi}", doi.upper()]))
            else:  # title only
                copy = payload(title.upper().replace("a", "á") + "!", creator, year, None)
            yield other, f"oai:{SOURCES[other]}:c{work}", copy, True
            made += 1


@contextmanager
def _schema(url: str | None) -> Iterator[str | None]:
    """A fresh PostgreSQL schema for the run (never the database's own tables), dropped after."""
    if not url:
        yield None
        return
    from sqlalchemy import create_engine, text

    schema = f"bench_dups_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 records")
    parser.add_argument("--share", type=float, default=0.1,
                        help="share of works with a planted copy (default 0.1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", help="a PostgreSQL URL: the run uses a schema of its "
                        "own there, dropped afterwards (default: a fresh SQLite file)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON "
                        "(read by bench/capacity.py)")
    args = parser.parse_args()
    n = 20_000 if args.quick else args.records
    with tempfile.TemporaryDirectory(prefix="bench-dups-") as tmp, \
            _schema(args.database) as pg_url:
        url = pg_url or f"sqlite:///{Path(tmp) / 'dups.sqlite'}"
        store = Store.open(url, create=True)
        hstore = HarvestStore(store)
        ids = []
        for name in SOURCES:
            found = hstore.get_source(name)
            ids.append(found.id if found else hstore.add_source(name, f"http://{name}/oai").id)
        hstore.clear_duplicates()
        buffers: list[list[tuple[str, object]]] = [[], [], []]
        stats = MatchStats()
        planted = 0
        extract_seconds = 0.0
        start = slice_start = time.perf_counter()
        slice_size = max(n // 10, BATCH)
        for done, (home, identifier, body, copy) in enumerate(
                generate(n, args.share, args.seed), start=1):
            planted += copy
            t = time.perf_counter()
            buffers[home].append((identifier, keys_for(body)))
            extract_seconds += time.perf_counter() - t
            if len(buffers[home]) >= BATCH:
                hstore.refile(ids[home], buffers[home], judge, stats)  # type: ignore[arg-type]
                buffers[home] = []
            if done % slice_size == 0:
                now = time.perf_counter()
                print(f"  {done:>9,} records: {slice_size / (now - slice_start):8,.0f} rec/s "
                      f"in this slice", file=sys.stderr)
                slice_start = now
        for home, batch in enumerate(buffers):
            if batch:
                hstore.refile(ids[home], batch, judge, stats)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - start
        filed, clusters, links = hstore.duplicate_counts()
        store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"records            {n:,} ({'SQLite' if not args.database else args.database})")
    print(f"records/s          {n / elapsed:,.0f} (extraction {n / extract_seconds:,.0f}/s, "
          f"{extract_seconds / elapsed:.0%} of the time)")
    print(f"look-ups/record    {stats.lookups / max(stats.records, 1):.2f} indexed "
          f"(at most 64 rows each)")
    print(f"filed / links      {filed:,} / {links:,}")
    print(f"clusters           {clusters:,} found, {planted:,} planted")
    print(f"peak RSS           {peak:,.0f} MB")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "records": n, "store": "postgresql" if args.database else "sqlite",
            "seconds": elapsed, "rate": n / elapsed,
            "lookups_per_record": stats.lookups / max(stats.records, 1),
            "clusters": clusters, "planted": planted, "peak_rss_mb": peak}, indent=2) + "\n")
    return 0 if clusters == planted else 1


if __name__ == "__main__":
    sys.exit(main())
