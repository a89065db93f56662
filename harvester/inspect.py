"""Looking at a remote repository before harvesting it: what it says about itself, the formats
it offers, its sets, and whether a source definition makes sense against it.

Used by `oai remote ...` (show a repository without adding it) and `oai harvest add/edit`
(check a source before saving it). Bounded: a set list is walked for at most `max_pages`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from harvester.client import OAIClient
from harvester.errors import HarvestError
from harvester.parsing import FormatInfo, IdentifyInfo, SetInfo, parse_formats, parse_identify

MAX_SET_PAGES = 50


class SourceCheckFailed(HarvestError):
    """The repository does not offer what the source definition asks for."""


@dataclass
class SourceReport:
    """What `harvest add` found out about a repository."""

    identify: IdentifyInfo
    formats: list[FormatInfo]
    sets_found: list[str] = field(default_factory=list)
    records: int | None = None  # from the first ListIdentifiers page, when it says
    records_exact: bool = False

    def lines(self) -> list[str]:
        info = self.identify
        count = ("unknown" if self.records is None
                 else f"{self.records}" if self.records_exact else f"about {self.records}")
        return [f"repository:   {info.repository_name or '(no name)'}",
                f"granularity:  {info.granularity.value}",
                f"deletions:    {info.deleted_record or '(not said)'}",
                f"earliest:     {info.earliest_datestamp or '(not said)'}",
                f"formats:      {', '.join(f.prefix for f in self.formats)}",
                f"records:      {count}"]


def identify(client: OAIClient) -> IdentifyInfo:
    return parse_identify(client.request("Identify").body)


def formats(client: OAIClient) -> list[FormatInfo]:
    return parse_formats(client.request("ListMetadataFormats").body)


def iter_sets(client: OAIClient, max_pages: int | None = MAX_SET_PAGES) -> Iterator[SetInfo]:
    """The repository's sets, page by page; none when it has no set hierarchy."""
    pager = client.pager("ListSets")
    for number, page in enumerate(pager.pages({}), 1):
        if page.errors:
            if [code for code, _ in page.errors] == ["noSetHierarchy"]:
                return
            page.raise_for_errors(client.endpoint)
        yield from page.sets
        if max_pages is not None and number >= max_pages and page.next_token:
            raise SourceCheckFailed(f"the set list is longer than {max_pages} pages; "
                                    "not read to the end", url=client.endpoint)


def count_records(client: OAIClient, prefix: str,
                  set_specs: Sequence[str]) -> tuple[int | None, bool]:
    """(records, exact?) from one ListIdentifiers page per set: completeListSize where the
    server gives it, the page's own count when it is the whole list."""
    total = 0
    exact = True
    specs: list[str | None] = list(set_specs) or [None]
    for spec in specs:
        page = client.fetch_page("ListIdentifiers", metadataPrefix=prefix, set=spec)
        if page.errors:
            return None, False
        if page.next_token is None:
            total += len(page.records)
        elif page.token is not None and page.token.complete_list_size is not None:
            total += page.token.complete_list_size
            exact = False  # servers estimate it, and it changes
        else:
            return None, False
    return total, exact


def check_source(client: OAIClient, prefix: str, set_specs: Sequence[str]) -> SourceReport:
    """Identify, the prefix offered, the sets asked for present; raises SourceCheckFailed
    (or the transport error) saying what is wrong."""
    info = identify(client)
    if info.protocol_version and info.protocol_version != "2.0":
        raise SourceCheckFailed(f"the repository speaks OAI-PMH {info.protocol_version}, "
                                "not 2.0", url=client.endpoint)
    offered = formats(client)
    prefixes = [f.prefix for f in offered]
    if prefix not in prefixes:
        raise SourceCheckFailed(f"the repository does not offer metadataPrefix {prefix!r} "
                                f"(it offers {', '.join(prefixes) or 'none'})",
                                url=client.endpoint)
    report = SourceReport(info, offered)
    if set_specs:
        wanted = set(set_specs)
        for found in iter_sets(client):
            if found.spec in wanted:
                report.sets_found.append(found.spec)
                if len(report.sets_found) == len(wanted):
                    break
        missing = sorted(wanted - set(report.sets_found))
        if missing:
            raise SourceCheckFailed(f"the repository has no set {', '.join(map(repr, missing))}",
                                    url=client.endpoint)
    report.records, report.records_exact = count_records(client, prefix, set_specs)
    return report
