"""Fuzz `oai serve` over real HTTP: any request must get an OAI-PMH answer, never a 500.

Starts `oai serve` (gunicorn) on a temporary store holding generated records (SQLite by
default; `--database-url` for PostgreSQL, in a schema of its own that is dropped afterwards),
then sends `--requests` requests (10,000 by default) from several client threads over raw
sockets: arbitrary arguments (repeated, empty, non-ASCII, percent-encoded bytes, very long),
every HTTP method and made-up ones, resumption tokens (real, truncated, tampered, random,
and payloads re-signed with the store's real secret holding random JSON fields), request
lines from a few bytes to far over gunicorn's limit, header abuse and raw garbage.

Every answer must be HTTP 200, or 503 with Retry-After, or 404 for a path other than /oai,
with a body that is a schema-valid OAI-PMH document (empty for HEAD). The script prints the
answers by status, by kind of request, the schema-invalid bodies and transport failures, and
exits 1 if any answer broke those rules. Not part of the test suite (see
tests/test_serve_robustness.py for the in-suite version).

    .venv/bin/python bench/fuzz_provider.py
    .venv/bin/python bench/fuzz_provider.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from sqlalchemy import create_engine, text

from oai.fixtures.generate import generate_records, generated_sets
from oai.protocol.rendering import prepare_record
from oai.protocol.schemas import SchemaViolation, validate_response
from oai.store.repository import Store

BIN = Path(sys.executable).parent
REPOSITORY_ID = "fuzz.example.org"
TOKEN_RE = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")
ANSWER_RE = re.compile(rb'</request><(?:error code="([A-Za-z]+)"|([A-Za-z]+))')
SOCKET_TIMEOUT = 60.0
LIMIT_REQUEST_LINE = 8190  # oai.provider.server's, gunicorn's largest

VERBS = ["Identify", "ListMetadataFormats", "ListSets", "GetRecord", "ListIdentifiers",
         "ListRecords"]
ARGUMENTS = ["verb", "identifier", "metadataPrefix", "from", "until", "set", "resumptionToken"]
METHODS = ["GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
           "PROPFIND", "FOO", "get", "Post", "M-SEARCH", "G\x00T", "ÄÖ", ""]
ODD_TEXT = ["", " ", "é", "\u200b", "\ufffd", "\U0001f600", "a\x00b", "\x01", "&amp;", "<x>",
            '"', "'", "%", "%zz", "%C3", "a[b]", "a#b#c", "1:a", "::", "oai_dc ", "OAI_DC",
            "a::b", ":a", "a:", "0000-00-00", "2001-02-30", "9999-12-31T23:59:59Z",
            "0001-01-01", "\u0662\u0660\u0660\u0661-01-01", "2001-01-01T00:00:00+01:00",
            "null", "[]", "{}"]


# -- the server under test ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def temporary_database(url: str | None, folder: Path) -> Iterator[str]:
    """The store's URL: a SQLite file in `folder`, or a fresh schema in PostgreSQL."""
    if url is None:
        yield f"sqlite:///{folder / 'fuzz.sqlite'}"
        return
    schema = f"fuzz_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def load_store(url: str, records: int) -> tuple[str, list[str]]:
    """Generated records (some deleted) and sets; the token secret and the local ids."""
    store = Store.open(url, create=True)
    try:
        for info in generated_sets():
            store.add_set(info["spec"], info["name"], info["description"])
        prepared = [prepare_record(r) for r in generate_records(records, seed=7,
                                                                deleted_ratio=0.1)]
        store.write(prepared)
        secret = store.setting("token_secret")
        assert secret
        return secret, [p.id for p in prepared]
    finally:
        store.close()


@contextmanager
def oai_serve(url: str, log: Path, workers: int, threads: int) -> Iterator[int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env.update({"OAI_DATABASE_URL": url, "OAI_REPOSITORY_IDENTIFIER": REPOSITORY_ID,
                "OAI_PAGE_SIZE": "7", "OAI_SETS_PAGE_SIZE": "4", "OAI_SAFETY_LAG": "0"})
    with log.open("wb") as out:
        proc = subprocess.Popen([str(BIN / "oai"), "serve", "--port", str(port),
                                 "--workers", str(workers), "--threads", str(threads)],
                                env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"oai serve exited:\n{log.read_text()[-2000:]}")
            try:
                if send(port, build(b"GET", b"/oai?verb=Identify")).status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("oai serve did not come up") from None
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# -- HTTP over raw sockets ---------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def send(port: int, data: bytes) -> Answer:
    """Send any bytes; read until the server closes (every request asks it to)."""
    with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT) as sock:
        with suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    received = b"".join(chunks)
    head, sep, body = received.partition(b"\r\n\r\n")
    if not sep:
        raise OSError(f"no complete HTTP answer ({len(received)} bytes)")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split()[1]), headers, body)


