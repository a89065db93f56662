"""What a harvested page commits, and, for sources that ask for it (`oai harvest add
--validate`), how many schema problems each record's payload has.

A record that fails its schema is flagged (`harvested_records.schema_errors`, counted per
run), never dropped: the copy stays faithful to the source. The payload is validated as
`oai validate` would validate it on its own: against the schema of its root's namespace, as
our catalog (or the configured one) finds it, its own xsi:schemaLocation considered. Sources
that do not ask pay nothing: no checker is made for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harvester.parsing import Page
from oai.store.harvest import PageWrite, QuarantineWrite, RecordWrite

if TYPE_CHECKING:
    from oai.validation.documents import Catalog


class PayloadChecker:
    """Counts the schema problems of one payload; None when its namespace has no schema."""

    def __init__(self, catalog: Catalog = None) -> None:
        self.catalog = catalog

    def __call__(self, payload: str | None) -> int | None:
        if payload is None:
            return None
        # imported when a source asks for validation: the others do not pay its start-up
        from oai.validation.documents import check_document
        from oai.validation.report import Severity

        checked = check_document(payload.encode("utf-8"), "payload", catalog=self.catalog)
        errors = sum(1 for p in checked.problems if p.severity is Severity.ERROR)
        if not errors and any(p.rule == "no-schema" for p in checked.problems):
            return None
        return errors


def page_write(page: Page, requests: int, window_pages: int,
               checker: PayloadChecker | None = None, duplicates: bool = True) -> PageWrite:
    """One page as the store commits it, each payload checked when a checker is given, and
    (unless `duplicates` is off) its identifiers and fingerprint extracted for matching."""
    if duplicates:  # imported only when used: idutils compiles its patterns at import (0.5 s)
        from harvester.duplicates.fingerprint import judge
        from harvester.duplicates.keys import keys_for
    records = [RecordWrite(r.identifier, r.datestamp, r.datestamp_epoch, r.deleted,
                           r.set_specs, r.metadata, "".join(r.about) or None,
                           None if checker is None or r.deleted else checker(r.metadata),
                           keys_for(r.metadata) if duplicates and not r.deleted else None)
               for r in page.records]
    quarantined = [QuarantineWrite(q.identifier, q.reason, q.raw) for q in page.quarantined]
    if page.repairs and page.raw is not None:
        quarantined.append(QuarantineWrite(None, "page repaired: " + "; ".join(page.repairs),
                                           page.raw))
    token = page.token
    return PageWrite(records, quarantined, page.next_token or None,
                     token.cursor if token else None,
                     token.complete_list_size if token else None, page.response_date,
                     tuple(page.repairs), requests, window_pages,
                     judge if duplicates else None)
