"""Verb argument rules (spec 3.1.1, 4): which arguments each verb requires, allows or excludes.

`parse_request` turns the raw (possibly repeated) key/value pairs of a GET query or POST body
into a validated `OAIRequest`, raising BadVerb or BadArgument exactly as the spec says.
Values are checked here against their syntax (`oai.protocol.syntax`: a metadataPrefix, set or
identifier that no repository could ever have is an illegal argument, not an unknown one) and
dates for granularity and order; store lookups happen later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from oai.protocol.datestamps import Granularity, InvalidDate, ParsedDate, parse_protocol_date
from oai.protocol.errors import BadArgument, BadVerb
from oai.protocol.syntax import is_identifier, is_metadata_prefix, is_set_spec


@dataclass(frozen=True)
class VerbRule:
    """Arguments a verb takes; `exclusive` may only appear alone (besides the verb)."""

    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    exclusive: str | None = None


VERB_RULES: dict[str, VerbRule] = {
    "Identify": VerbRule(),
    "ListMetadataFormats": VerbRule(optional=frozenset({"identifier"})),
    "ListSets": VerbRule(exclusive="resumptionToken"),
    "GetRecord": VerbRule(required=frozenset({"identifier", "metadataPrefix"})),
    "ListIdentifiers": VerbRule(
        required=frozenset({"metadataPrefix"}),
        optional=frozenset({"from", "until", "set"}),
        exclusive="resumptionToken",
    ),
    "ListRecords": VerbRule(
        required=frozenset({"metadataPrefix"}),
        optional=frozenset({"from", "until", "set"}),
        exclusive="resumptionToken",
    ),
}

# Arguments whose value has a syntax of its own (OAI-PMH.xsd), and what it is called.
_SYNTAX: dict[str, tuple[Callable[[str], bool], str]] = {
    "metadataPrefix": (is_metadata_prefix, "a metadataPrefix (letters, digits, -_.!~*'())"),
    "set": (is_set_spec, "a setSpec (letters, digits, -_.!~*'() separated by ':')"),
    "identifier": (is_identifier, "a URI"),
}


@dataclass(frozen=True)
class OAIRequest:
    """A syntactically valid OAI-PMH request; `arguments` excludes the verb."""

    verb: str
    arguments: dict[str, str] = field(default_factory=dict)
    from_: ParsedDate | None = None
    until: ParsedDate | None = None

    def get(self, name: str) -> str | None:
        return self.arguments.get(name)


def parse_request(
    pairs: Iterable[tuple[str, str]],
    repository_granularity: Granularity = Granularity.SECONDS,
) -> OAIRequest:
    """Validate raw request pairs; raise BadVerb/BadArgument with a message saying why."""
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        values.setdefault(key, []).append(value)

    verbs = values.pop("verb", [])
    if not verbs:
        raise BadVerb("the request has no verb argument")
    if len(verbs) > 1:
        raise BadVerb("the verb argument is repeated")
    verb = verbs[0]
    rule = VERB_RULES.get(verb)
    if rule is None:
        raise BadVerb(f"{verb!r} is not an OAI-PMH verb" if verb else "the verb is empty")

    repeated = sorted(k for k, v in values.items() if len(v) > 1)
    if repeated:
        raise BadArgument(f"repeated argument: {', '.join(repeated)}")
    arguments = {k: v[0] for k, v in values.items()}

    allowed = rule.required | rule.optional | ({rule.exclusive} if rule.exclusive else set())
    illegal = sorted(set(arguments) - allowed)
    if illegal:
        raise BadArgument(f"illegal argument for {verb}: {', '.join(illegal)}")

    if rule.exclusive and rule.exclusive in arguments:
        others = sorted(set(arguments) - {rule.exclusive})
        if others:
            raise BadArgument(f"{rule.exclusive} is an exclusive argument; also given: "
                              f"{', '.join(others)}")
        if not arguments[rule.exclusive]:
            raise BadArgument(f"{rule.exclusive} is empty")
        return OAIRequest(verb, arguments)

    missing = sorted(rule.required - set(arguments))
    if missing:
        raise BadArgument(f"missing required argument for {verb}: {', '.join(missing)}")
    empty = sorted(k for k, v in arguments.items() if v == "")
    if empty:
        raise BadArgument(f"empty argument: {', '.join(empty)}")
    for name, (valid, what) in _SYNTAX.items():
        given = arguments.get(name)
        if given is not None and not valid(given):
            shown = given if len(given) <= 80 else given[:80] + "..."
            raise BadArgument(f"{name}: {shown!r} is not {what}")

    from_ = _date_argument(arguments, "from", repository_granularity)
    until = _date_argument(arguments, "until", repository_granularity)
    if from_ and until:
        if from_.granularity is not until.granularity:
            raise BadArgument("from and until must have the same granularity")
        if from_.epoch > until.epoch:
            raise BadArgument("from is later than until")
    return OAIRequest(verb, arguments, from_, until)


def _date_argument(
    arguments: dict[str, str], name: str, repository_granularity: Granularity
) -> ParsedDate | None:
    value = arguments.get(name)
    if value is None:
        return None
    try:
        parsed = parse_protocol_date(value)
    except InvalidDate as exc:
        raise BadArgument(f"{name}: {exc}") from None
    if parsed.granularity is Granularity.SECONDS and repository_granularity is Granularity.DAY:
        raise BadArgument(f"{name}: this repository supports day granularity only")
    return parsed