def build(method: bytes, target: bytes, body: bytes | None = None,
          extra: list[bytes] | None = None) -> bytes:
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close",
             *(extra or [])]
    if body is not None:
        lines += [b"Content-Type: application/x-www-form-urlencoded",
                  b"Content-Length: %d" % len(body)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


# -- requests ----------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class Corpus:
    """What the generator draws from: ids, real tokens and the secret to forge with."""

    secret: str
    ids: list[str]
    tokens: list[str] = field(default_factory=list)

    def sign(self, payload: object) -> str:
        body = _b64(json.dumps(payload).encode("utf-8"))
        mac = hmac.new(self.secret.encode(), body.encode(), hashlib.sha256).digest()[:16]
        return f"{body}.{_b64(mac)}"


def collect_tokens(port: int, corpus: Corpus) -> None:
    for query in ("verb=ListRecords&metadataPrefix=oai_dc",
                  "verb=ListIdentifiers&metadataPrefix=oai_dc",
                  "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2000-01-01",
                  "verb=ListSets"):
        answer = send(port, build(b"GET", b"/oai?" + query.encode()))
        for _ in range(3):
            match = TOKEN_RE.search(answer.body)
            if not match:
                break
            corpus.tokens.append(match.group(1).decode())
            verb = query.split("&")[0]
            answer = send(port, build(b"GET", f"/oai?{verb}&resumptionToken="
                                      f"{quote(corpus.tokens[-1])}".encode()))
    if not corpus.tokens:
        raise SystemExit("the store yielded no resumption tokens")


def random_json(rng: random.Random, depth: int = 0) -> object:
    choice = rng.randrange(9 if depth < 2 else 7)
    if choice == 0:
        return None
    if choice == 1:
        return rng.random() < 0.5
    if choice == 2:
        return rng.randint(-10**12, 10**12)
    if choice == 3:
        return rng.choice([0, -1, 2**63, 10**30, 253402300800, -62135596801])
    if choice == 4:
        return rng.uniform(-1e9, 1e9)
    if choice == 5:
        return rng.choice([*ODD_TEXT, "oai_dc", "a:b", "gen-0000001"])
    if choice == 6:
        return "".join(chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(0, 8)))
    if choice == 7:
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {str(rng.randint(0, 9)): random_json(rng, depth + 1)}


def a_token(rng: random.Random, corpus: Corpus) -> str:
    real = rng.choice(corpus.tokens)
    kind = rng.randrange(6)
    if kind == 0:
        return real
    if kind == 1:
        return real[:rng.randint(0, len(real))]
    if kind == 2:
        at = rng.randrange(len(real))
        return real[:at] + rng.choice([*ODD_TEXT, "A", ".", "-", "_"]) + real[at + 1:]
    if kind == 3:
        return rng.choice(ODD_TEXT) + rng.choice(["", ".", "abc.é", "é.abc"]) + \
            rng.choice(ODD_TEXT)
    body = real.split(".")[0]
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    for _ in range(rng.randint(1, 3)):
        payload[rng.randrange(len(payload))] = random_json(rng)
    if kind == 5:
        payload = payload[:rng.randint(0, len(payload) + 1)] + \
            ([random_json(rng)] if rng.random() < 0.3 else [])
    return corpus.sign(payload)


REQUIRED = {"GetRecord": ["identifier", "metadataPrefix"], "ListIdentifiers": ["metadataPrefix"],
            "ListRecords": ["metadataPrefix"]}
OPTIONAL = {"ListMetadataFormats": ["identifier"], "ListIdentifiers": ["from", "until", "set"],
            "ListRecords": ["from", "until", "set"]}


def a_good_value(rng: random.Random, name: str, corpus: Corpus) -> str:
    return {"verb": rng.choice(VERBS), "metadataPrefix": "oai_dc",
            "identifier": f"oai:{REPOSITORY_ID}:{rng.choice(corpus.ids)}",
            "from": rng.choice(["2000-01-01", "2000-01-01T00:00:00Z", "2100-01-01"]),
            "until": rng.choice(["2100-01-01", "2100-01-01T00:00:00Z", "1990-01-01"]),
            "set": rng.choice(["eng", "eng:civil", "med", "nope", "a:b"]),
            "resumptionToken": a_token(rng, corpus)}.get(name, "x")


