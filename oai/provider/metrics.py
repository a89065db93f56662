"""The provider's Prometheus metrics (prometheus_client), aggregated across gunicorn workers.

`oai serve` points PROMETHEUS_MULTIPROC_DIR at a fresh directory before the workers fork
(`oai.provider.server`): every worker then writes its values to files there, and /metrics
sums them, whichever worker answers the scrape. Without that variable (an app built in a
test, or by another WSGI server) the metrics are the process's own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
VERBS = frozenset({"Identify", "ListMetadataFormats", "ListSets", "GetRecord",
                   "ListIdentifiers", "ListRecords"})



@dataclass(frozen=True)
class Metrics:
    requests: Counter
    duration: Histogram
    in_flight: Gauge
    shed: Counter


@cache
def get() -> Metrics:
    """The metrics, made at first use: in a worker, after the fork and after `oai serve` set
    the directory. prometheus_client picks its value store when first imported, which may
    have been before (importing `oai.provider` imports it): then it is picked again here."""
    if os.environ.get(MULTIPROC_ENV) and not getattr(values.ValueClass, "_multiprocess", False):
        values.ValueClass = values.get_value_class()
    return Metrics(
        Counter("oai_requests", "OAI-PMH requests answered, by verb and HTTP status",
                ["verb", "status"]),
        Histogram("oai_request_duration_seconds", "Time to answer an OAI-PMH request",
                  ["verb"],
                  buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30)),
        Gauge("oai_requests_in_flight", "Requests read or being answered",
              multiprocess_mode="livesum"),
        Counter("oai_requests_shed", "Requests answered 503 without being served, by reason "
                "(load: above max_in_flight; maintenance: the switch is on)", ["reason"]))


def verb_label(verb: str | None) -> str:
    """The verb as a label: one of the six, or 'none' (bounded cardinality)."""
    return verb if verb in VERBS else "none"


def exposition() -> tuple[bytes, str]:
    """The text exposition of every metric, summed over the workers when shared."""
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
