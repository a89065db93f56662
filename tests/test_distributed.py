"""Distributed harvesting, proved with real engines: two Celery workers (separate `oai worker`
processes) on the machine's Redis and PostgreSQL harvest sources from loopback providers that
record overlapping requests; one worker is SIGKILLed mid-run and the other takes over; and
once with RabbitMQ as the broker.

Skipped, saying why, where Redis (or RabbitMQ) does not answer, unless OAI_REQUIRE_REDIS=1
(OAI_REQUIRE_RABBITMQ=1) asks for them, as CI does (.ci/run).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from oai.store.harvest import HarvestStore
from oai.store.repository import Store
from tests.counting_server import CountingProvider, counting_providers
from tests.serving import OAI

REDIS_URL = os.environ.get("OAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("OAI_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
WAIT = 150.0  # seconds: a hung cluster fails the test rather than the suite's timeout


def _need(what: str, env: str, probe: Callable[[], None]) -> None:
    try:
        probe()
    except Exception as exc:
        reason = f"{what} not reachable ({exc.__class__.__name__}: {exc})"
        if os.environ.get(env) == "1":
            pytest.fail(f"{what} is required ({env}=1) but {reason}")
        pytest.skip(f"{reason}; distributed harvesting tests need it (set {env}=1 to fail "
                    "instead)")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in Redis, its keys deleted afterwards."""
    pytest.importorskip("celery", reason="the [distributed] extra is not installed")
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    _need(f"Redis at {REDIS_URL}", "OAI_REQUIRE_REDIS", lambda: client.ping())
    prefix = f"oaitest-{uuid.uuid4().hex[:10]}:"
    yield prefix
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        client.delete(key)
    client.close()


