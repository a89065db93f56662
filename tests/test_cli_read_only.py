"""Read-only stores through the `oai` command: the read-only commands (stats, serve, sets list,
export, harvest status and list) work and change nothing; every write fails in one line with a
non-zero exit; no store error is ever shown as a traceback.

Root is not stopped by chmod, so the store is made read-only in ways that really hold: by its
permission bits, which `oai` honours even as root (the file is then opened `mode=ro`, which
SQLite enforces), by `?mode=ro` in the URL, and, for the kernel's own refusal, by running
`oai` as root without its permission override (`unshare --user`: an unmapped user namespace)
or, when the tests do not run as root, simply as this user.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from oai.protocol.schemas import validate_response
from oai.store.harvest import HarvestStore
from oai.store.repository import Store
from tests.conftest import put, record

OAI = str(Path(sys.executable).with_name("oai"))
Run = Callable[..., subprocess.CompletedProcess[str]]


@dataclass
class Locked:
    folder: Path
    file: Path
    run: Run  # `oai ...` against the locked store
    prefix: list[str]  # what `run` puts before `oai` (unshare, when root)

    def snapshot(self) -> tuple[str, list[str]]:
        return (hashlib.sha256(self.file.read_bytes()).hexdigest(),
                sorted(p.name for p in self.folder.iterdir()))


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env["OAI_DATABASE_URL"] = url
    env["OAI_SAFETY_LAG"] = "0"  # records put a moment ago are listed at once
    return env


def _runner(env: dict[str, str], cwd: Path, prefix: list[str]) -> Run:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, OAI, *args], capture_output=True, text=True, env=env,
                              cwd=cwd, timeout=120)
    return run


def _without_root_override() -> list[str]:
    """A command prefix under which this process's writes obey file permissions."""
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("running as root without `unshare`: no way to make the kernel refuse writes")
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"oai-probe-{os.getpid()}"
    probe.write_text("")
    probe.chmod(0o444)
    try:
        attempt = subprocess.run([unshare, "--user", sys.executable, "-c",
                                  f"open({str(probe)!r}, 'a')"], capture_output=True, timeout=30)
    finally:
        probe.unlink()
    if attempt.returncode == 0 or b"PermissionError" not in attempt.stderr:
        pytest.skip("running as root, and `unshare --user` cannot drop root's permission "
                    f"override here: {attempt.stderr.decode(errors='replace').strip()[:200]}")
    return [unshare, "--user"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with records, a set and a harvest source (built once, copied by each test)."""
    path = tmp_path_factory.mktemp("template") / "s.sqlite"
    store = Store.open(f"sqlite:///{path}", create=True)
    try:
        store.add_set("a", "A")
        put(store, record("1", sets=["a"]), record("2"))
        HarvestStore(store).add_source("src", "http://127.0.0.1:9/oai")
    finally:
        store.close()
    assert sorted(p.name for p in path.parent.iterdir()) == ["s.sqlite"]  # no WAL left
    return path


@pytest.fixture
def locked(request: pytest.FixtureRequest, template: Path, tmp_path: Path) -> Iterator[Locked]:
    """A copy of the template store, made read-only in the way the test's `mode` parameter
    names ("kernel" by default)."""
    folder = tmp_path / "store"
    folder.mkdir()
    path = folder / "s.sqlite"
    shutil.copyfile(template, path)
    url, prefix = f"sqlite:///{path}", []
    callspec = getattr(request.node, "callspec", None)
    mode = callspec.params.get("mode", "kernel") if callspec else "kernel"
    if mode == "file":
        path.chmod(0o444)
    elif mode == "url":
        url += "?mode=ro"
    else:
        prefix = _without_root_override()
        path.chmod(0o444)
        folder.chmod(0o555)
    try:
        yield Locked(folder, path, _runner(_env(url), tmp_path, prefix), prefix)
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)


READS = [["stats"], ["stats", "--json"], ["sets", "list"], ["harvest", "list"],
         ["harvest", "status", "--json"], ["export", "src"], ["load", "--dry-run", "{source}"]]
WRITES = [["init"], ["load", "{source}"], ["delete", "1"], ["sets", "add", "b", "B"],
          ["sets", "add", "a", "A renamed"], ["sets", "remove", "a", "--force"],
          ["harvest", "add", "other", "http://127.0.0.1:9/oai"]]
# Each way of locking runs every command where the kernel refuses writes; the other ways, which
# the store-level tests cover in depth, run a sample (each `oai` process costs ~0.5 s).
SAMPLE = {"kernel": (READS, WRITES),
          "file": (READS[:1] + READS[-1:], WRITES[:2]),
          "url": (READS[2:3] + READS[4:5], WRITES[3:4] + WRITES[-1:])}


@pytest.mark.parametrize("mode", list(SAMPLE))
def test_reads_work_and_writes_fail_in_one_line(mode: str, locked: Locked,
                                                tmp_path: Path) -> None:
    reads, writes = SAMPLE[mode]
    before = locked.snapshot()
    source = tmp_path / "more.jsonl"
    source.write_text(json.dumps(record("3", sets=["a"])) + "\n")
    for args in reads:
        proc = locked.run(*(a.replace("{source}", str(source)) for a in args))
        assert proc.returncode == 0, (args, proc.stderr)
        if args == ["stats", "--json"]:
            assert json.loads(proc.stdout)["records"] == 2
        elif args == ["sets", "list"]:
            assert proc.stdout == "a\tA\n"
        elif args[:2] == ["harvest", "status"]:
            status = json.loads(proc.stdout)
            assert status["name"] == "src" and status["last_run"] is None
        elif args[0] == "export":
            assert proc.stdout == ""  # JSONL, and nothing harvested yet
    for args in writes:
        proc = locked.run(*(a.replace("{source}", str(source)) for a in args))
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and "read-only" in lines[0], (
            args, proc.stderr)
    after = locked.snapshot()
    assert after[0] == before[0]
    if locked.folder.stat().st_mode & 0o222 == 0:  # nothing created in a read-only directory
        assert after[1] == before[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def test_serve_a_read_only_store(locked: Locked) -> None:
    """Where the kernel refuses every write (file and directory)."""
    before = locked.snapshot()
    port = _free_port()
    env = _env(f"sqlite:///{locked.file}")
    server = subprocess.Popen([*locked.prefix, OAI, "serve", "--port", str(port),
                               "--workers", "1"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}/oai"
    try:
        for _ in range(300):  # wait for the worker (not a timing assertion)
            if server.poll() is not None:
                pytest.fail(f"oai serve exited: {server.communicate()[1].decode()[-2000:]}")
            try:
                identify = _get(base + "?verb=Identify")
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("oai serve did not answer")
        validate_response(identify)
        for query in ("verb=ListRecords&metadataPrefix=oai_dc", "verb=ListSets",
                      "verb=ListIdentifiers&metadataPrefix=oai_dc&set=a"):
            body = _get(f"{base}?{query}")
            validate_response(body)
            assert b"<error" not in body
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        assert server.stderr is not None and server.stdout is not None
        server.stderr.close()
        server.stdout.close()
    after = locked.snapshot()
    assert after[0] == before[0]
    if locked.folder.stat().st_mode & 0o222 == 0:
        assert after[1] == before[1]


def test_store_errors_are_never_tracebacks(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    run = _runner(_env(f"sqlite:///{path}"), tmp_path, [])
    assert run("init").returncode == 0
    with sqlite3.connect(path) as conn:  # a store damaged behind our back
        conn.execute("DROP TABLE sets")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database" * 100)
    for proc in (run("sets", "list"), run("sets", "add", "a", "A"),
                 _runner(_env(f"sqlite:///{garbage}"), tmp_path, [])("stats")):
        assert proc.returncode == 1
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("Error: ")