def an_odd_value(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.4:
        return rng.choice(ODD_TEXT)
    if roll < 0.8:
        return "".join(chr(rng.choice([rng.randint(0, 127), rng.randint(0, 0x10FFFF)]))
                       for _ in range(rng.randint(1, 30)))
    return rng.choice([*ODD_TEXT, "x", "oai_dc"]) * rng.randint(100, 3000)  # long values


def a_query(rng: random.Random, corpus: Corpus) -> bytes:
    """A resumption, a legal request with perhaps one odd value, or arbitrary pairs."""
    roll = rng.random()
    if roll < 0.3:
        pairs = [("verb", rng.choice(["ListRecords", "ListIdentifiers", "ListSets"])),
                 ("resumptionToken", a_token(rng, corpus))]
    elif roll < 0.65:
        verb = rng.choice(VERBS)
        names = REQUIRED.get(verb, []) + [n for n in OPTIONAL.get(verb, [])
                                          if rng.random() < 0.4]
        pairs = [("verb", verb), *((n, a_good_value(rng, n, corpus)) for n in names)]
        if rng.random() < 0.4:
            at = rng.randrange(len(pairs))
            pairs[at] = (pairs[at][0], an_odd_value(rng))
    else:
        pairs = [("verb", rng.choice(VERBS))] if rng.random() < 0.8 else []
        for _ in range(rng.randint(0, 4)):
            name = rng.choice(ARGUMENTS) if rng.random() < 0.85 else rng.choice(ODD_TEXT)
            value = a_good_value(rng, name, corpus) if rng.random() < 0.4 \
                else an_odd_value(rng)
            pairs.append((name, value))
        rng.shuffle(pairs)
    query = urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode("ascii")
    if rng.random() < 0.1:  # stray bytes and broken escapes
        at = rng.randint(0, len(query))
        noise = bytes(rng.randint(0x21, 0xFF) for _ in range(rng.randint(1, 6)))
        query = query[:at] + rng.choice([noise, b"%", b"%Z", b"%FF%FE", b"&&", b"==", b";",
                                         b"+", b"%ED%A0%80"]) + query[at:]
    return query


def a_request(rng: random.Random, corpus: Corpus) -> tuple[str, bytes]:
    """(kind, the bytes of one request)."""
    roll = rng.random()
    if roll < 0.04:
        return "garbage", bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 400))) \
            + b"\r\n\r\n"
    if roll < 0.07:
        count = rng.choice([50, 150, 500])
        size = rng.choice([10, 5000, 20000])
        extra = [b"X-%d: %s" % (i, b"y" * size) for i in range(count if size == 10 else 2)]
        return "headers", build(b"GET", b"/oai?verb=Identify", extra=extra)
    if roll < 0.12:
        length = rng.choice([4000, 8100, 8300, 20_000, 200_000])
        target = b"/oai?verb=Identify&x=" + b"a" * length
        return "long line", build(rng.choice([b"GET", b"HEAD", b"POST"]), target)
    if roll < 0.14:
        path = rng.choice([b"/", b"/nope", b"/oai/", b"/OAI", b"/%FF", b"*", b"//oai"])
        return "path", build(b"GET", path + b"?verb=Identify")
    method = rng.choice(METHODS) if rng.random() < 0.35 else rng.choice(["GET", "POST"])
    method_bytes = method.encode("utf-8")
    query = a_query(rng, corpus)
    if method.upper() == "POST" or (rng.random() < 0.1 and method != "GET"):
        body = query if rng.random() < 0.9 else bytes(rng.randint(0, 255)
                                                      for _ in range(rng.randint(0, 300)))
        return "post", build(method_bytes, b"/oai", body)
    kind = "get" if method == "GET" else "method"
    return kind, build(method_bytes, b"/oai?" + query)


# -- checking answers --------------------------------------------------------------------------


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)  # verb element or error code
    invalid: int = 0
    broken: int = 0  # answers that break the rules other than by schema (status, headers)
    transport: int = 0
    examples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def problem(self, what: str, data: bytes) -> None:
        if len(self.examples) < 10:
            self.examples.append(f"{what}\n    request: {data[:300]!r}")


