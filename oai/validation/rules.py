"""The protocol rules a schema cannot check, one small function each, under a stable id.

Every rule reads one OAI-PMH response (`Response`) in its context (`Context`): what the
repository declared in Identify, if known, and the state of the list the response is a page
of. A walk over a repository's URL knows both exactly (it counted every item served before a
page); a single file knows only what it says itself (its request element, its cursor), and
rules that need more stay silent there.

Rules yield `(element, message)` findings; `check_rules` turns them into problems with the
target, line, XPath and record identifier, then moves the list state past the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from lxml import etree

from oai.protocol.datestamps import Granularity, InvalidDate, parse_protocol_date
from oai.protocol.namespaces import OAI
from oai.validation.locate import HEADER, RECORD, record_of, tag, xpath_of
from oai.validation.report import Problem, Severity

LIST_VERBS = {"ListRecords": RECORD, "ListIdentifiers": HEADER, "ListSets": tag("set")}
VERBS = frozenset({"Identify", "ListMetadataFormats", "GetRecord", *LIST_VERBS})
Finding = tuple[etree._Element, str]


@dataclass
class Response:
    """What the rules read of one OAI-PMH response."""

    root: etree._Element
    request: dict[str, str]  # the request element's attributes (the echo)
    verb: str | None  # the verb container present, else the echoed verb
    container: etree._Element | None
    items: list[etree._Element]  # records, headers or sets of a list
    token: etree._Element | None  # the list's resumptionToken element
    errors: list[etree._Element]

    @classmethod
    def read(cls, root: etree._Element) -> Response:
        request = root.find(tag("request"))
        echo = dict(request.attrib) if request is not None else {}
        container = next((c for c in root if isinstance(c.tag, str)
                          and etree.QName(c).localname in VERBS
                          and etree.QName(c).namespace == OAI), None)
        verb = etree.QName(container).localname if container is not None else echo.get("verb")
        item = LIST_VERBS.get(verb or "")
        items = container.findall(item) if container is not None and item else []
        token = container.find(tag("resumptionToken")) if container is not None else None
        return cls(root, echo, verb, container, items, token, root.findall(tag("error")))

    @property
    def is_list(self) -> bool:
        return self.verb in LIST_VERBS and self.container is not None

    @property
    def token_value(self) -> str | None:
        """The token's value; "" for an empty (final) token, None when there is none."""
        return (self.token.text or "").strip() if self.token is not None else None

    def headers(self) -> list[etree._Element]:
        return list(self.container.iter(HEADER)) if self.container is not None else []


@dataclass
class Repository:
    """What Identify declared."""

    granularity: Granularity | None = None
    earliest: str | None = None

    @property
    def earliest_epoch(self) -> int | None:
        try:
            return parse_protocol_date(self.earliest).epoch if self.earliest else None
        except InvalidDate:
            return None

    @classmethod
    def from_identify(cls, response: Response) -> Repository:
        box = response.container
        if box is None or response.verb != "Identify":
            return cls()
        text = (box.findtext(tag("granularity")) or "").strip()
        granularity = next((g for g in Granularity if g.value == text), None)
        return cls(granularity, (box.findtext(tag("earliestDatestamp")) or "").strip() or None)


@dataclass
class ListState:
    """A list seen so far. `exact`: the items served before the current page are known (a
    walk); otherwise only the page's own claims (its cursor, its request echo) are."""

    exact: bool = False
    served: int = 0
    resumed: bool = False  # the current page was asked for with a resumptionToken
    identifiers: dict[str, int] = field(default_factory=dict)  # identifier -> page
    tokens: set[str] = field(default_factory=set)
    pages: int = 0

    def known_before(self) -> int | None:
        """How many items came before the current page, when known without its cursor."""
        if self.exact:
            return self.served
        return None if self.resumed else 0

    def before(self, response: Response) -> int | None:
        """How many items came before this page, its cursor believed if nothing else says."""
        known = self.known_before()
        if known is not None or response.token is None:
            return known
        return _int(response.token.get("cursor"))

    def advance(self, response: Response) -> None:
        self.pages += 1
        self.served += len(response.items)
        for element in _identifier_elements(response):
            self.identifiers.setdefault((element.text or "").strip(), self.pages)
        if response.token_value:
            self.tokens.add(response.token_value)


@dataclass
class Context:
    repository: Repository = field(default_factory=Repository)
    list: ListState = field(default_factory=ListState)
    expected_errors: frozenset[str] | None = None  # None: any OAI error is an answer


