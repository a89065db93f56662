"""Property tests of list paging under change (hypothesis).

For any page size and any interleaving of inserts, updates and deletes between the pages of a
harvest, the complete list:
- contains every record that existed before the harvest and did not change during it;
- never repeats an identifier within one page sequence unless that record changed;
- has exact cursors, no empty page, and a final completeListSize equal to what was returned.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from oai.provider.app import create_app
from oai.store.repository import Store
from oai.store.tables import record_sets, records, renditions, sets
from tests.conftest import NS, Clock, OAIClient, make_config, put, record

ID = "oai:test.example.org:"


@dataclass(frozen=True)
class Op:
    kind: str  # insert / update / delete
    target: int  # index into the current record ids (or a new id number)
    tick: int  # seconds the clock advances before the operation


ops = st.builds(Op, st.sampled_from(["insert", "update", "delete"]),
                st.integers(0, 10_000), st.integers(0, 2))


def _reset(store: Store) -> None:
    with store.engine.begin() as conn:
        for table in (renditions, record_sets, records, sets):
            conn.execute(delete(table))


def _run(store: Store, clock: Clock, page_size: int, initial: int,
         schedule: list[list[Op]], with_sets: bool) -> None:
    _reset(store)
    clock.now = 1_700_000_000
    ids = [f"r{i:03d}" for i in range(initial)]
    for i, rid in enumerate(ids):
        if i % 3 == 0:
            clock.tick()
        put(store, record(rid, sets=["s:t"] if with_sets else None))
    clock.tick()
    oai = OAIClient(create_app(make_config(page_size=page_size, safety_lag=0),
                               store).test_client())
    params = {"metadataPrefix": "oai_dc", **({"set": "s"} if with_sets else {})}
    root = oai(verb="ListIdentifiers", **params)
    if not ids:
        expected = "noSetHierarchy" if with_sets else "noRecordsMatch"
        assert root.find("o:error", NS).get("code") == expected
        return
    changed: set[str] = set()
    live = list(ids)
    served: list[str] = []
    step = 0
    counter = 1000
    while True:
        body = root.find("o:ListIdentifiers", NS)
        assert body is not None, "a resumed page must not be an error"
        headers = body.findall("o:header", NS)
        assert headers, "no page may be empty"
        before = len(served)
        served += [h.findtext("o:identifier", namespaces=NS) for h in headers]
        token = body.find("o:resumptionToken", NS)
        if token is None:
            assert step == 0, "only a one-page list may omit the token"
            break
        assert int(token.get("cursor")) == before, "cursor = items returned before this page"
        assert int(token.get("completeListSize")) >= len(served)
        if not token.text:
            assert int(token.get("completeListSize")) == len(served)
            break
        for op in schedule[step] if step < len(schedule) else []:
            clock.tick(op.tick)
            if op.kind == "insert" or not live:
                counter += 1
                rid = f"n{counter}"
                put(store, record(rid, sets=["s"] if with_sets else None))
                live.append(rid)
            elif op.kind == "update":
                rid = live[op.target % len(live)]
                put(store, record(rid, f"changed at {clock.now} {op.target}",
                                  sets=["s:u"] if with_sets else None))
            else:
                rid = live.pop(op.target % len(live))
                store.delete([rid])
            changed.add(rid)
        step += 1
        root = oai(verb="ListIdentifiers", resumptionToken=token.text)

    unchanged = {ID + r for r in ids if r not in changed}
    assert unchanged <= set(served), "a record unchanged throughout was skipped"
    repeats = {i for i in served if served.count(i) > 1}
    assert repeats <= {ID + r for r in changed}, "an unchanged record was served twice"


CASE = st.tuples(st.integers(1, 7), st.integers(0, 25),
                 st.lists(st.lists(ops, max_size=4), max_size=8), st.booleans())


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=CASE)
def test_paging_under_concurrent_change(store: Store, clock: Clock,
                                        case: tuple[int, int, list[list[Op]], bool]) -> None:
    _run(store, clock, *case)
