"""Serving with gunicorn, a production WSGI server: each worker builds its own app and engine
after the fork, so no database connection is shared between processes. Workers are threaded
(gthread) so that harvesters keep their connections alive between pages and a slow client
does not hold a whole worker."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication

from oai.config import Config


class _Gunicorn(BaseApplication):
    def __init__(self, config: Config, options: dict[str, Any]) -> None:
        self._oai_config = config
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from oai.provider.app import create_app

        return create_app(self._oai_config)


def serve(config: Config, access_log: bool = False) -> None:
    """Run the provider until interrupted."""
    options: dict[str, Any] = {
        "bind": f"{config.host}:{config.port}",
        "workers": config.workers,
        "worker_class": "gthread",
        "threads": config.threads,
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
    _Gunicorn(config, options).run()