Check = Callable[[Response, Context], Iterator[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    check: Check


RULES: dict[str, Rule] = {}


def rule(rule_id: str, summary: str, severity: Severity = Severity.ERROR,
         ) -> Callable[[Check], Check]:
    """Register a rule under its stable id."""
    def register(check: Check) -> Check:
        RULES[rule_id] = Rule(rule_id, severity, summary, check)
        return check
    return register


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _identifier_elements(response: Response) -> Iterator[etree._Element]:
    if response.verb in ("ListRecords", "ListIdentifiers"):
        for header in response.headers():
            identifier = header.find(tag("identifier"))
            if identifier is not None:
                yield identifier


# --------------------------------------------------------------------------- the rules


@rule("empty-page", "a list page holds no item (a token alone, or an empty last page)")
def empty_page(response: Response, ctx: Context) -> Iterator[Finding]:
    if response.is_list and not response.items and response.container is not None:
        where = response.token if response.token is not None else response.container
        kind = "the last page" if response.token_value == "" else "a page"
        yield where, (f"{kind} of the list holds no {response.verb} item; a list with nothing "
                      "(more) to return answers noRecordsMatch or ends on the page before")


@rule("last-page-token", "the last page of a resumed list lacks its empty resumptionToken")
def last_page_token(response: Response, ctx: Context) -> Iterator[Finding]:
    if response.is_list and ctx.list.resumed and response.token is None \
            and response.container is not None:
        yield response.container, ("this page answers a resumptionToken but carries no "
                                   "resumptionToken element: the last page of a list must "
                                   "carry an empty one")


@rule("cursor", "the token's cursor is not the number of items served before the page")
def cursor(response: Response, ctx: Context) -> Iterator[Finding]:
    if not response.is_list or response.token is None:
        return
    value = _int(response.token.get("cursor"))
    expected = ctx.list.known_before()
    if value is not None and expected is not None and value != expected:
        yield response.token, (f"cursor is {value} but {expected} item(s) were served before "
                               "this page")


@rule("complete-list-size", "completeListSize contradicts what the list served")
def complete_list_size(response: Response, ctx: Context) -> Iterator[Finding]:
    if not response.is_list or response.token is None:
        return
    size = _int(response.token.get("completeListSize"))
    before = ctx.list.before(response)
    if size is None or before is None:
        return
    total = before + len(response.items)
    basis = "served" if ctx.list.known_before() is not None else "counted from the cursor"
    if response.token_value == "" and total != size:
        yield response.token, (f"completeListSize is {size} but the list ends here after "
                               f"{total} item(s) ({basis})")
    elif total > size:
        yield response.token, (f"completeListSize is {size} but {total} item(s) were "
                               f"served up to this page ({basis})")


@rule("repeated-identifier", "an identifier appears twice in one list")
def repeated_identifier(response: Response, ctx: Context) -> Iterator[Finding]:
    seen = dict(ctx.list.identifiers)
    for element in _identifier_elements(response):
        value = (element.text or "").strip()
        if value in seen:
            page = seen[value]
            where = "earlier on this page" if page > ctx.list.pages else f"on page {page}"
            yield element, f"identifier {value} was already listed {where}"
        else:
            seen[value] = ctx.list.pages + 1


@rule("repeated-token", "a resumptionToken value comes back within one list")
def repeated_token(response: Response, ctx: Context) -> Iterator[Finding]:
    value = response.token_value
    if value and response.token is not None and value in ctx.list.tokens:
        yield response.token, f"resumptionToken {value!r} was already issued in this list"


@rule("deleted-with-metadata", "a deleted record carries metadata")
def deleted_with_metadata(response: Response, ctx: Context) -> Iterator[Finding]:
    for record in response.root.iter(RECORD):
        header = record.find(HEADER)
        metadata = record.find(tag("metadata"))
        if header is not None and header.get("status") == "deleted" and metadata is not None:
            yield metadata, "the record's header says deleted, yet it carries metadata"


def _granularity_of(value: str) -> Granularity | None:
    try:
        return parse_protocol_date(value.strip()).granularity
    except InvalidDate:
        return None  # not a protocol date at all: the schema says so


def _dates(response: Response) -> Iterator[tuple[etree._Element, str, str]]:
    """(element, value, what) of every date that must be at the declared granularity."""
    for header in response.headers():
        element = header.find(tag("datestamp"))
        if element is not None:
            yield element, (element.text or "").strip(), "datestamp"
    request = response.root.find(tag("request"))
    for name in ("from", "until"):
        if request is not None and request.get(name):
            yield request, request.get(name, "").strip(), f"the echoed {name}"
    if response.verb == "Identify" and response.container is not None:
        element = response.container.find(tag("earliestDatestamp"))
        if element is not None:
            yield element, (element.text or "").strip(), "earliestDatestamp"


@rule("granularity", "a datestamp is not at the granularity Identify declares")
def granularity(response: Response, ctx: Context) -> Iterator[Finding]:
    declared = ctx.repository.granularity
    if declared is None:
        return
    for element, value, what in _dates(response):
        try:
            found = parse_protocol_date(value).granularity
        except InvalidDate:
            continue  # not a protocol date at all: the schema says so
        if found is not declared:
            yield element, f"{what} {value} is not at the declared granularity {declared}"


@rule("before-earliest", "a datestamp is earlier than Identify's earliestDatestamp")
def before_earliest(response: Response, ctx: Context) -> Iterator[Finding]:
    earliest = ctx.repository.earliest_epoch
    if earliest is None:
        return
    for header in response.headers():
        element = header.find(tag("datestamp"))
        text = (element.text or "").strip() if element is not None else ""
        try:
            epoch = parse_protocol_date(text).epoch
        except InvalidDate:
            continue
        if epoch < earliest and element is not None:
            yield element, (f"datestamp {text} is earlier than earliestDatestamp "
                            f"{ctx.repository.earliest}")


@rule("oai-error", "a request the repository should answer got an OAI error")
def oai_error(response: Response, ctx: Context) -> Iterator[Finding]:
    if ctx.expected_errors is None:
        return
    for error in response.errors:
        code = error.get("code", "")
        if code not in ctx.expected_errors:
            yield error, f"{code}: {' '.join((error.text or '').split())}"


def check_rules(response: Response, ctx: Context, target: str) -> list[Problem]:
    """Every rule on one response; then the list state moves past it."""
    problems = [Problem(target, r.id, message, r.severity, line=element.sourceline,
                        xpath=xpath_of(element), record=record_of(element))
                for r in RULES.values() for element, message in r.check(response, ctx)]
    if response.is_list:
        ctx.list.advance(response)
    return problems