def judge(kind: str, data: bytes, answer: Answer, tally: Tally) -> None:
    target = data.split(b" ", 2)[1] if data.count(b" ") >= 2 else b""
    if kind == "path" and target != b"/oai" and not target.startswith(b"/oai?"):
        if answer.status >= 500:  # other paths may be 404 or a redirect, never an error
            tally.broken += 1
            tally.problem(f"{kind}: HTTP {answer.status}", data)
        return
    problems = []
    if answer.status == 503 and not answer.headers.get("retry-after"):
        problems.append("503 without Retry-After")
    elif answer.status not in (200, 503):
        problems.append(f"HTTP {answer.status}")
    if not answer.headers.get("content-type", "").startswith("text/xml"):
        problems.append(f"content type {answer.headers.get('content-type')!r}")
    if problems:
        tally.broken += 1
        tally.problem(f"{kind}: {', '.join(problems)}: {answer.body[:200]!r}", data)
        return
    # A HEAD answer has no body, unless gunicorn could not even read the method (a request
    # line over its limit): then the answer is the one a GET would get.
    if data.startswith(b"HEAD "):
        if not answer.body:
            return
        if len(data.split(b"\r\n", 1)[0]) <= LIMIT_REQUEST_LINE:
            tally.broken += 1
            tally.problem(f"{kind}: a HEAD answer with a body", data)
            return
    try:
        validate_response(answer.body)
    except SchemaViolation as exc:
        tally.invalid += 1
        tally.problem(f"{kind}: invalid body: {str(exc).splitlines()[:3]}", data)
        return
    found = ANSWER_RE.search(answer.body)
    if found:
        tally.answers[(found.group(1) or found.group(2)).decode()] += 1


def fuzz(port: int, corpus: Corpus, total: int, clients: int, seed: int) -> Tally:
    tally = Tally()
    counter = iter(range(total))
    counter_lock = threading.Lock()

    def client(number: int) -> None:
        rng = random.Random(f"{seed}-{number}")
        while True:
            with counter_lock:
                if next(counter, None) is None:
                    return
            kind, data = a_request(rng, corpus)
            try:
                answer = send(port, data)
            except OSError as exc:
                with tally.lock:
                    tally.transport += 1
                    tally.kinds[kind] += 1
                    tally.problem(f"{kind}: transport: {exc}", data)
                continue
            with tally.lock:
                tally.statuses[answer.status] += 1
                tally.kinds[kind] += 1
                judge(kind, data, answer, tally)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--database-url", help="PostgreSQL URL (a temporary schema is used)")
    parser.add_argument("--records", type=int, default=60)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="oai-fuzz-") as tmp, \
            temporary_database(args.database_url, Path(tmp)) as url:
        secret, ids = load_store(url, args.records)
        corpus = Corpus(secret, ids)
        log = Path(tmp) / "serve.log"
        with oai_serve(url, log, args.workers, args.threads) as port:
            collect_tokens(port, corpus)
            started = time.monotonic()
            tally = fuzz(port, corpus, args.requests, args.clients, args.seed)
            elapsed = time.monotonic() - started
        server_errors = log.read_text(errors="replace").count("Traceback")

    backend = "PostgreSQL" if args.database_url else "SQLite"
    sent = sum(tally.statuses.values()) + tally.transport
    print(f"{sent} requests to oai serve ({backend}, {args.workers} workers x {args.threads} "
          f"threads) from {args.clients} clients in {elapsed:.1f} s "
          f"({sent / elapsed:.0f} requests/s), seed {args.seed}")
    print("by HTTP status:  " + ", ".join(f"{status}: {count}" for status, count
                                          in sorted(tally.statuses.items())))
    print("by request kind: " + ", ".join(f"{kind}: {count}" for kind, count
                                          in tally.kinds.most_common()))
    print("by OAI answer:   " + ", ".join(f"{name}: {count}" for name, count
                                          in tally.answers.most_common()))
    print(f"schema-invalid bodies: {tally.invalid}")
    print(f"other broken answers (status, headers, HEAD body): {tally.broken}")
    print(f"transport failures (no complete answer): {tally.transport}")
    print(f"tracebacks in the server log: {server_errors}")
    for example in tally.examples:
        print("  " + example)
    failed = tally.invalid or tally.broken or tally.transport or any(
        status >= 500 and status != 503 for status in tally.statuses)
    print("FAIL" if failed else "OK: every answer was 200 (or 503 with Retry-After, or 404 "
          "off /oai) with a schema-valid body")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
