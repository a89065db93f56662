"""Serving with gunicorn, a production WSGI server: each worker builds its own app and engine
after the fork, so no database connection is shared between processes. Workers are threaded
(gthread) so that harvesters keep their connections alive between pages and a slow client
does not hold a whole worker, while the answers themselves are computed in turn
(`oai.provider.turns`); our subclass (`oai.provider.worker`) answers the requests
gunicorn refuses itself in OAI-PMH rather than HTML.

The token secret is read once, here, before the fork, and a worker's engine connects on its
first request: a worker that (re)starts while the database is down boots, and answers 503
until the database is back, instead of failing to boot and taking gunicorn down with it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from typing import Any

from gunicorn.app.base import BaseApplication

from oai.config import Config
from oai.store.engine import open_engine
from oai.store.repository import Store, StoreError

#: where prometheus_client's multiprocess mode keeps each worker's values (not imported from
#: oai.provider.metrics: prometheus_client must not load before the variable is set)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: gunicorn's largest finite request line: a GET with a long identifier or token fits; a
#: longer one is refused (in OAI-PMH, by our worker) rather than buffered without limit.
LIMIT_REQUEST_LINE = 8190


class _Gunicorn(BaseApplication):
    def __init__(self, config: Config, options: dict[str, Any], read_only: bool) -> None:
        self.oai_config = config  # also read by the worker's error answers (base URL)
        self._options = options
        self._read_only = read_only
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from oai.provider.app import MAX_BODY_BYTES, create_app
        from oai.provider.turns import AnswersInTurn, FairSlots

        # no database access at boot (a worker restarted during an outage answers 503), and
        # a store the master found read-only is opened so here too
        engine = open_engine(self.oai_config.database_url, read_only=self._read_only,
                             serving=True)
        # the threads serve connections; answers are computed in turn (`oai.provider.turns`)
        turns = FairSlots(self.oai_config.concurrent_answers)
        app = create_app(self.oai_config, Store(engine, read_only=self._read_only),
                         sleep=turns.pause)
        app.wsgi_app = AnswersInTurn(  # type: ignore[method-assign]
            app.wsgi_app, turns, MAX_BODY_BYTES)
        return app


def with_token_secret(config: Config) -> tuple[Config, bool]:
    """`config` with the token secret filled in from the store if not set already, and
    whether the store must be opened read-only (the provider never writes)."""
    store = Store.open(config.database_url)
    try:
        secret = config.secret_key or store.setting("token_secret")
        read_only = store.read_only
    finally:
        store.close()
    if not secret:
        raise StoreError("no token secret: run 'oai init' or set secret_key")
    return replace(config, secret_key=secret), read_only


def serve(config: Config, access_log: bool = False) -> None:
    """Run the provider until interrupted."""
    config, read_only = with_token_secret(config)
    # /metrics sums what every worker wrote here (`oai.provider.metrics`): one directory per
    # serve, set before any worker forks, removed when the serve ends
    metrics_dir = tempfile.mkdtemp(prefix="oai-metrics-")
    os.environ[MULTIPROC_ENV] = metrics_dir
    try:
        _run(config, access_log, read_only)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _worker_exited(server: Any, worker: Any) -> None:
    """A dead worker's in-flight gauge leaves the sum (prometheus_client's livesum mode)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _run(config: Config, access_log: bool, read_only: bool) -> None:
    options: dict[str, Any] = {
        "bind": f"{config.host}:{config.port}",
        "workers": config.workers,
        "worker_class": "oai.provider.worker.SheddingThreadWorker",
        "child_exit": _worker_exited,
        "threads": config.threads,
        "limit_request_line": LIMIT_REQUEST_LINE,
        "keepalive": 5,
        # the worker heartbeat touches a file every loop: keep it in memory, not on disk
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
        "timeout": 120,
        "graceful_timeout": 10,
        "preload_app": False,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "oai-provider",
    }
    _Gunicorn(config, options, read_only).run()