class Cluster:
    """`oai worker` processes on one store, broker and key prefix (each in its own session,
    so that a kill takes its threads and any child with it)."""

    def __init__(self, tmp: Path, db_url: str, prefix: str, broker: str,
                 tick: int = 60) -> None:
        self.tmp = tmp
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
        self.env.update(OAI_DATABASE_URL=db_url, OAI_BROKER_URL=broker,
                        OAI_COORDINATOR_URL=REDIS_URL, OAI_DISTRIBUTED_PREFIX=prefix,
                        OAI_DISTRIBUTED_QUEUE=f"{prefix}harvest",
                        OAI_DISTRIBUTED_TICK=str(tick), OAI_HARVEST_LEASE_SECONDS="3",
                        OAI_HARVEST_RETRIES="2")
        self.workers: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *extra: str) -> None:
        env = {**self.env, "OAI_USER_AGENT": f"worker-{name}"}
        log = (self.tmp / f"worker-{name}.log").open("wb")
        self.workers[name] = subprocess.Popen(
            [OAI, "worker", "--name", f"{name}@test", "--concurrency", "3", *extra],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def oai(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([OAI, *args], env=self.env, capture_output=True, text=True,
                              timeout=60)

    def kill(self, name: str) -> None:
        proc = self.workers[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.tmp.glob("worker-*.log")))

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        for proc in self.workers.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.workers.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _define(hstore: HarvestStore, providers: list[CountingProvider], per_host: int,
            every: int | None = None) -> dict[str, tuple[CountingProvider, str]]:
    """Sources h{H}s{S}: set sS of provider H, each at its own path."""
    defined = {}
    for h, provider in enumerate(providers):
        for s in range(per_host):
            name = f"h{h}s{s}"
            source = hstore.add_source(name, provider.source_url(name), set_specs=[f"s{s}"])
            if every:
                hstore.set_harvest_every(source.id, every)
            defined[name] = (provider, f"s{s}")
    return defined


def _wait_complete(hstore: HarvestStore, names: list[str], cluster: Cluster,
                   until: Callable[[], bool] = lambda: True) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        runs = {n: hstore.last_run(hstore.require_source(n).id) for n in names}
        if all(r is not None and r.status == "complete" for r in runs.values()) and until():
            return
        time.sleep(0.3)
    states = {n: (r.status, r.reason) if r else None for n, r in runs.items()}
    raise AssertionError(f"not all complete after {WAIT:.0f}s: {states}\n{cluster.logs()}")


def _check_copies(hstore: HarvestStore, defined: dict[str, tuple[CountingProvider, str]],
                  ) -> None:
    for name, (provider, set_spec) in defined.items():
        source = hstore.require_source(name)
        held = {r.identifier: (r.datestamp, r.deleted, r.set_specs, r.metadata)
                for r in hstore.iter_records(source.id)}
        served = provider.state(set_spec)
        assert held == served, f"{name}: {len(served.keys() - held.keys())} missing, " \
                               f"{len(held.keys() - served.keys())} extra"


def _check_polite(providers: list[CountingProvider]) -> None:
    for p in providers:
        assert p.counting.invalid == []
        assert p.counting.max_in_flight == 1, \
            f"{p.host} received {p.counting.max_in_flight} requests at once"


def _harvesters_by_source(providers: list[CountingProvider]) -> dict[str, list[str]]:
    """Per source, the workers that asked for it in order, repeats collapsed: [a] or [a, b]
    when b took over; a, b, a would mean two workers harvesting it at once."""
    seen: dict[str, list[str]] = {}
    for p in providers:
        for source, agent in p.counting.log:
            order = seen.setdefault(source, [])
            if not order or order[-1] != agent:
                order.append(agent)
    return seen


@pytest.fixture
def harvest_db(postgres_url: str) -> Iterator[tuple[str, HarvestStore]]:
    store = Store.open(postgres_url, create=True)
    yield postgres_url, HarvestStore(store)
    store.close()


def test_two_workers_harvest_20_sources_on_4_hosts_politely(
        tmp_path: Path, redis_prefix: str, harvest_db: tuple[str, HarvestStore]) -> None:
    db_url, hstore = harvest_db
    with counting_providers(tmp_path, hosts=4, sets=5, records=25, delay=0.02) as providers:
        defined = _define(hstore, providers, per_host=5)
        with Cluster(tmp_path, db_url, redis_prefix, REDIS_URL) as cluster:
            cluster.start("a")
            cluster.start("b")
            queued = cluster.oai("harvest", "run", "--all", "--distributed", "--json")
            assert queued.returncode == 0, queued.stderr
            sent = [json.loads(line) for line in queued.stdout.splitlines()]
            assert sorted(i["source"] for i in sent if i["status"] == "queued") == \
                sorted(defined)
            again = cluster.oai("harvest", "run", "h0s0", "--distributed")
            assert again.returncode == 0, again.stderr
            assert "already queued" in again.stdout or "being harvested" in again.stdout \
                or "queued (task" in again.stdout  # started meanwhile: sent again, harmless
            _wait_complete(hstore, list(defined), cluster)
        _check_polite(providers)
        _check_copies(hstore, defined)
        order = _harvesters_by_source(providers)
        agents = {a for seq in order.values() for a in seq}
        assert agents == {"worker-a", "worker-b"}, order  # both workers took part
        assert all(len(seq) == 1 for name, seq in order.items() if name != "h0s0"), order


def test_a_worker_killed_mid_run_is_taken_over(
        tmp_path: Path, redis_prefix: str, harvest_db: tuple[str, HarvestStore]) -> None:
    db_url, hstore = harvest_db
    with counting_providers(tmp_path, hosts=4, sets=2, records=150, delay=0.03) as providers:
        defined = _define(hstore, providers, per_host=2, every=86400)
        with Cluster(tmp_path, db_url, redis_prefix, REDIS_URL, tick=2) as cluster:
            cluster.start("a")
            cluster.start("b", "--beat")  # its scheduler's tick sends the due sources
            deadline = time.monotonic() + WAIT
            victim: str | None = None
            while victim is None and time.monotonic() < deadline:
                for source in hstore.list_sources():
                    last = hstore.last_run(source.id)
                    if (source.lease_owner or "").startswith("a@test") and last \
                            and last.status == "running" and last.pages >= 2:
                        victim = source.name
                time.sleep(0.05)
            assert victim is not None, cluster.logs()
            cluster.kill("a")
            status = cluster.oai("harvest", "status", victim, "--json")
            assert status.returncode == 0, status.stderr
            _wait_complete(hstore, list(defined), cluster)
        _check_polite(providers)
        _check_copies(hstore, defined)
        order = _harvesters_by_source(providers)
        assert order[victim] == ["worker-a", "worker-b"], order
        assert all(seq in (["worker-a"], ["worker-b"], ["worker-a", "worker-b"])
                   for seq in order.values()), order
        runs = hstore.recent_runs(hstore.require_source(victim).id)
        assert runs[0].status == "complete"  # resumed from the killed run's saved token


def test_rabbitmq_as_the_broker(tmp_path: Path, redis_prefix: str,
                                harvest_db: tuple[str, HarvestStore]) -> None:
    import kombu

    def probe() -> None:
        with kombu.Connection(RABBITMQ_URL, connect_timeout=3) as conn:
            conn.connect()

    _need(f"RabbitMQ at {RABBITMQ_URL}", "OAI_REQUIRE_RABBITMQ", probe)
    db_url, hstore = harvest_db
    with counting_providers(tmp_path, hosts=2, sets=2, records=20, delay=0.02) as providers:
        defined = _define(hstore, providers, per_host=2)
        try:
            with Cluster(tmp_path, db_url, redis_prefix, RABBITMQ_URL) as cluster:
                cluster.start("a")
                cluster.start("b")
                queued = cluster.oai("harvest", "run", "--all", "--distributed")
                assert queued.returncode == 0, queued.stderr
                assert queued.stdout.count("queued (task") == 4
                _wait_complete(hstore, list(defined), cluster)
        finally:
            with kombu.Connection(RABBITMQ_URL) as conn:  # the test's queue goes with it
                conn.default_channel.queue_delete(f"{redis_prefix}harvest")
        _check_polite(providers)
        _check_copies(hstore, defined)


def test_a_lease_of_another_machine_is_taken_over_only_after_expiry(store: Store,
                                                                     clock: Any) -> None:
    from harvester.lease import abandoned, machine_identity

    hstore = HarvestStore(store)
    source = hstore.add_source("far", "http://far.example.org/oai")
    dead = "a@elsewhere:999999999:abcd"  # no such pid here, but it is not ours to judge
    assert hstore.acquire_lease(source.id, dead, "other-boot:4026531836", 30, abandoned) is None
    mine = f"b@here:{os.getpid()}:ef01"
    assert hstore.acquire_lease(source.id, mine, machine_identity(), 30, abandoned) == dead
    clock.tick(29)
    assert hstore.acquire_lease(source.id, mine, machine_identity(), 30, abandoned) == dead
    clock.tick(2)
    assert hstore.acquire_lease(source.id, mine, machine_identity(), 30, abandoned) is None
    # on this machine, a holder whose pid is gone is taken over at once
    other = hstore.add_source("near", "http://near.example.org/oai")
    assert hstore.acquire_lease(other.id, dead, machine_identity(), 30, abandoned) is None
    assert hstore.acquire_lease(other.id, mine, machine_identity(), 30, abandoned) is None


def test_redis_politeness_keeps_the_interval_and_frees_a_dead_holders_host(
        redis_prefix: str) -> None:
    from harvester.distributed.coordinator import RedisCoordinator

    first, second = (RedisCoordinator(REDIS_URL, redis_prefix, lock_seconds=1.5)
                     for _ in range(2))
    url = "http://slow.example.org:8080/oai"
    try:
        started = first.redis_slots._now_ms()  # before the interval starts (Redis's clock)
        with first.slots.hold(url, interval=0.4):
            pass
        with second.slots.hold(url, interval=0.4):  # another "worker": waits the interval
            assert second.redis_slots._now_ms() - started >= 400
        # a holder that dies mid-request (never releases, never renews) frees the host
        lock = first.client.lock(f"{redis_prefix}host:http://slow.example.org:8080:lock",
                                 timeout=1.5)
        assert lock.acquire(blocking=False)
        waited = []
        with second.slots.hold(url, check=lambda: waited.append(1)):
            assert waited  # it had to wait for the expiry, checking for a stop meanwhile
    finally:
        first.close()
        second.close()


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    pytest.importorskip("celery", reason="the [distributed] extra is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAI_")}
    env.update(OAI_DATABASE_URL=f"sqlite:///{tmp_path / 'h.sqlite'}",
               OAI_BROKER_URL="redis://127.0.0.1:1/0")

    def oai(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([OAI, *args], env=env, capture_output=True, text=True,
                              timeout=60)

    assert oai("harvest", "add", "x", "http://127.0.0.1:1/oai", "--no-check").returncode == 0
    bad = oai("harvest", "schedule", "x", "often")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "duration" in bad.stderr
    done = oai("harvest", "schedule", "x", "12h")
    assert done.returncode == 0 and "every 12h" in done.stdout
    shown = json.loads(oai("harvest", "status", "x", "--json").stdout)
    assert shown["harvest_every"] == 12 * 3600 and shown["harvested_by"] is None
    down = oai("harvest", "run", "--all", "--distributed")
    assert down.returncode == 1 and down.stderr.count("\n") == 1, down.stderr
    assert "cannot reach the broker or Redis" in down.stderr
    window = oai("harvest", "run", "x", "--distributed", "--from", "2024-01-01")
    assert window.returncode == 1 and "--from/--until" in window.stderr


def test_a_stopped_worker_interrupts_its_runs_and_another_resumes_them(
        tmp_path: Path, redis_prefix: str, harvest_db: tuple[str, HarvestStore]) -> None:
    db_url, hstore = harvest_db
    with counting_providers(tmp_path, hosts=1, sets=2, records=150, delay=0.03) as providers:
        defined = _define(hstore, providers, per_host=2)
        with Cluster(tmp_path, db_url, redis_prefix, REDIS_URL, tick=2) as cluster:
            cluster.start("a")
            assert cluster.oai("harvest", "run", "--all", "--distributed").returncode == 0
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline:
                runs = [hstore.last_run(hstore.require_source(n).id) for n in defined]
                if any(r is not None and r.status == "running" and r.pages >= 2 for r in runs):
                    break
                time.sleep(0.05)
            worker = cluster.workers["a"]
            worker.send_signal(signal.SIGTERM)  # Celery's warm shutdown
            assert worker.wait(timeout=WAIT) == 0, cluster.logs()
            statuses = {n: hstore.last_run(hstore.require_source(n).id) for n in defined}
            assert "interrupted" in {r.status for r in statuses.values() if r}, cluster.logs()
            assert all(s.lease_owner is None for s in hstore.list_sources())
            cluster.start("b", "--beat")  # the tick resumes what was interrupted
            _wait_complete(hstore, list(defined), cluster)
        _check_polite(providers)
        _check_copies(hstore, defined)
