"""What a parsed OAI-PMH response holds: plain dataclasses, no parsing here."""

from __future__ import annotations

from dataclasses import dataclass, field

from harvester.errors import OAIProtocolError
from oai.protocol.datestamps import Granularity
from oai.protocol.errors import error_for_code

NO_RECORDS_MATCH = "noRecordsMatch"


@dataclass(frozen=True)
class TokenInfo:
    """A resumptionToken element; an empty `value` means the list is complete."""

    value: str
    cursor: int | None = None
    complete_list_size: int | None = None
    expiration: str | None = None


@dataclass(slots=True)
class HarvestedRecord:
    """One record (or, for ListIdentifiers, one header).

    `metadata` is the metadata element's child exactly as served (its own text, character
    references and all), with only the namespace declarations from its ancestors that it
    uses added to its start tag, so it stands alone; None for deleted records and headers.
    """

    identifier: str
    datestamp: str
    datestamp_epoch: int | None
    deleted: bool = False
    set_specs: tuple[str, ...] = ()
    metadata: str | None = None
    about: list[str] = field(default_factory=list)
    # (slots and no freezing: one is built per record, and a frozen dataclass's __init__ costs
    # several times as much)


@dataclass(frozen=True)
class Quarantined:
    """A record that could not be read, kept byte for byte so it can be inspected later."""

    index: int
    identifier: str | None
    reason: str
    raw: bytes


@dataclass(frozen=True)
class SetInfo:
    """One ListSets entry."""

    spec: str
    name: str
    description: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FormatInfo:
    """One ListMetadataFormats entry."""

    prefix: str
    schema: str
    namespace: str


@dataclass
class Page:
    """One parsed response page.

    `errors` holds the OAI errors read from the page as (code, message), except noRecordsMatch,
    which is a successful empty result and only sets `no_records_match`. `raw` keeps the
    original body when anything had to be repaired or quarantined.
    """

    verb: str
    response_date: str | None = None
    response_epoch: int | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    records: list[HarvestedRecord] = field(default_factory=list)
    token: TokenInfo | None = None
    repairs: list[str] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    raw_size: int = 0
    no_records_match: bool = False
    sets: list[SetInfo] = field(default_factory=list)
    formats: list[FormatInfo] = field(default_factory=list)
    raw: bytes | None = None

    @property
    def next_token(self) -> str | None:
        """The token to send for the next page, or None when the list is complete."""
        if self.token is None or not self.token.value:
            return None
        return self.token.value

    def raise_for_errors(self, url: str | None = None) -> None:
        """Raise OAIProtocolError if the page carries errors (noRecordsMatch is not one)."""
        if self.errors:
            raise OAIProtocolError([error_for_code(c, m) for c, m in self.errors], url=url)


@dataclass(frozen=True)
class IdentifyInfo:
    """What a repository says about itself (spec 4.2)."""

    repository_name: str
    base_url: str
    protocol_version: str
    earliest_datestamp: str
    deleted_record: str
    granularity: Granularity
    compression: list[str] = field(default_factory=list)
    admin_emails: list[str] = field(default_factory=list)
