"""What `oai check` reports, per format: how many live records it carries, how many it does
not and why, whether its renditions are up to date with its crosswalk, and whether a sample of
its stored fragments still validates against its schema."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from oai.formats import Format, registry
from oai.protocol.rendering import render
from oai.protocol.schemas import SchemaViolation, validate_fragment
from oai.store.repository import Store

BATCH = 1000
NOT_RENDERED = "not rendered yet: run 'oai formats rebuild'"


@dataclass
class FormatCheck:
    prefix: str
    label: str
    version: str
    stored_version: str | None
    up_to_date: bool
    disseminated: int
    not_disseminated: int
    reasons: dict[str, int] = field(default_factory=dict)
    sampled: int = 0
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (record id, first error)

    @property
    def ok(self) -> bool:
        return not self.invalid


def check_format(store: Store, fmt: Format, live: int, sample: int) -> FormatCheck:
    state = store.format_states().get(fmt.prefix)
    stored = state.version if state is not None else None
    carried = store.disseminated_counts().get(fmt.prefix, 0)
    result = FormatCheck(fmt.prefix, fmt.label, fmt.version, stored,
                         stored == fmt.version and (state is None or not state.rebuilding),
                         carried, live - carried)
    reasons: Counter[str] = Counter()
    after: str | None = None
    while True:
        rows = store.records_without(fmt.prefix, after, BATCH)
        for _record_id, data in rows:
            fragment, reason = render(fmt, json.loads(data))
            reasons[reason if fragment is None and reason else NOT_RENDERED] += 1
        if len(rows) < BATCH:
            break
        after = rows[-1][0]
    result.reasons = dict(reasons.most_common())
    for record_id, xml in store.sample_renditions(fmt.prefix, sample):
        result.sampled += 1
        try:
            validate_fragment(fmt.namespace, xml)
        except SchemaViolation as exc:
            lines = str(exc).strip().splitlines()
            result.invalid.append((record_id, lines[-1].strip()))
    return result


def check(store: Store, sample: int = 50) -> list[FormatCheck]:
    live = store.live_record_count()
    return [check_format(store, fmt, live, sample) for fmt in registry().values()]
