"""Validating a live repository: a bounded, polite sample of every verb and format.

The walk asks Identify, ListMetadataFormats and ListSets, then for each advertised format
ListIdentifiers (from the earliestDatestamp, which puts the from/until echo to the test),
ListRecords and one GetRecord, following resumption tokens up to `pages` pages per list.
Every response gets the document checks and every protocol rule, with what a single file
cannot give: Identify's granularity and earliestDatestamp, and the exact number of items each
list served before each page.

A URL that names a verb in its query (`...?verb=ListRecords&metadataPrefix=oai_dc`) is not
walked: that one response is fetched and judged as a lone page, as a file would be.

Requests go through the harvester's `OAIClient` (timeouts, deadline, retries with backoff,
Retry-After, one request at a time per host, a byte cap), one after the other. A request
that fails for good is a problem of that request's URL; the walk goes on without it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from oai.protocol.datestamps import InvalidDate, format_datestamp, parse_lenient
from oai.validation.checks import check_bytes
from oai.validation.documents import Catalog, Hints
from oai.validation.locate import tag
from oai.validation.report import Problem, Report, Severity
from oai.validation.rules import Context, ListState, Repository, Response

if TYPE_CHECKING:
    from harvester.client import OAIClient

Progress = Callable[[str], None]
LIST_ERRORS = frozenset({"noRecordsMatch"})


class Walk:
    """One repository's walk; `run()` returns its report."""

    def __init__(self, client: OAIClient, pages: int, catalog: Catalog,
                 progress: Progress | None) -> None:
        self.client = client
        self.pages = max(1, pages)
        self.catalog = catalog
        self.progress = progress or (lambda message: None)
        self.report = Report(targets=1)
        self.repository = Repository()

    def target(self, params: Mapping[str, str]) -> str:
        return f"{self.client.endpoint}?{urlencode(params)}"

    def fetch(self, verb: str, args: Mapping[str, str | None], ctx: Context | None,
              hints: Hints | None = None) -> Response | None:
        """One request, checked (without a context, as a lone page); None when it failed or
        did not answer OAI-PMH."""
        from harvester.errors import HarvestError

        params = {"verb": verb, **{k: v for k, v in args.items() if v is not None}}
        target = self.target(params)
        shown = " ".join(f"{k}={v}" for k, v in params.items() if k != "verb")
        self.progress(f"{verb}{' ' + shown if shown else ''} (request "
                      f"{self.report.documents + 1})")
        try:
            result = self.client.request(verb, **{k: v for k, v in params.items()
                                                  if k != "verb"})
        except HarvestError as exc:
            self.report.add([Problem(target, "request-failed", str(exc))])
            return None
        found, response = check_bytes(result.body, target, catalog=self.catalog, hints=hints,
                                      context=ctx)
        if response is None and not any(p.rule == "not-well-formed" for p in found.problems):
            found.problems = [Problem(target, "not-oai", "the answer is not an OAI-PMH "
                                                         "response (its root is not <OAI-PMH>)")]
        if result.status != 200 and response is not None:
            found.add([Problem(target, "http-status", f"HTTP {result.status}: OAI-PMH sends "
                               "its answers, errors included, with status 200",
                               Severity.WARNING)])
        self.report.merge(found)
        return response

    def walk_list(self, verb: str, args: Mapping[str, str | None], hints: Hints | None = None,
                  ) -> list[Response]:
        """The first `pages` pages of one list."""
        state = ListState(exact=True)
        ctx = Context(self.repository, state, LIST_ERRORS | ({"noSetHierarchy"}
                                                             if verb == "ListSets" else set()))
        pages: list[Response] = []
        tokens: set[str] = set()
        request: Mapping[str, str | None] = args
        while len(pages) < self.pages:
            response = self.fetch(verb, request, ctx, hints)
            if response is None:
                break
            pages.append(response)
            token = response.token_value
            if response.errors or not token or token in tokens:
                break  # the list ended, failed, or gave a token it gave before
            tokens.add(token)
            state.resumed = True
            request = {"resumptionToken": token}
        return pages

    def run(self) -> Report:
        identify = self.fetch("Identify", {}, Context(expected_errors=frozenset()))
        if identify is None:
            return self.report
        self.repository = Repository.from_identify(identify)
        formats = self.formats()
        self.walk_list("ListSets", {})
        for prefix, hints in formats.items():
            headers = self.walk_list("ListIdentifiers", {"metadataPrefix": prefix,
                                                         "from": self.from_argument()})
            records = self.walk_list("ListRecords", {"metadataPrefix": prefix}, hints)
            identifier = _first_identifier(headers + records)
            if identifier is not None:
                self.fetch("GetRecord", {"identifier": identifier, "metadataPrefix": prefix},
                           Context(self.repository, expected_errors=frozenset()), hints)
        return self.report

    def formats(self) -> dict[str, Hints]:
        """prefix -> {namespace: [schema]} of each advertised format (oai_dc if none)."""
        response = self.fetch("ListMetadataFormats", {},
                              Context(self.repository, expected_errors=frozenset()))
        found: dict[str, Hints] = {}
        box = response.container if response is not None else None
        for entry in box.iter(tag("metadataFormat")) if box is not None else ():
            prefix = (entry.findtext(tag("metadataPrefix")) or "").strip()
            namespace = (entry.findtext(tag("metadataNamespace")) or "").strip()
            schema = (entry.findtext(tag("schema")) or "").strip()
            if prefix:
                found[prefix] = {namespace: [schema]} if namespace and schema else {}
        return found or {"oai_dc": {}}

    def from_argument(self) -> str | None:
        """earliestDatestamp at the declared granularity, to list from (None if unusable)."""
        earliest, granularity = self.repository.earliest, self.repository.granularity
        if not earliest or granularity is None:
            return None
        try:
            return format_datestamp(parse_lenient(earliest), granularity)
        except InvalidDate:
            return None


def _first_identifier(pages: list[Response]) -> str | None:
    for page in pages:
        for header in page.headers():
            text = (header.findtext(tag("identifier")) or "").strip()
            if text:
                return text
    return None


def base_url(url: str) -> tuple[str, dict[str, str]]:
    """A repository's base URL and the OAI arguments a URL names (none for a base URL)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "verb" not in query:
        return url, {}
    return urlunsplit(parts._replace(query="", fragment="")), query


def validate_url(url: str, *, pages: int = 3, catalog: Catalog = None,
                 progress: Progress | None = None, client: OAIClient | None = None,
                 **client_options: Any) -> Report:
    """Walk the repository at base URL `url` (see the module doc) and report its problems.
    `client_options` go to the harvester's OAIClient (user_agent, read_timeout, deadline,
    max_attempts, max_bytes...) when no `client` is given."""
    base, query = base_url(url)
    if client is None:
        from harvester.client import OAIClient

        client = OAIClient(base, **client_options)
    walk = Walk(client, pages, catalog, progress)
    if "verb" not in query:
        return walk.run()
    verb = query.pop("verb")
    walk.fetch(verb, query, None)
    return walk.report
